// The VM restore watch on a loop: VMClock's counter read from a page that changes under it, and a machine with no source.
import Foundation
import XCTest
@testable import BerthCore
import EventLoop

final class VMRestoreWatchTests: XCTestCase {
    private var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "berth-vmclock-watch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A VMClock page (include/uapi/linux/vmclock-abi.h) with the generation counter present and set to `generation`.
    private func writePage(generation: UInt64, magic: UInt32 = 0x4b4c_4356) throws {
        var page = [UInt8](repeating: 0, count: 4096)
        withUnsafeBytes(of: magic.littleEndian) { page.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt64(1 << 8).littleEndian) { page.replaceSubrange(24..<32, with: $0) }
        withUnsafeBytes(of: generation.littleEndian) { page.replaceSubrange(104..<112, with: $0) }
        if let h = FileHandle(forWritingAtPath: path) {
            try h.write(contentsOf: Data(page))
            try h.close()
        } else {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(page)))
        }
    }

    /// Should say nothing while the counter stands still, and report one `vmclock` restore when it changes.
    func testAChangedVMClockCounterIsARestore() throws {
        try writePage(generation: 3)
        let base = EventBase()
        defer { base.free() }
        var causes: [VMRestoreWatch.Cause] = []
        let watch = VMRestoreWatch(base: base, places: .init(vmgenidDrivers: [], vmclock: path)) { cause in
            causes.append(cause)
            base.stop()
        }
        defer { watch.close() }
        XCTAssertEqual(watch.sources, ["vmclock"])
        XCTAssertEqual(watch.problems, [])
        // Two polls with no change, then the change.
        let change = OneShotTimer(base: base) { try? self.writePage(generation: 4) }
        change.start(after: 600_000_000)
        let guardTimer = OneShotTimer(base: base) { base.stop() }
        guardTimer.start(after: 5_000_000_000)
        let reseedsBefore = ProcessRandom.primaryReseeds()
        base.run()
        guardTimer.cancel()
        XCTAssertEqual(causes, [.vmclock])
        // Every clone of the snapshot would otherwise draw the same TLS randoms and key shares.
        XCTAssertNotNil(reseedsBefore)
        XCTAssertNotEqual(ProcessRandom.primaryReseeds(), reseedsBefore, "OpenSSL's generator was not reseeded at the restore")
    }

    /// Should watch nothing where there is no source, and name a source that exists but is not usable.
    func testNoSourceAndABadSource() throws {
        let base = EventBase()
        defer { base.free() }
        let none = VMRestoreWatch(base: base, places: .init(vmgenidDrivers: [path + "-no-driver"], vmclock: path + "-no-device")) { _ in }
        XCTAssertEqual(none.sources, [])
        XCTAssertEqual(none.problems, [])
        none.close()
        try writePage(generation: 1, magic: 0)
        let bad = VMRestoreWatch(base: base, places: .init(vmgenidDrivers: [], vmclock: path)) { _ in }
        XCTAssertEqual(bad.sources, [])
        XCTAssertEqual(bad.problems.count, 1)
        bad.close()
    }
}
