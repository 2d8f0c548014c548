// The caller side of a session as a pure machine: timers and timeout verdicts driven with plain numbers, no sockets.
import XCTest
@testable import BerthCore

final class CallerMachineTests: XCTestCase {
    let idle: Nanos = 60_000
    let header: Nanos = 5_000

    /// Should run the idle timeout from the connect, and close (with nothing to answer) when it fires.
    func testAnIdleCallerIsClosedWithoutAnAnswer() {
        let m = CallerMachine()
        XCTAssertEqual(m.started(idleTimeout: idle), .arm(after: idle))
        XCTAssertTrue(m.isIdle)
        XCTAssertTrue(m.awaitingHead)
        XCTAssertEqual(m.timedOut(now: 60_000), .close)
    }

    /// Should start the header timeout at a head's first byte and not move it while the rest dribbles in (slowloris).
    func testTheHeaderTimeoutRunsFromTheFirstByteWhateverThePace() {
        var m = CallerMachine()
        XCTAssertEqual(m.headBytes(now: 1_000, headerTimeout: header), .arm(after: header))
        XCTAssertEqual(m.state, .readingHead(since: 1_000))
        XCTAssertFalse(m.isIdle, "a half-read head is not idle: shutdown lets it finish")
        for t in stride(from: Nanos(1_100), to: 5_900, by: 400) {
            XCTAssertEqual(m.headBytes(now: t, headerTimeout: header), .keep, "byte at \(t) must not extend the deadline")
        }
        XCTAssertEqual(m.state, .readingHead(since: 1_000))
        XCTAssertEqual(m.timedOut(now: 6_000), .headerTimeout)
    }

    /// Should stop every caller deadline once the head is complete, and start a fresh header timeout for the next head.
    func testACompleteHeadClearsTheDeadlineAndTheNextHeadStartsItsOwn() {
        var m = CallerMachine()
        _ = m.headBytes(now: 1_000, headerTimeout: header)
        XCTAssertEqual(m.headComplete(), .clear)
        XCTAssertFalse(m.awaitingHead)
        m.exchanging()
        XCTAssertEqual(m.nextRequest(idleTimeout: idle), .arm(after: idle))
        XCTAssertEqual(m.state, .idle)
        XCTAssertEqual(m.headBytes(now: 90_000, headerTimeout: header), .arm(after: header))
        XCTAssertEqual(m.state, .readingHead(since: 90_000))
    }

    /// Should answer a pool-queue timeout as an acquire timeout and say since when the request waited.
    func testAQueuedRequestTimesOutAsAnAcquireTimeout() {
        var m = CallerMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        XCTAssertNil(m.queuedSince)
        XCTAssertEqual(m.queued(now: 2_000, limit: 1_000), .arm(after: 1_000))
        XCTAssertEqual(m.queuedSince, 2_000)
        XCTAssertEqual(m.timedOut(now: 3_050), .acquireTimedOut(waited: 1_050))
        XCTAssertEqual(m.waitEnded(), .clear)
    }

    /// Should leave a connect's deadline to the Connector: the caller's timer means nothing while routing or connecting.
    func testRoutingAndConnectingIgnoreTheCallerTimer() {
        var m = CallerMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        XCTAssertEqual(m.state, .routing, "a complete head is routed before any upstream exists")
        XCTAssertEqual(m.timedOut(now: 700), .ignore)
        m.connecting()
        XCTAssertEqual(m.timedOut(now: 800), .ignore, "a connect's timeout is the Connector's, not the caller's")
    }

    /// Should allow only the transitions a session can make: no exchange before a head, nothing after closed.
    func testOnlyLegalTransitionsAreAllowed() {
        typealias S = CallerMachine.State
        XCTAssertTrue(CallerMachine.allowed(from: .readingHead(since: 0), to: .routing))
        XCTAssertFalse(CallerMachine.allowed(from: .idle, to: .exchanging), "no upstream exists before a head")
        XCTAssertFalse(CallerMachine.allowed(from: .readingHead(since: 0), to: .exchanging))
        XCTAssertFalse(CallerMachine.allowed(from: .idle, to: .acquiring(since: 0)))
        XCTAssertFalse(CallerMachine.allowed(from: .tunnel, to: .idle), "a tunnel never goes back to HTTP")
        XCTAssertFalse(CallerMachine.allowed(from: .closed, to: .idle))
        XCTAssertFalse(CallerMachine.allowed(from: .closing, to: .closing))
        XCTAssertTrue(CallerMachine.allowed(from: .exchanging, to: .connecting), "a retry opens a fresh connection")
        XCTAssertTrue(CallerMachine.allowed(from: .acquiring(since: 1), to: .idle), "berth answered a queued request")
    }

    /// Should close a caller that stopped reading mid-exchange or mid-tunnel, and re-arm the idle timeout on traffic.
    func testExchangesAndTunnelsCloseOnTheCallerTimer() {
        var m = CallerMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        m.exchanging()
        XCTAssertEqual(CallerMachine.callerBackedUp(idleTimeout: idle), .arm(after: idle))
        XCTAssertEqual(m.timedOut(now: 1), .close)
        XCTAssertEqual(CallerMachine.upstreamFlowing, .clear)
        m.tunnel()
        XCTAssertEqual(m.state, .tunnel)
        XCTAssertEqual(m.timedOut(now: 2), .close)
    }

    /// Should close at once with nothing left to write, and otherwise wait for the flush under the idle timeout.
    func testClosingWaitsOnlyForOutputThatIsLeft() {
        var a = CallerMachine()
        XCTAssertEqual(a.closing(outputPending: false, idleTimeout: idle), .now)
        var b = CallerMachine()
        XCTAssertEqual(b.closing(outputPending: true, idleTimeout: idle), .afterFlush(.arm(after: idle)))
        XCTAssertEqual(b.state, .closing)
        XCTAssertEqual(b.timedOut(now: 1), .close)
    }

    /// Should report the state it closed from once, so what the session holds (a queue place) is given back once.
    func testCloseReportsThePreviousStateOnce() {
        var m = CallerMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        _ = m.queued(now: 10, limit: 100)
        XCTAssertEqual(m.close(), .acquiring(since: 10))
        XCTAssertEqual(m.close(), .closed)
        XCTAssertEqual(m.timedOut(now: 500), .ignore)
        XCTAssertFalse(m.awaitingHead)
        XCTAssertFalse(m.isIdle)
    }
}
