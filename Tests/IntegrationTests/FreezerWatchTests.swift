// The freezer watch on a worker's loop, over stand-in cgroup files in a temporary directory (inotify and pread
// behave on them as on cgroupfs), so no root and no cgroup mount are needed; tests/e2e uses real cgroups.
import Foundation
import Glibc
import XCTest
import EventLoop
@testable import BerthCore

final class FreezerWatchTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "berth-freezer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root + "/cg", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes a cgroup.events text in place with one pwrite, as the kernel's update reaches readers in one piece.
    private func setEvents(frozen: Bool, populated: Bool = true, in dir: String) {
        let fd = open(dir + "/cgroup.events", O_WRONLY | O_CREAT, 0o644)
        let text = "populated \(populated ? 1 : 0)\nfrozen \(frozen ? 1 : 0)\n"
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        close(fd)
    }

    /// Polls the loop until `ready` holds for `key`'s pool, or 5 s pass.
    private func wait(_ handle: WorkerHandle, _ key: PoolKey, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                      until ready: @escaping (Upstream?) -> Bool) {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if handle.onLoop({ ready($0.manager.existingPool(key)) }) { return }
            usleep(5_000)
        }
        XCTFail("timed out waiting for \(what)", file: file, line: line)
    }

    /// Should pause the upstream when its cgroup.events says frozen (closing the pooled connection and holding a new
    /// request), resume it with a new epoch when it says thawed (the held request then goes out on a new
    /// connection), and forget it when the cgroup directory is removed.
    func testAV2CgroupPausesResumesAndForgetsTheUpstream() throws {
        let origin = try TestOrigin()
        defer { origin.shutdownListener() }
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let dir = root + "/cg/app.scope"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        setEvents(frozen: false, in: dir)
        let key = PoolKey(host: "127.0.0.1", port: origin.port)
        let cgroup = try CgroupFreezer.probe(dir, in: CgroupFile.system)
        XCTAssertEqual(cgroup.version, .v2)
        let caller = try TestCaller(port: handle.port)
        XCTAssertEqual(caller.get("/before", upstreamPort: origin.port)?.status, "HTTP/1.1 200 OK")
        let held = handle.onLoop { w in (try? w.manager.watch(key, cgroup: cgroup, source: .api, now: MonotonicClock.now()))?.holds.isHeld }
        XCTAssertEqual(held, false)

        setEvents(frozen: true, in: dir)
        wait(handle, key, "the watch's pause") { $0?.state.isPaused == true && $0?.holds.heldBy == "watch" }
        XCTAssertEqual(handle.counters(origin.port)?.closedCount(.paused), 1, "the pooled connection was closed at the freeze")
        caller.sendGet("/during", upstreamPort: origin.port)
        wait(handle, key, "the request to be held") { $0?.state.waiters.count == 1 }

        setEvents(frozen: false, in: dir)
        XCTAssertEqual(caller.readResponse()?.status, "HTTP/1.1 200 OK")
        let (epoch, counts) = handle.onLoop { w in
            (w.manager.existingPool(key)?.state.epoch, w.manager.existingPool(key)?.holds.counts)
        }
        XCTAssertEqual(epoch, 2)
        XCTAssertEqual(counts, PauseCounts(api: 0, watch: 1, both: 0, resumes: 1))
        XCTAssertEqual(origin.accepted, 2, "the held request went out on a new connection")

        try FileManager.default.removeItem(atPath: dir + "/cgroup.events")
        XCTAssertEqual(rmdir(dir), 0)
        wait(handle, key, "the removed cgroup's upstream to be forgotten") { $0 == nil }
        XCTAssertEqual(handle.onLoop { $0.manager.freezer?.info(key) }, nil)
    }

    /// Should keep the upstream paused until both the API and the watch let go, whichever lets go first.
    func testTheAPIAndTheWatchMustBothLetGo() throws {
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let dir = root + "/cg/both.scope"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        setEvents(frozen: false, in: dir)
        let key = PoolKey(host: "127.0.0.1", port: 9)
        let cgroup = try CgroupFreezer.probe(dir, in: CgroupFile.system)
        handle.onLoop { w in
            _ = try? w.manager.watch(key, cgroup: cgroup, source: .api, now: MonotonicClock.now())
            _ = w.manager.pause(key, rejectNew: true, hold: nil, now: MonotonicClock.now())
        }
        setEvents(frozen: true, in: dir)
        wait(handle, key, "both to hold") { $0?.holds.heldBy == "both" }
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.state.mode }, .paused(rejectNew: true), "the watch kept the API's mode")
        // The orchestrator resumes while the kernel still has the container frozen: it stays paused, in hold mode.
        let afterAPI = handle.onLoop { w in
            let p = w.manager.resume(key, now: MonotonicClock.now()).pools[0]
            return (p.state.mode, p.state.epoch, p.holds.heldBy)
        }
        XCTAssertTrue(afterAPI == (.paused(rejectNew: false), 1, "watch"), "\(afterAPI)")
        _ = handle.onLoop { $0.manager.pause(key, rejectNew: false, hold: nil, now: MonotonicClock.now()) }
        setEvents(frozen: false, in: dir)
        wait(handle, key, "the thaw to leave the API's hold") { $0?.holds.heldBy == "api" }
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.state.isPaused }, true)
        let resumed = handle.onLoop { $0.manager.resume(key, now: MonotonicClock.now()).pools[0].state }
        XCTAssertFalse(resumed.isPaused)
        XCTAssertEqual(resumed.epoch, 2, "one pause, one resume")
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.holds.counts },
                       PauseCounts(api: 1, watch: 0, both: 2, resumes: 1))
    }

    /// Should poll a v1 freezer.state at the configured interval and follow FROZEN and THAWED.
    func testAV1CgroupIsPolled() throws {
        let handle = try WorkerHandle { $0.timeouts.freezerPoll = .milliseconds(20) }
        defer { handle.stop() }
        let dir = root + "/cg/v1"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        let state = dir + "/freezer.state"
        try "THAWED\n".write(toFile: state, atomically: false, encoding: .utf8)
        let key = PoolKey(host: "127.0.0.1", port: 9)
        let cgroup = try CgroupFreezer.probe(dir, in: CgroupFile.system)
        XCTAssertEqual(cgroup.version, .v1)
        handle.onLoop { w in _ = try? w.manager.watch(key, cgroup: cgroup, source: .api, now: MonotonicClock.now()) }
        let started = Date()
        try "FROZEN\n".write(toFile: state, atomically: false, encoding: .utf8)
        wait(handle, key, "the poll to see FROZEN") { $0?.holds.heldBy == "watch" }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.0)
        try "THAWED\n".write(toFile: state, atomically: false, encoding: .utf8)
        wait(handle, key, "the poll to see THAWED") { $0?.state.isPaused == false }
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.state.epoch }, 2)
        XCTAssertNotNil(handle.onLoop { $0.manager.unwatch(key, now: MonotonicClock.now()) })
        XCTAssertNil(handle.onLoop { $0.manager.freezer?.info(key) })
    }

    /// Should put back the watch a worker had when another worker refused a /watch that moved the upstream: the
    /// frozen cgroup is watched again and holds the upstream paused, the moved-to one is not watched.
    func testTakingBackAMoveRestoresTheFrozenWatch() throws {
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let frozen = root + "/cg/frozen.scope", other = root + "/cg/other.scope"
        for (dir, isFrozen) in [(frozen, true), (other, false)] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            setEvents(frozen: isFrozen, in: dir)
        }
        let key = PoolKey(host: "127.0.0.1", port: 9)
        let first = try CgroupFreezer.probe(frozen, in: CgroupFile.system)
        let second = try CgroupFreezer.probe(other, in: CgroupFile.system)
        let moved = handle.onLoop { w in
            _ = try? w.manager.watch(key, cgroup: first, source: .config, now: MonotonicClock.now())
            let previous = w.manager.freezer?.current(key)
            _ = try? w.manager.watch(key, cgroup: second, source: .api, now: MonotonicClock.now())
            let after = w.manager.existingPool(key)?.holds.heldBy
            return (after, w.manager.takeBackWatch(key, to: previous, now: MonotonicClock.now()))
        }
        XCTAssertTrue(moved == (nil, true), "the move resumed it; taking it back watches again: \(moved)")
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.holds.heldBy }, "watch")
        XCTAssertEqual(handle.onLoop { $0.manager.freezer?.info(key) },
                       FreezerWatchInfo(cgroup: frozen, version: .v2, frozen: true, source: .config))
        setEvents(frozen: false, in: frozen)
        wait(handle, key, "the first cgroup's thaw") { $0?.state.isPaused == false }
    }

    /// Should leave alone a /watch made after a reload's reconcile when that reload's refused watches are taken back:
    /// the API's word came last, as a reconcile leaves an API watch alone (review17: the take-back ended it).
    func testAReloadsTakeBackLeavesALaterAPIWatch() throws {
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let configured = root + "/cg/configured.scope", api = root + "/cg/api.scope"
        for (dir, isFrozen) in [(configured, false), (api, true)] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            setEvents(frozen: isFrozen, in: dir)
        }
        let key = PoolKey(host: "127.0.0.1", port: 9)
        let made = try CgroupFreezer.probe(configured, in: CgroupFile.system)
        let asked = try CgroupFreezer.probe(api, in: CgroupFile.system)
        handle.onLoop { w in
            // The reload's reconcile made the configured watch, which had none before (another worker refused it).
            _ = try? w.manager.watch(key, cgroup: made, source: .config, now: MonotonicClock.now(), settle: false)
            var before: [PoolKey: (cgroup: CgroupFreezer, source: WatchSource)?] = [:]
            before.updateValue(nil, forKey: key)
            w.manager.freezer?.beforeReconcile = before
            // /watch, before every worker's report of the reload came back.
            _ = try? w.manager.watch(key, cgroup: asked, source: .api, now: MonotonicClock.now())
            w.manager.takeBackWatches([key], now: MonotonicClock.now())
        }
        XCTAssertEqual(handle.onLoop { $0.manager.freezer?.info(key) },
                       FreezerWatchInfo(cgroup: api, version: .v2, frozen: true, source: .api))
        XCTAssertEqual(handle.onLoop { $0.manager.existingPool(key)?.holds.heldBy }, "watch")
    }

    /// Should end the watch with the entry: /evict?forget=true on a watched upstream leaves nothing behind.
    func testForgettingAWatchedUpstreamEndsItsWatch() throws {
        let handle = try WorkerHandle()
        defer { handle.stop() }
        let dir = root + "/cg/gone.scope"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        setEvents(frozen: true, in: dir)
        let key = PoolKey(host: "127.0.0.1", port: 9)
        let cgroup = try CgroupFreezer.probe(dir, in: CgroupFile.system)
        let heldBy = handle.onLoop { w in (try? w.manager.watch(key, cgroup: cgroup, source: .api, now: MonotonicClock.now()))?.holds.heldBy }
        XCTAssertEqual(heldBy, "watch", "a cgroup frozen when the watch begins pauses at once")
        XCTAssertEqual(handle.onLoop { $0.manager.forget(key) }, true)
        XCTAssertNil(handle.onLoop { $0.manager.freezer?.info(key) })
        setEvents(frozen: false, in: dir)
        usleep(100_000)
        XCTAssertNil(handle.onLoop { $0.manager.existingPool(key) }, "no watch brought the entry back")
    }
}
