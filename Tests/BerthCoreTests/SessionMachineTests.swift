// A session's one state as a pure machine: timers, timeout verdicts and the transition table driven with plain numbers, no sockets.
import EventLoop
import XCTest
@testable import BerthCore

final class SessionMachineTests: XCTestCase {
    let idle: Nanos = 60_000
    let header: Nanos = 5_000

    /// Should run the idle timeout from the connect, and close (with nothing to answer) when it fires.
    func testAnIdleCallerIsClosedWithoutAnAnswer() {
        let m = SessionMachine()
        XCTAssertEqual(m.started(idleTimeout: idle), .arm(after: idle))
        XCTAssertTrue(m.isIdle)
        XCTAssertTrue(m.awaitingHead)
        XCTAssertEqual(m.timedOut(now: 60_000), .close)
    }

    /// Should start the header timeout at a head's first byte and not move it while the rest dribbles in (slowloris).
    func testTheHeaderTimeoutRunsFromTheFirstByteWhateverThePace() {
        var m = SessionMachine()
        XCTAssertEqual(m.headBytes(now: 1_000, headerTimeout: header), .arm(after: header))
        XCTAssertEqual(m.phase, .readingHead(since: 1_000))
        XCTAssertFalse(m.isIdle, "a half-read head is not idle: shutdown lets it finish")
        for t in stride(from: Nanos(1_100), to: 5_900, by: 400) {
            XCTAssertEqual(m.headBytes(now: t, headerTimeout: header), .keep, "byte at \(t) must not extend the deadline")
        }
        XCTAssertEqual(m.phase, .readingHead(since: 1_000))
        XCTAssertEqual(m.timedOut(now: 6_000), .headerTimeout)
    }

    /// Should stop every caller deadline once the head is complete, and start a fresh header timeout for the next head.
    func testACompleteHeadClearsTheDeadlineAndTheNextHeadStartsItsOwn() {
        var m = SessionMachine()
        _ = m.headBytes(now: 1_000, headerTimeout: header)
        XCTAssertEqual(m.headComplete(), .clear)
        XCTAssertFalse(m.awaitingHead)
        // (An exchange in between holds a lease; its timers are the relay's. Routing may end in berth's own answer.)
        XCTAssertEqual(m.nextRequest(idleTimeout: idle), .arm(after: idle))
        XCTAssertEqual(m.phase, .idle)
        XCTAssertEqual(m.headBytes(now: 90_000, headerTimeout: header), .arm(after: header))
        XCTAssertEqual(m.phase, .readingHead(since: 90_000))
    }

    /// Should answer a pool-queue timeout as an acquire timeout and say since when the request waited.
    func testAQueuedRequestTimesOutAsAnAcquireTimeout() {
        var m = SessionMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        XCTAssertNil(m.queuedSince)
        let (pool, done) = Self.pool()
        defer { done() }
        XCTAssertEqual(m.queued(now: 2_000, limit: 1_000, in: pool), .arm(after: 1_000))
        XCTAssertEqual(m.queuedSince, 2_000)
        XCTAssertEqual(m.timedOut(now: 3_050), .acquireTimedOut(waited: 1_050))
        let ended = m.waitEnded()
        XCTAssertEqual(ended.timer, .clear)
        XCTAssertTrue(ended.pool === pool, "the wait names the queue it was in, so the session leaves that one")
        XCTAssertNil(m.queuedSince)
    }

    /// Should leave a connect's deadline to the Connector: the caller's timer means nothing while routing or connecting.
    func testRoutingAndConnectingIgnoreTheCallerTimer() {
        var m = SessionMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        XCTAssertEqual(m.phase, .routing, "a complete head is routed before any upstream exists")
        XCTAssertEqual(m.timedOut(now: 700), .ignore)
        XCTAssertTrue(SessionMachine.allowed(from: m.phase, to: .connecting))
        XCTAssertEqual(SessionMachine.timedOut(in: .connecting, now: 800), .ignore, "a connect's timeout is the Connector's, not the caller's")
    }

    /// Should allow only the transitions a session can make: no exchange before a head, nothing after closed.
    func testOnlyLegalTransitionsAreAllowed() {
        typealias S = SessionPhase
        XCTAssertTrue(SessionMachine.allowed(from: .readingHead(since: 0), to: .routing))
        XCTAssertFalse(SessionMachine.allowed(from: .idle, to: .exchanging), "no upstream exists before a head")
        XCTAssertFalse(SessionMachine.allowed(from: .readingHead(since: 0), to: .exchanging))
        XCTAssertFalse(SessionMachine.allowed(from: .idle, to: .acquiring(since: 0)))
        XCTAssertFalse(SessionMachine.allowed(from: .tunnel, to: .idle), "a tunnel never goes back to HTTP")
        XCTAssertFalse(SessionMachine.allowed(from: .closed, to: .idle))
        XCTAssertFalse(SessionMachine.allowed(from: .closing, to: .closing))
        XCTAssertTrue(SessionMachine.allowed(from: .exchanging, to: .connecting), "a retry opens a fresh connection")
        XCTAssertTrue(SessionMachine.allowed(from: .acquiring(since: 1), to: .idle), "berth answered a queued request")
        XCTAssertTrue(SessionMachine.allowed(from: .readingHead(since: 0), to: .idle), "only empty lines came (review11)")
    }

