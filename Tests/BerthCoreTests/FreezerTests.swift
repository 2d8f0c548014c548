// The freezer watch's pure parts: the cgroup probe, the state files, transitions, the v1 poll schedule, pause holds.
import XCTest
@testable import BerthCore

/// A file system of a few paths: directories, and files with their text.
private func fakeFS(dirs: Set<String>, files: [String: FileRead]) -> CgroupFS {
    CgroupFS(
        entry: { dirs.contains($0) ? .directory : (files[$0] != nil ? .other : .missing) },
        read: { files[$0] ?? .missing })
}

final class CgroupProbeTests: XCTestCase {
    /// Should find cgroup v2 by cgroup.events and v1 by freezer.state, preferring v2.
    func testEachVersionIsFoundByItsStateFile() throws {
        let v2 = fakeFS(dirs: ["/cg/a"], files: ["/cg/a/cgroup.events": .text("populated 1\nfrozen 0\n")])
        XCTAssertEqual(try CgroupFreezer.probe("/cg/a/", in: v2), CgroupFreezer(directory: "/cg/a", version: .v2))
        let v1 = fakeFS(dirs: ["/fz/a"], files: ["/fz/a/freezer.state": .text("THAWED\n")])
        XCTAssertEqual(try CgroupFreezer.probe("/fz/a", in: v1).version, .v1)
        let c = CgroupFreezer(directory: "/sys/fs/cgroup/x.slice/c.scope", version: .v2)
        XCTAssertEqual(c.parent, "/sys/fs/cgroup/x.slice")
        XCTAssertEqual(c.name, "c.scope")
        XCTAssertEqual(c.stateFile, "/sys/fs/cgroup/x.slice/c.scope/cgroup.events")
        XCTAssertEqual(CgroupFreezer(directory: "/c", version: .v1).parent, "/")
    }

    /// Should say why a path is not a cgroup with a freezer, one sentence per reason.
    func testEveryBadPathGetsItsReason() {
        let fs = fakeFS(dirs: ["/cg", "/cg/old", "/cg/locked", "/cg/odd"], files: [
            "/etc/passwd": .text("root:x:0:0"),
            "/cg/old/cgroup.events": .text("populated 1\n"),
            "/cg/locked/cgroup.events": .failed("Permission denied"),
            "/cg/odd/freezer.state": .text("MELTING\n"),
        ])
        func reason(_ path: String) -> String {
            do throws(FreezerError) {
                _ = try CgroupFreezer.probe(path, in: fs)
                return "accepted"
            } catch {
                return error.message
            }
        }
        XCTAssertTrue(reason("cg/a").hasPrefix("cgroup must be an absolute path"))
        XCTAssertEqual(reason("/"), "/ is not a cgroup directory")
        XCTAssertEqual(reason("/nope"), "no such cgroup directory: /nope")
        XCTAssertEqual(reason("/etc/passwd"), "/etc/passwd is not a directory")
        XCTAssertTrue(reason("/cg").hasPrefix("/cg is not a cgroup with a freezer: it has neither cgroup.events"))
        XCTAssertEqual(reason("/cg/old"), "/cg/old/cgroup.events has no frozen line: the cgroup v2 freezer needs Linux 5.2 or later")
        XCTAssertEqual(reason("/cg/locked"), "cannot read /cg/locked/cgroup.events: Permission denied")
        XCTAssertEqual(reason("/cg/odd"), "/cg/odd/freezer.state does not say THAWED, FREEZING or FROZEN")
    }

    /// Should read the kernel's texts, FREEZING as frozen, and nothing else.
    func testStateFilesAreRead() {
        XCTAssertEqual(CgroupFreezer.parseEvents("populated 1\nfrozen 1\n"), FreezerReading(frozen: true, populated: true))
        XCTAssertEqual(CgroupFreezer.parseEvents("populated 0\nfrozen 0\n"), FreezerReading(frozen: false, populated: false))
        XCTAssertNil(CgroupFreezer.parseEvents("populated 1\n"))
        XCTAssertNil(CgroupFreezer.parseEvents("frozen yes\n"))
        XCTAssertEqual(CgroupFreezer.parseState("FROZEN\n"), FreezerReading(frozen: true))
        XCTAssertEqual(CgroupFreezer.parseState("FREEZING\n"), FreezerReading(frozen: true))
        XCTAssertEqual(CgroupFreezer.parseState("THAWED\n"), FreezerReading(frozen: false))
        XCTAssertNil(CgroupFreezer.parseState(""))
    }
}

