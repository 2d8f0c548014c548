// The channel deadline's rules, driven with explicit times instead of sleeps.
import XCTest
@testable import EventLoop

final class LazyDeadlineTests: XCTestCase {
    func testFirstDeadlineArmsTheTimer() {
        var d = LazyDeadline()
        XCTAssertEqual(d.set(500, now: 1_000), .arm(after: 500))
        XCTAssertEqual(d.wanted, 1_500)
        XCTAssertEqual(d.armed, 1_500)
    }

    func testLaterDeadlineKeepsTheArmedTimerAndItRearmsForTheRest() {
        var d = LazyDeadline()
        _ = d.set(500, now: 1_000)
        // The owner moves the deadline later, as each new request does: no timer update now.
        XCTAssertEqual(d.set(500, now: 1_200), .keep)
        XCTAssertEqual(d.armed, 1_500)
        // The timer fires at the old time: early, so it re-arms for what is left.
        XCTAssertEqual(d.fired(now: 1_500), .rearm(after: 200))
        XCTAssertEqual(d.armed, 1_700)
        XCTAssertEqual(d.fired(now: 1_700), .timedOut)
        XCTAssertEqual(d.wanted, 0)
        XCTAssertEqual(d.armed, 0)
    }

    func testEarlierDeadlineArmsAtOnce() {
        var d = LazyDeadline()
        _ = d.set(5_000, now: 0)
        XCTAssertEqual(d.set(100, now: 10), .arm(after: 100))
        XCTAssertEqual(d.fired(now: 110), .timedOut)
    }

    func testClearedDeadlineIsIgnoredWhenTheTimerFires() {
        var d = LazyDeadline()
        _ = d.set(500, now: 0)
        d.clear()
        XCTAssertEqual(d.fired(now: 500), .ignore)
        // Nothing armed any more: the next deadline arms the timer again.
        XCTAssertEqual(d.set(300, now: 600), .arm(after: 300))
    }

    func testLateFiringStillTimesOut() {
        var d = LazyDeadline()
        _ = d.set(100, now: 0)
        // A busy loop can run the timer callback well after its time.
        XCTAssertEqual(d.fired(now: 10_000), .timedOut)
        XCTAssertEqual(d.fired(now: 10_001), .ignore)
    }
}
