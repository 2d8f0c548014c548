// Pool bookkeeping with no sockets and no clock but the numbers the tests pass in.
import XCTest
@testable import BerthCore

final class PoolStateTests: XCTestCase {
    private let s: Nanos = 1_000_000_000

    func testFirstRequestConnectsAndReleasedConnectionIsPooled() {
        var p = PoolState(maxPerRoute: 2, maxPending: 10)
        XCTAssertEqual(p.checkout(globalRoom: true), .connect)
        p.connected()
        XCTAssertEqual(p.release(id: 7, verdict: nil, openedAt: 0, now: s), .pooled)
        XCTAssertEqual(p.idle.map(\.id), [7])
        XCTAssertEqual(p.open, 1)
    }

    func testIdleConnectionsAreReusedMostRecentlyUsedFirst() {
        var p = PoolState(maxPerRoute: 5, maxPending: 10)
        for _ in 0..<3 {
            _ = p.checkout(globalRoom: true)
            p.connected()
        }
        _ = p.release(id: 1, verdict: nil, openedAt: 0, now: 1)
        _ = p.release(id: 2, verdict: nil, openedAt: 0, now: 2)
        _ = p.release(id: 3, verdict: nil, openedAt: 0, now: 3)
        XCTAssertEqual(p.checkout(globalRoom: true), .reuse(3))
        XCTAssertEqual(p.checkout(globalRoom: true), .reuse(2))
    }

    func testRequestsBeyondThePerRouteLimitWaitInArrivalOrder() {
        var p = PoolState(maxPerRoute: 1, maxPending: 10)
        XCTAssertEqual(p.checkout(globalRoom: true), .connect)
        p.connected()
        XCTAssertEqual(p.checkout(globalRoom: true), .wait)
        p.enqueue(100)
        XCTAssertEqual(p.checkout(globalRoom: true), .wait)
        p.enqueue(101)
        XCTAssertEqual(p.release(id: 1, verdict: nil, openedAt: 0, now: 1), .handOff(waiter: 100))
        XCTAssertEqual(p.release(id: 1, verdict: nil, openedAt: 0, now: 2), .handOff(waiter: 101))
        XCTAssertEqual(p.release(id: 1, verdict: nil, openedAt: 0, now: 3), .pooled)
        XCTAssertEqual(p.open, 1, "a hand-off never opens a second connection")
    }

    func testQueueBeyondMaxPendingIsRejected() {
        var p = PoolState(maxPerRoute: 1, maxPending: 1)
        _ = p.checkout(globalRoom: true)
        XCTAssertEqual(p.checkout(globalRoom: true), .wait)
        p.enqueue(1)
        XCTAssertEqual(p.checkout(globalRoom: true), .reject(.queueFull))
    }

    func testNewRequestsDoNotJumpAheadOfWaiters() {
        var p = PoolState(maxPerRoute: 2, maxPending: 10)
        _ = p.checkout(globalRoom: false)
        p.enqueue(9)
        // A slot exists now, but the waiter came first.
        XCTAssertEqual(p.checkout(globalRoom: true), .wait)
    }

    func testClosedConnectionFreesItsSlotForTheFirstWaiter() {
        var p = PoolState(maxPerRoute: 1, maxPending: 10)
        _ = p.checkout(globalRoom: true)
        p.connected()
        p.enqueue(42)
        XCTAssertEqual(p.release(id: 1, verdict: .upstreamClose, openedAt: 0, now: 1), .close(.upstreamClose))
        XCTAssertEqual(p.admitWaiter(globalRoom: true), 42)
        XCTAssertEqual(p.connecting, 1)
        XCTAssertNil(p.admitWaiter(globalRoom: true))
    }

    func testFailedConnectFreesTheReservedSlot() {
        var p = PoolState(maxPerRoute: 1, maxPending: 10)
        XCTAssertEqual(p.checkout(globalRoom: true), .connect)
        p.connectFailed()
        XCTAssertEqual(p.open, 0)
        XCTAssertEqual(p.checkout(globalRoom: true), .connect)
    }

    func testPauseTakesEveryIdleConnectionAndHoldsNewRequests() {
        var p = PoolState(maxPerRoute: 4, maxPending: 10)
        for _ in 1...2 {
            _ = p.checkout(globalRoom: true)
            p.connected()
        }
        for i in 1...2 { _ = p.release(id: i, verdict: nil, openedAt: 0, now: 1) }
        XCTAssertEqual(Set(p.pause(rejectNew: false)), [1, 2])
        XCTAssertTrue(p.idle.isEmpty)
        XCTAssertEqual(p.checkout(globalRoom: true), .wait)
    }

    func testPauseWithRejectAnswersAtOnce() {
        var p = PoolState(maxPerRoute: 4, maxPending: 10)
        _ = p.pause(rejectNew: true)
        XCTAssertEqual(p.checkout(globalRoom: true), .reject(.upstreamPaused))
    }

    func testResumeBumpsTheEpochAndReturnsHeldRequestsInOrder() {
        var p = PoolState(maxPerRoute: 4, maxPending: 10)
        let before = p.epoch
        _ = p.pause(rejectNew: false)
        p.enqueue(5)
        p.enqueue(6)
        XCTAssertEqual(p.resume(), [5, 6])
        XCTAssertEqual(p.epoch, before + 1)
        XCTAssertFalse(p.isPaused)
    }

    func testEvictTakesOnlyConnectionsIdleLongEnough() {
        var p = PoolState(maxPerRoute: 4, maxPending: 10)
        for _ in 1...2 {
            _ = p.checkout(globalRoom: true)
            p.connected()
        }
        for (i, t) in [(1, 0 * s), (2, 5 * s)] { _ = p.release(id: i, verdict: nil, openedAt: 0, now: t) }
        XCTAssertEqual(p.evict(idleFor: 3 * s, now: 6 * s), [1])
        XCTAssertEqual(p.idle.map(\.id), [2])
        XCTAssertEqual(p.evict(idleFor: nil, now: 6 * s), [2])
    }

    func testIdleDeadlineIsTheEarlierOfIdleTimeoutAndMaxAge() {
        let young = PoolState.Idle(id: 1, since: 10 * s, openedAt: 9 * s)
        XCTAssertEqual(PoolState.idleDeadline(young, idleTimeout: 4 * s, maxAge: 300 * s).reason, .idleTimeout)
        XCTAssertEqual(PoolState.idleDeadline(young, idleTimeout: 4 * s, maxAge: 300 * s).at, 14 * s)
        let old = PoolState.Idle(id: 2, since: 299 * s, openedAt: 0)
        XCTAssertEqual(PoolState.idleDeadline(old, idleTimeout: 4 * s, maxAge: 300 * s).reason, .maxAge)
    }

    func testRetryCheckoutNeverReusesAnIdleConnection() {
        var p = PoolState(maxPerRoute: 4, maxPending: 10)
        _ = p.checkout(globalRoom: true)
        p.connected()
        _ = p.release(id: 1, verdict: nil, openedAt: 0, now: 1)
        XCTAssertEqual(p.checkout(globalRoom: true, allowReuse: false), .connect)
    }

    func testPrewarmedConnectionsRespectTheLimitAndGoIdle() {
        var p = PoolState(maxPerRoute: 1, maxPending: 10)
        XCTAssertTrue(p.reservePrewarm(globalRoom: true))
        XCTAssertFalse(p.reservePrewarm(globalRoom: true))
        XCTAssertEqual(p.prewarmed(id: 3, now: 1), .pooled)
        XCTAssertEqual(p.checkout(globalRoom: true), .reuse(3))
    }
}
