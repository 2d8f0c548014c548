// The pool ledger's rules for requests that may not reuse a connection (CONNECT tunnels, retries): slots, not sockets.
import XCTest
@testable import BerthCore

final class PoolLedgerTunnelTests: XCTestCase {
    /// Should give a request that may not reuse the slot of the oldest idle connection at the route's limit, with
    /// the counts unchanged, instead of queueing it behind connections it cannot use.
    func testAFreshConnectAtTheRouteLimitReplacesTheOldestIdle() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 2, maxPending: 2)
        for id in 1...2 {
            let t = set.checkout(s, waiter: FakeWaiter(-id), allowReuse: false).ticket()!
            guard case .pooled = set.release(set.connected(t, conn: FakeConn(id)), verdict: nil, openedAt: 0, now: Nanos(id)) else { return XCTFail() }
        }
        switch set.checkout(s, waiter: FakeWaiter(9), allowReuse: false) {
        case .connect(let ticket, let evicted):
            XCTAssertEqual(evicted?.id, 1, "the oldest idle connection gives up its slot")
            XCTAssertEqual(set[s].idle.count, 1)
            XCTAssertEqual(set[s].connecting, 1)
            XCTAssertEqual(set.open, 2)
            XCTAssertNil(set.invariantViolation())
            set.connectFailed(ticket)
        default:
            XCTFail("expected a connect")
        }
        XCTAssertEqual(set.open, 1)
        XCTAssertNil(set.invariantViolation())
    }

    /// Should count a tunnel's slot for its whole life and give it to the waiting request once the tunnel ends.
    func testADetachedTunnelKeepsItsSlotUntilGivenBack() {
        var set = FakeLedger(maxTotal: 1)
        let s = set.add(maxPerRoute: 1, maxPending: 2)
        let ticket = set.checkout(s, waiter: FakeWaiter(1), allowReuse: false).ticket()!
        let tunnel = set.connected(ticket, conn: FakeConn(3))
        XCTAssertEqual(set.checkout(s, waiter: FakeWaiter(2), allowReuse: false).kind, "wait", "the tunnel holds the only slot")
        XCTAssertNil(set.invariantViolation())
        let detached = set.detach(tunnel)
        XCTAssertEqual(detached.id, 3)
        XCTAssertEqual(set.open, 0)
        guard let admitted = set.admit(preferring: s) else { return XCTFail("the freed slot went to nobody") }
        let waiter = admitted.waiter.id
        XCTAssertEqual(waiter, 2, "the freed slot goes to the waiting request")
        set.connectFailed(admitted.intoTicket())
        XCTAssertNil(set.invariantViolation())
    }
}