final class FreezerTrackerTests: XCTestCase {
    let thawed = FreezerReading(frozen: false, populated: true)
    let frozen = FreezerReading(frozen: true, populated: true)

    /// Should turn a change of the frozen line into a pause or a resume, and the same reading again into nothing.
    func testFreezeAndThawAreSeen() {
        var t = FreezerTracker(first: thawed)
        XCTAssertEqual(t.observe(frozen, notified: true), .froze)
        XCTAssertEqual(t.observe(frozen, notified: false), .none)
        XCTAssertEqual(t.observe(thawed, notified: true), .thawed)
        XCTAssertEqual(t.observe(thawed, notified: false), .none)
        XCTAssertEqual(t.observe(nil, notified: true), .gone)
    }

    /// Should take a notification that changed nothing visible for a freeze and thaw inotify folded into one, unless
    /// `populated` explains it; and a frozen cgroup notified again stays paused.
    func testAFoldedFreezeIsNotMissed() {
        var t = FreezerTracker(first: thawed)
        XCTAssertEqual(t.observe(thawed, notified: true), .frozeAndThawed)
        XCTAssertEqual(t.observe(FreezerReading(frozen: false, populated: false), notified: true), .none)
        XCTAssertEqual(t.observe(FreezerReading(frozen: true, populated: false), notified: true), .froze)
        XCTAssertEqual(t.observe(FreezerReading(frozen: true, populated: false), notified: true), .none)
    }

    /// Should pause on a freeze asked for that the kernel has not finished (`cgroup.freeze` 1, `frozen 0`: a task in
    /// uninterruptible sleep), resume when it is taken back, and not take the state file's own later report of the
    /// same freeze or thaw for a freeze it did not see.
    func testAFreezeAskedForPausesAndItsSecondReportChangesNothing() {
        var t = FreezerTracker(first: thawed)
        XCTAssertEqual(t.observe(thawed, requested: true, notified: true, requestOnly: true), .froze)
        XCTAssertEqual(t.observe(frozen, requested: true, notified: true), .none, "the kernel finished it")
        XCTAssertEqual(t.observe(thawed, notified: true, requestOnly: true), .thawed)
        XCTAssertEqual(t.observe(thawed, notified: true), .none, "the thaw's own report")
        // Never finished: asked for, then taken back, and the state file never spoke.
        XCTAssertEqual(t.observe(thawed, requested: true, notified: true, requestOnly: true), .froze)
        XCTAssertEqual(t.observe(thawed, notified: true, requestOnly: true), .thawed)
        // A write of 0 to a thawed cgroup is reported too, and changes nothing.
        XCTAssertEqual(t.observe(thawed, notified: true, requestOnly: true), .none)
        XCTAssertTrue(FreezerTracker(first: thawed, requested: true).last.frozen, "asked for when the watch began")
        // The freeze's own report late, after the thaw's write was seen: explained, not a freeze unseen.
        var late = FreezerTracker(first: thawed)
        XCTAssertEqual(late.observe(thawed, requested: true, notified: true, requestOnly: true), .froze)
        XCTAssertEqual(late.observe(thawed, notified: true, requestOnly: true), .thawed)
        XCTAssertEqual(late.observe(thawed, notified: true), .none, "the freeze's report, after the thaw")
        XCTAssertEqual(late.observe(thawed, notified: true), .frozeAndThawed, "one more, unexplained")
    }
}

final class FreezerPollTests: XCTestCase {
    let ms: Nanos = 1_000_000

    /// Should poll on a fixed grid from the first watch, skip the slots a late turn missed, and wait out an early one.
    func testPollsFallOnAGrid() {
        var p = FreezerPoll(interval: 100 * ms)
        XCTAssertEqual(p.added(now: 0), 100 * ms)
        XCTAssertNil(p.added(now: 30 * ms), "a second watch joins the running schedule")
        XCTAssertTrue(p.fired(now: 100 * ms) == (true, 100 * ms))
        XCTAssertTrue(p.fired(now: 199 * ms) == (false, 1 * ms), "early: wait for the rest")
        XCTAssertTrue(p.fired(now: 200 * ms) == (true, 100 * ms))
        // The loop was busy for 350 ms: one read now, and the grid goes on at 600.
        XCTAssertTrue(p.fired(now: 550 * ms) == (true, 50 * ms))
        XCTAssertEqual(p.due, 600 * ms)
        p.removed()
        p.removed()
        XCTAssertNil(p.due)
        XCTAssertTrue(p.fired(now: 600 * ms) == (false, nil), "nothing watched: the timer stays off")
        XCTAssertEqual(p.added(now: 700 * ms), 100 * ms)
    }

