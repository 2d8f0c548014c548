// The loop's pass count: each poll libevent makes is counted by berth's own epoll_wait, for the loop that polled.
import XCTest
@testable import EventLoop

final class LoopPassTests: XCTestCase {
    /// libevent's polls reach CLoopPolls' `epoll_wait` (exported from the executable): a loop woken by three timers
    /// in turn polls at least three times. Were the export lost, the count would stand still and every checkout
    /// would read its connection once more (h-perf5 in performance.md).
    func testEachPollOfTheRunningLoopCountsAPass() {
        let base = EventBase()
        var timers: [OneShotTimer] = []
        var fired = 0
        func arm() {
            let timer = OneShotTimer(base: base) {
                fired += 1
                if fired < 3 { arm() } else { base.stop() }
            }
            timers.append(timer)
            timer.start(after: 1_000_000)
        }
        arm()
        let before = base.pass.count
        base.run()
        XCTAssertEqual(fired, 3)
        XCTAssertGreaterThanOrEqual(base.pass.count - before, 3, "each timer's wake-up was a poll")
        // The loop has stopped: another loop's polls on this thread are not counted as its passes.
        let other = EventBase()
        let stopper = OneShotTimer(base: other) { other.stop() }
        stopper.start(after: 1_000_000)
        let stopped = base.pass.count
        other.run()
        XCTAssertEqual(base.pass.count, stopped)
        XCTAssertGreaterThanOrEqual(other.pass.count, 1)
        other.free()
        base.free()
        _ = timers
    }
}
