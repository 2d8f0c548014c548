// The inotify watch on a loop: writes and removals reach the handler on the loop's thread, and removed ones stop.
import Foundation
import XCTest
@testable import EventLoop

final class FileWatchTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "berth-filewatch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `base` until a change arrives or 2 s pass; returns the changes of that wake-up.
    private func changes(on base: EventBase, after act: () -> Void, into seen: Box) -> [FileWatch.Change] {
        seen.changes = []
        let guardTimer = OneShotTimer(base: base) { base.stop() }
        guardTimer.start(after: 2_000_000_000)
        act()
        base.run()
        guardTimer.cancel()
        return seen.changes
    }

    /// Collects what the watch reports and stops the loop.
    final class Box {
        var changes: [FileWatch.Change] = []
    }

    /// Should report a write to a watched file, an entry removed from a watched directory, one ID per inode, and
    /// nothing after a registration is removed.
    func testWritesAndRemovalsAreReportedUntilRemoved() throws {
        let base = EventBase()
        defer { base.free() }
        let seen = Box()
        let watch = try FileWatch(base: base) { change in
            seen.changes.append(change)
            base.stop()
        }
        defer { watch.close() }
        let file = dir + "/cgroup.events"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("frozen 0\n".utf8)))
        let contents = try watch.watchContents(of: file)
        XCTAssertEqual(try watch.watchContents(of: dir + "/./cgroup.events"), contents, "the kernel names an inode once")
        XCTAssertEqual(changes(on: base, after: { append(file, "frozen 1\n") }, into: seen), [.modified(contents)])

        let child = dir + "/child.scope"
        try FileManager.default.createDirectory(atPath: child, withIntermediateDirectories: false)
        let removals = try watch.watchRemovals(in: dir)
        XCTAssertEqual(changes(on: base, after: { rmdir(child) }, into: seen), [.removed(removals, name: "child.scope")])

        watch.remove(contents)
        XCTAssertEqual(changes(on: base, after: { append(file, "frozen 0\n") }, into: seen), [], "a removed registration is quiet")
    }

    /// Should refuse a path that is not there with the system's reason, and a file where a directory is wanted.
    func testBadPathsFailWithTheirErrno() throws {
        let base = EventBase()
        defer { base.free() }
        let watch = try FileWatch(base: base) { _ in }
        defer { watch.close() }
        XCTAssertThrowsError(try watch.watchContents(of: dir + "/missing")) { error in
            XCTAssertEqual((error as? FileWatch.Failure)?.errno, ENOENT)
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/plain", contents: Data()))
        XCTAssertThrowsError(try watch.watchRemovals(in: dir + "/plain")) { error in
            XCTAssertEqual((error as? FileWatch.Failure)?.errno, ENOTDIR)
        }
    }
}

/// Appends `text` to the file at `path`, as the kernel's write to cgroup.events would change it.
private func append(_ path: String, _ text: String) {
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    handle.closeFile()
}
