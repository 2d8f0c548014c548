// When a `/pause?drain=` hears that its pool drained: on the loop's next turn, never inside the release that drained it.
import XCTest
@testable import BerthCore

/// A drain waiter (what `/pause?drain=` registers, `Upstream.drainWaiters`) stands for an admin connection: its
/// handler sends the answer and then serves the commands pipelined behind it, which may pause, evict or forget pools.
/// Run inside a release, those commands ran on the releasing session's stack, in the middle of another session's
/// event or of another admin command.
final class DrainNoticeTests: XCTestCase {
    private static let fn = PoolKey(host: "fn", port: 80)
    private static let local = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n"
    private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    /// Should tell a drain waiter on the loop's next turn, once the releasing session's callback has returned. Before:
    /// the handler ran inside `PoolManager.release` (order ["drained", "callback returned"]).
    func testTheDrainedNoticeArrivesAfterTheReleasingCallbackReturns() throws {
        let e = try EmbeddedSession()
        e.turnsAfterEachEvent = false
        e.callerSends(DrainNoticeTests.local)
        XCTAssertEqual(e.acceptUpstreams(), 1)
        _ = e.upstreamReceives()
        let manager = e.worker.manager
        let pool = try XCTUnwrap(e.pool)
        _ = manager.pause(DrainNoticeTests.fn, rejectNew: false, hold: nil, now: e.worker.now)
        XCTAssertEqual(pool.inFlight, 1, "the request is busy: the drain waits for it")
        var order: [String] = []
        manager.awaitDrain(pool) { order.append("drained") }
        e.upstreamSends(ok)
        order.append("callback returned")
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        XCTAssertEqual(pool.inFlight, 0)
        XCTAssertEqual(order, ["callback returned"], "nothing ran the drain handler inside the release")
        XCTAssertTrue(pool.drainWaiters.isEmpty, "the notice left the pool: a later release does not repeat it")
        e.loopTurn()
        XCTAssertEqual(order, ["callback returned", "drained"], "heard on the next turn, once")
        e.loopTurn()
        XCTAssertEqual(order, ["callback returned", "drained"])
    }

    /// One route slot: the first caller's request holds the connection, a second caller's waits for it. The test
    /// takes the loop's turns itself.
    private func oneBusyAndOneWaiter(_ e: EmbeddedSession) throws -> EmbeddedSession.Caller {
        e.turnsAfterEachEvent = false
        e.callerSends(DrainNoticeTests.local)
        XCTAssertEqual(e.acceptUpstreams(), 1)
        _ = e.upstreamReceives()
        let waiting = try EmbeddedSession.Caller(of: e)
        waiting.sends(DrainNoticeTests.local)
        waiting.deliverReadable()
        XCTAssertTrue(waiting.session.isQueued)
        return waiting
    }

