// Worker.holdingForAdmin: one observation per outermost admin callback, wall and thread CPU time.
import Logging
import XCTest
import EventLoop
@testable import BerthCore

final class AdminHoldTests: XCTestCase {
    private func worker() -> Worker {
        Worker(index: 0, configuration: BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(2), socket: .seconds(5), acquire: .seconds(2))), logger: Logger(label: "hold"))
    }

    /// Should count a nested call as part of the outer hold, and the outer hold as long as its work.
    func testNestedCallsCountOnceForTheWholeHold() {
        let w = worker()
        defer { w.teardown() }
        let result = w.holdingForAdmin { () -> Int in
            let inner = w.holdingForAdmin { () -> Int in
                // ~2 ms of work on this thread: the CPU clock moves with the wall clock.
                let end = MonotonicClock.now() + 2_000_000
                var spins = 0
                while MonotonicClock.now() < end { spins += 1 }
                return spins
            }
            return inner > 0 ? 7 : 0
        }
        XCTAssertEqual(result, 7, "the value comes back through both")
        XCTAssertEqual(w.counters.histogram(.adminLoopHold).count, 1, "one observation for the outer call")
        XCTAssertEqual(w.counters.histogram(.adminLoopCPU).count, 1)
        XCTAssertGreaterThanOrEqual(w.counters.longest(.adminLoopHold), 2_000_000)
        XCTAssertGreaterThan(w.counters.longest(.adminLoopCPU), 0)
        // A second, separate call is a second observation.
        w.holdingForAdmin {}
        XCTAssertEqual(w.counters.histogram(.adminLoopHold).count, 2)
        XCTAssertGreaterThanOrEqual(w.counters.longest(.adminLoopHold), 2_000_000, "the longest stays the longest")
    }

    /// Should record nothing for work outside it: the data path never calls it.
    func testNothingIsRecordedWithoutIt() {
        let w = worker()
        defer { w.teardown() }
        XCTAssertEqual(w.counters.histogram(.adminLoopHold).count, 0)
        XCTAssertEqual(w.counters.longest(.adminLoopHold), 0)
    }
}