    /// Should close a caller that stopped reading mid-exchange or mid-tunnel, and re-arm the idle timeout on traffic.
    func testExchangesAndTunnelsCloseOnTheCallerTimer() {
        var m = SessionMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        XCTAssertTrue(SessionMachine.allowed(from: m.phase, to: .exchanging))
        XCTAssertEqual(SessionMachine.callerBackedUp(idleTimeout: idle), .arm(after: idle))
        XCTAssertEqual(SessionMachine.timedOut(in: .exchanging, now: 1), .close)
        XCTAssertEqual(SessionMachine.upstreamFlowing, .clear)
        XCTAssertTrue(SessionMachine.allowed(from: .exchanging, to: .tunnel))
        XCTAssertEqual(SessionMachine.timedOut(in: .tunnel, now: 2), .close)
    }

    /// Should close at once with nothing left to write, and otherwise wait for the flush under the idle timeout.
    func testClosingWaitsOnlyForOutputThatIsLeft() {
        var a = SessionMachine()
        XCTAssertEqual(a.closing(outputPending: false, idleTimeout: idle), .now)
        var b = SessionMachine()
        XCTAssertEqual(b.closing(outputPending: true, idleTimeout: idle), .afterFlush(.arm(after: idle)))
        XCTAssertEqual(b.phase, .closing)
        XCTAssertEqual(b.timedOut(now: 1), .close)
    }

    /// Should report the state it closed from once, so what the session holds (a queue place) is given back once.
    func testCloseReportsThePreviousStateOnce() {
        var m = SessionMachine()
        _ = m.headBytes(now: 0, headerTimeout: header)
        _ = m.headComplete()
        let (pool, done) = Self.pool()
        defer { done() }
        _ = m.queued(now: 10, limit: 100, in: pool)
        let first = m.close()
        XCTAssertEqual(first.phase, .acquiring(since: 10))
        let second = m.close()
        XCTAssertEqual(second.phase, .closed)
        XCTAssertEqual(m.timedOut(now: 500), .ignore)
        XCTAssertFalse(m.awaitingHead)
        XCTAssertFalse(m.isIdle)
    }

    /// Should linger at most 2 s in all, but over an upload behind an early answer a gap of 5 s at a time up to 30
    /// s in all (nginx's lingering_timeout and lingering_time), each within the idle timeout (linger2).
    func testALingerOverABodyHasAGapAndATotal() {
        let s: Nanos = 1_000_000_000
        XCTAssertEqual(SessionMachine.lingering(idleTimeout: 60 * s), .arm(after: 2 * s))
        XCTAssertEqual(SessionMachine.lingering(idleTimeout: 60 * s, overBody: true), .arm(after: 5 * s))
        XCTAssertEqual(SessionMachine.lingering(idleTimeout: 3 * s, overBody: true), .arm(after: 3 * s))
        XCTAssertEqual(SessionMachine.lingerEnds(now: 7 * s, idleTimeout: 60 * s), 37 * s)
        XCTAssertEqual(SessionMachine.lingerEnds(now: 7 * s, idleTimeout: 10 * s), 17 * s)
        // Each read gives another gap, never past the end, and a read at the end leaves the timer to fire at once.
        XCTAssertEqual(SessionMachine.lingeredOverBody(now: 10 * s, ends: 37 * s, idleTimeout: 60 * s), .arm(after: 5 * s))
        XCTAssertEqual(SessionMachine.lingeredOverBody(now: 35 * s, ends: 37 * s, idleTimeout: 60 * s), .arm(after: 2 * s))
        XCTAssertEqual(SessionMachine.lingeredOverBody(now: 38 * s, ends: 37 * s, idleTimeout: 60 * s), .arm(after: 1))
        // An answer in flight holds the session at the caller limit for the first 2 s only (a linger from 7 s).
        XCTAssertTrue(SessionMachine.lingerGuards(now: 8 * s, ends: 37 * s, idleTimeout: 60 * s))
        XCTAssertFalse(SessionMachine.lingerGuards(now: 9 * s, ends: 37 * s, idleTimeout: 60 * s))
        XCTAssertFalse(SessionMachine.lingerGuards(now: 10 * s, ends: 17 * s, idleTimeout: 10 * s))
        XCTAssertTrue(SessionMachine.lingerGuards(now: 10 * s, ends: 0, idleTimeout: 60 * s))
    }

    /// A pool for a queued state to name (its queue entry); no request reaches it.
    static func pool() -> (Upstream, () -> Void) {
        let base = EventBase()
        let c = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1)))
        let m = PoolManager(base: base, settings: ManagerSettings(c))
        return (m.pool(for: PoolKey(host: "fn", port: 80), now: 0), { m.posted.free(); base.free() })
    }
}