    /// Should hold, as the /pause said, a request whose connection a /pause takes back, when that take-back drains
    /// the pool for an earlier `/pause?drain=` whose admin connection pipelined `/evict?forget=true` behind it.
    /// Before: the first admin's commands ran inside the second /pause (its `holdOvertaken`): the forget dropped the
    /// entry, the request was answered 503 and the /pause answered "paused" for an entry that no longer existed (the
    /// next request would have gone to the upstream being frozen). After: the /pause completes first, the forget
    /// waits for the held request (forget pending) and the entry stays paused.
    func testADrainCompletedInsideAPauseRunsItsPipelinedCommandsAfterIt() throws {
        let e = try EmbeddedSession { $0.limits.maxPerRoute = 1 }
        let second = try oneBusyAndOneWaiter(e)
        let manager = e.worker.manager
        let pool = try XCTUnwrap(e.pool)
        // The first admin connection: /pause?drain= (two requests in flight or waiting), then /evict?forget=true.
        _ = manager.pause(DrainNoticeTests.fn, rejectNew: false, hold: nil, now: e.worker.now)
        var forgetAnswer: Bool?
        manager.awaitDrain(pool) {
            _ = manager.evict(DrainNoticeTests.fn, idleFor: nil, now: e.worker.now)
            forgetAnswer = manager.forget(endpoint: DrainNoticeTests.fn)
        }
        // Another admin resumes (a new epoch). The first response ends: its connection, older, closes and its slot
        // goes to the second request, which connects; a third request waits for that connection.
        XCTAssertEqual(manager.resume(DrainNoticeTests.fn, now: e.worker.now).released, 1)
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        e.loopTurn()
        XCTAssertEqual(e.acceptUpstreams(), 1)
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /run HTTP/1.1\r\n"))
        let third = try EmbeddedSession.Caller(of: e)
        third.sends(DrainNoticeTests.local)
        third.deliverReadable()
        XCTAssertTrue(third.session.isQueued)
        EmbeddedSession.write(e.upstreamEnds[1], ok)
        second.deliverUpstreamReadable()
        XCTAssertTrue(second.receives().hasSuffix("ok"))
        XCTAssertEqual(manager.handOffs.inTransit.leases, 1, "the connection is on its way to the third request")
        XCTAssertNil(forgetAnswer, "still in flight: the drain waits")
        // A /pause overtakes it: the connection comes back and closes, which drains the pool.
        let paused = manager.pause(DrainNoticeTests.fn, rejectNew: false, hold: nil, now: e.worker.now)
        XCTAssertNil(forgetAnswer, "the first admin's pipelined commands did not run inside the /pause")
        XCTAssertEqual(paused.pools.first?.forgotten, false, "the /pause answered for a live entry")
        XCTAssertTrue(third.session.isQueued, "held by the pause")
        e.loopTurn()
        XCTAssertEqual(forgetAnswer, false, "the forget waits for the held request")
        XCTAssertFalse(pool.forgotten)
        XCTAssertTrue(pool.forgetWhenEmpty)
        XCTAssertTrue(pool.state.isPaused, "the entry stays paused")
        XCTAssertTrue(third.session.isQueued, "still held")
        XCTAssertEqual(third.receives(), "", "the held request was not answered")
        XCTAssertEqual(e.acceptUpstreams(), 0, "nothing reached the paused upstream")
        XCTAssertNil(manager.ledger.invariantViolation())
    }

    /// Should answer a `/pause?drain=` when the last thing in flight was a connect slot given back (a pause took it
    /// from a request it was on its way to; a connect that failed; a request that left while connecting). Before:
    /// only a release and a tunnel's end told the drain waiters, so this one waited out its whole `drain=` time
    /// with nothing in flight (`told` false after the turn).
    func testADrainEndedByAConnectSlotGivenBackIsAnswered() throws {
        let e = try EmbeddedSession { $0.limits.maxPerRoute = 1 }
        let waiting = try oneBusyAndOneWaiter(e)
        let manager = e.worker.manager
        let pool = try XCTUnwrap(e.pool)
        _ = manager.pause(DrainNoticeTests.fn, rejectNew: false, hold: nil, now: e.worker.now)
        var told = false
        manager.awaitDrain(pool) { told = true }
        // Another admin resumes (a new epoch): the response's connection, older, closes, and its slot is posted to the
        // waiting request as a connect slot.
        XCTAssertEqual(manager.resume(DrainNoticeTests.fn, now: e.worker.now).released, 1)
        e.upstreamSends(ok)
        XCTAssertEqual(manager.handOffs.inTransit.tickets, 1)
        XCTAssertEqual(pool.inFlight, 1, "a connect on its way")
        // A /pause takes it back: nothing is in flight any more.
        _ = manager.pause(DrainNoticeTests.fn, rejectNew: false, hold: nil, now: e.worker.now)
        XCTAssertEqual(pool.inFlight, 0)
        XCTAssertTrue(waiting.session.isQueued, "held")
        XCTAssertFalse(told, "not inside the /pause")
        e.loopTurn()
        XCTAssertTrue(told, "told on the next turn")
        XCTAssertEqual(e.acceptUpstreams(), 0)
    }
}