    /// Should see every freeze and thaw of a v1 cgroup within one interval of the change (plus the loop's lateness),
    /// and miss a freeze shorter than the gap between two polls: the documented cost of polling. A simulated
    /// cgroup flips at seeded random times; the clock is the test's.
    func testV1ChangesAreSeenWithinOneInterval() {
        var rng = SeededRandom(state: 13)
        let interval = 100 * ms
        var poll = FreezerPoll(interval: interval)
        var tracker = FreezerTracker(first: FreezerReading(frozen: false))
        var frozen = false
        var changes: [(at: Nanos, frozen: Bool)] = []
        var t: Nanos = 0
        for _ in 0..<400 {
            t += Nanos.random(in: (150 * ms)...(2_000 * ms), using: &rng)
            frozen.toggle()
            changes.append((t, frozen))
        }
        // One short freeze, all of it between two polls.
        let shortAt = (t / interval + 3) * interval + 10 * ms
        changes.append((shortAt, !frozen))
        changes.append((shortAt + 50 * ms, frozen))
        func state(at now: Nanos) -> Bool { changes.last { $0.at <= now }?.frozen ?? false }

        var next: Nanos? = poll.added(now: 0)
        var now: Nanos = 0
        var seen: [(at: Nanos, transition: FreezerTransition)] = []
        while let delay = next, now < shortAt + 500 * ms {
            // The loop runs each timer up to 5 ms late.
            now += delay + Nanos.random(in: 0...(5 * ms), using: &rng)
            let (read, after) = poll.fired(now: now)
            next = after
            if read {
                let transition = tracker.observe(FreezerReading(frozen: state(at: now)), notified: false)
                if transition != .none { seen.append((now, transition)) }
            }
        }
        let real = changes.dropLast(2)
        XCTAssertEqual(seen.count, real.count, "every change longer than the interval is seen, the short freeze is not")
        for (change, sight) in zip(real, seen) {
            XCTAssertEqual(sight.transition, change.frozen ? .froze : .thawed)
            XCTAssertLessThanOrEqual(sight.at - change.at, interval + 5 * ms, "seen \(sight.at - change.at) ns after the change")
        }
    }
}

final class PauseHoldsTests: XCTestCase {
    /// Should resume only when neither the API nor the watch holds the upstream, in either order.
    func testHoldsCompose() {
        var h = PauseHolds()
        XCTAssertEqual(h.take(.watch), .pause)
        XCTAssertEqual(h.take(.api), .join)
        XCTAssertEqual(h.heldBy, "both")
        XCTAssertEqual(h.release(.api), .stillHeld)
        XCTAssertEqual(h.heldBy, "watch")
        XCTAssertEqual(h.release(.watch), .resume)
        XCTAssertNil(h.heldBy)
        XCTAssertEqual(h.take(.api), .pause)
        XCTAssertEqual(h.take(.api), .renew)
        XCTAssertEqual(h.take(.watch), .join)
        XCTAssertEqual(h.release(.watch), .stillHeld)
        XCTAssertEqual(h.release(.watch), .notHeld)
        XCTAssertEqual(h.release(.api), .resume)
        XCTAssertEqual(h.release(.api), .notHeld)
    }

    /// Should count a pause under the source that began it, a joined pause under both, and each return to active.
    func testPausesAreCountedByCause() {
        var h = PauseHolds()
        _ = h.take(.api); _ = h.release(.api)
        _ = h.take(.watch); _ = h.release(.watch)
        _ = h.take(.watch); _ = h.take(.api); _ = h.release(.watch); _ = h.release(.api)
        _ = h.take(.api); _ = h.take(.api); _ = h.release(.api)
        XCTAssertEqual(h.counts, PauseCounts(api: 2, watch: 2, both: 1, resumes: 4))
        var other = h
        _ = other.take(.api)
        h.merge(other)
        XCTAssertEqual(h.counts.api, 3, "workers count the same pauses: the merge takes the largest")
        XCTAssertTrue(h.api)
    }
}
