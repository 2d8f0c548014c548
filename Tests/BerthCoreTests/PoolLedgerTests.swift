// The pure pool ledger: checkout, connect slots, release, the global limit, pause/resume/evict, with stand-in objects.
import XCTest
@testable import BerthCore

/// A stand-in for an upstream connection.
final class FakeConn {
    let id: Int
    init(_ id: Int) { self.id = id }
}

/// A stand-in for a queued request.
final class FakeWaiter {
    let id: Int
    init(_ id: Int) { self.id = id }
}

typealias FakeLedger = PoolLedger<FakeConn, FakeWaiter>

extension FakeLedger.Checkout {
    /// The ticket of a `.connect`, or a failure.
    consuming func ticket(file: StaticString = #filePath, line: UInt = #line) -> ConnectTicket? {
        switch consume self {
        case .connect(let t, _): return t
        case .reuse: XCTFail("expected connect, got reuse", file: file, line: line)
        case .wait: XCTFail("expected connect, got wait", file: file, line: line)
        case .reject(let c): XCTFail("expected connect, got reject \(c)", file: file, line: line)
        }
        return nil
    }

    /// The kind of outcome, for assertions.
    var kind: String {
        switch self {
        case .connect: return "connect"
        case .reuse: return "reuse"
        case .wait: return "wait"
        case .reject(let c): return "reject:\(c.rawValue)"
        }
    }
}

final class PoolLedgerTests: XCTestCase {
    /// Opens a connection in `s` and returns its lease.
    func open(_ set: inout FakeLedger, _ s: PoolSlot, _ id: Int) -> FakeLedger.Lease {
        let t = set.checkout(s, waiter: FakeWaiter(-id), allowReuse: false).ticket()!
        return set.connected(t, conn: FakeConn(id))
    }

    /// Should never hand a released connection to a queued retry (issue 23: a retry never goes out on a reused
    /// connection): the retry's need for a fresh connection is kept in its queue entry.
    func testAQueuedRetryIsNeverHandedAReleasedConnection() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 1, maxPending: 4)
        let a = open(&set, s, 1)
        let retry = FakeWaiter(2)
        XCTAssertEqual(set.checkout(s, waiter: retry, allowReuse: false).kind, "wait", "the route is full")
        let later = FakeWaiter(3)
        XCTAssertEqual(set.checkout(s, waiter: later, allowReuse: true).kind, "wait")
        switch set.release(a, verdict: nil, openedAt: 0, now: 1) {
        case .handOff(let w, let lease):
            XCTFail("the released connection \(lease.conn.id) was handed to the queued retry \(w.id)")
            _ = set.release(lease, verdict: .error, openedAt: 0, now: 2)
        case .replace(let reason, let conn, let admission):
            // The connection closes and its slot is the retry's, as a connect ticket, in queue order.
            XCTAssertEqual(reason, .evicted)
            XCTAssertEqual(conn.id, 1)
            XCTAssertTrue(admission.waiter === retry)
            XCTAssertEqual(set[s].connecting, 1)
            XCTAssertEqual(set[s].busy, 0)
            XCTAssertEqual(set.open, 1)
            XCTAssertNil(set.invariantViolation())
            let lease = set.connected(admission.intoTicket(), conn: FakeConn(4))
            // The waiter behind it takes any connection, so the retry's fresh one is handed on when it is done.
            guard case .handOff(let w, let next) = set.release(lease, verdict: nil, openedAt: 0, now: 3) else {
                return XCTFail("the next waiter was not served")
            }
            XCTAssertTrue(w === later)
            _ = set.release(next, verdict: nil, openedAt: 0, now: 4)
        case .pooled:
            XCTFail("the retry was left waiting beside an idle connection")
        case .close:
            XCTFail("a reusable connection was closed without serving the retry")
        }
        XCTAssertNil(set.invariantViolation())
        XCTAssertEqual(set[s].idle.count, 1)
    }

    /// Should keep a held retry's need for a fresh connection through a pause: resume returns it with the flag, so
    /// it is checked out again without reuse.
    func testAHeldRetryIsResumedAsOne() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 2, maxPending: 4)
        _ = set.pause(s, by: .api, rejectNew: false, hold: nil)!
        _ = set.checkout(s, waiter: FakeWaiter(1), allowReuse: false)
        _ = set.checkout(s, waiter: FakeWaiter(2), allowReuse: true)
        XCTAssertEqual(set.resume(s, by: .api)!.map(\.fresh), [true, false])
    }

    /// Should connect for the first request and pool the connection when it is released.
    func testFirstRequestConnectsAndReleasedConnectionIsPooled() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 2, maxPending: 2)
        let lease = open(&set, s, 1)
        XCTAssertEqual(set[s].busy, 1)
        XCTAssertEqual(set.open, 1)
        guard case .pooled = set.release(lease, verdict: nil, openedAt: 0, now: 5) else { return XCTFail() }
        XCTAssertEqual(set[s].idle.count, 1)
        XCTAssertEqual(set.open, 1)
        XCTAssertNil(set.invariantViolation())
    }

    /// Should reuse the most recently used idle connection first, so the others can time out.
    func testIdleConnectionsAreReusedMostRecentlyUsedFirst() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 2)
        let a = open(&set, s, 1), b = open(&set, s, 2)
        _ = set.release(a, verdict: nil, openedAt: 0, now: 1)
        _ = set.release(b, verdict: nil, openedAt: 0, now: 2)
        guard case .reuse(let l) = set.checkout(s, waiter: FakeWaiter(9), allowReuse: true) else { return XCTFail() }
        XCTAssertEqual(l.conn.id, 2)
        _ = set.release(l, verdict: .error, openedAt: 0, now: 3)
        XCTAssertNil(set.invariantViolation())
    }

    /// Should queue requests beyond the per-route limit in arrival order, reject past max-pending, and not let a
    /// newcomer jump ahead of the queue.
    func testRequestsBeyondThePerRouteLimitWaitInArrivalOrderAndTheQueueIsBounded() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 1, maxPending: 2)
        let lease = open(&set, s, 1)
        let w1 = FakeWaiter(1), w2 = FakeWaiter(2)
        XCTAssertEqual(set.checkout(s, waiter: w1, allowReuse: true).kind, "wait")
        XCTAssertEqual(set.checkout(s, waiter: w2, allowReuse: true).kind, "wait")
        XCTAssertEqual(set.checkout(s, waiter: FakeWaiter(3), allowReuse: true).kind, "reject:queue-full")
        guard case .handOff(let w, let l) = set.release(lease, verdict: nil, openedAt: 0, now: 1) else { return XCTFail() }
        XCTAssertTrue(w === w1)
        XCTAssertEqual(set.waiting, 1)
        _ = set.release(l, verdict: .error, openedAt: 0, now: 2)
        guard let a = set.admit(preferring: s) else { return XCTFail("the freed slot goes to the next waiter") }
        XCTAssertTrue(a.waiter === w2)
        set.connectFailed(a.intoTicket())
        XCTAssertNil(set.invariantViolation())
        XCTAssertEqual(set.open, 0)
    }

    /// Should free the reserved slot when a connect fails.
    func testFailedConnectFreesTheReservedSlot() {
        var set = FakeLedger(maxTotal: 1)
        let s = set.add(maxPerRoute: 1, maxPending: 2)
        let t = set.checkout(s, waiter: FakeWaiter(1), allowReuse: true).ticket()!
        XCTAssertEqual(set[s].connecting, 1)
        set.connectFailed(t)
        XCTAssertEqual(set[s].connecting, 0)
        XCTAssertEqual(set.open, 0)
        let again = set.checkout(s, waiter: FakeWaiter(2), allowReuse: true).ticket()!
        set.connectFailed(again)
    }

    /// Should close another upstream's least recently used idle connection when the global limit is reached.
    func testAtTheGlobalLimitAnotherPoolsOldestIdleConnectionGivesUpItsSlot() {
        var set = FakeLedger(maxTotal: 2)
        let a = set.add(maxPerRoute: 2, maxPending: 2), b = set.add(maxPerRoute: 2, maxPending: 2)
        let l1 = open(&set, a, 1), l2 = open(&set, a, 2)
        _ = set.release(l1, verdict: nil, openedAt: 0, now: 1)
        _ = set.release(l2, verdict: nil, openedAt: 0, now: 2)
        guard case .connect(let t, let evicted) = set.checkout(b, waiter: FakeWaiter(9), allowReuse: true) else { return XCTFail() }
        XCTAssertEqual(evicted?.id, 1, "the least recently used idle connection")
        XCTAssertEqual(set.open, 2)
        set.connectFailed(t)
        XCTAssertNil(set.invariantViolation())
    }

    /// Should hand a freed global slot to a waiter of another pool that the global limit was blocking.
    func testAFreedGlobalSlotAdmitsAWaiterElsewhere() {
        var set = FakeLedger(maxTotal: 1)
        let a = set.add(maxPerRoute: 2, maxPending: 2), b = set.add(maxPerRoute: 2, maxPending: 2)
        let l = open(&set, a, 1)
        let w = FakeWaiter(7)
        XCTAssertEqual(set.checkout(b, waiter: w, allowReuse: true).kind, "wait")
        if let stray = set.admit(preferring: a) {
            XCTFail("no room while the only slot is busy")
            set.connectFailed(stray.intoTicket())
        }
        _ = set.release(l, verdict: .upstreamClose, openedAt: 0, now: 1)
        guard let adm = set.admit(preferring: a) else { return XCTFail() }
        XCTAssertTrue(adm.waiter === w)
        XCTAssertEqual(adm.ticket.slot, b)
        set.connectFailed(adm.intoTicket())
        XCTAssertNil(set.invariantViolation())
    }

    /// Should take every idle connection at a pause, hold new requests, and with reject answer them at once.
    func testPauseTakesEveryIdleConnectionAndHoldsOrRejects() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        _ = set.release(open(&set, s, 1), verdict: nil, openedAt: 0, now: 1)
        let (closed, rejected) = set.pause(s, by: .api, rejectNew: false, hold: nil)!
        XCTAssertEqual(closed.map(\.id), [1])
        XCTAssertTrue(rejected.isEmpty)
        XCTAssertEqual(set.open, 0)
        let held = FakeWaiter(1)
        XCTAssertEqual(set.checkout(s, waiter: held, allowReuse: true).kind, "wait")
        let (_, answered) = set.pause(s, by: .api, rejectNew: true, hold: nil)!
        XCTAssertTrue(answered.first === held)
        XCTAssertEqual(set.checkout(s, waiter: FakeWaiter(2), allowReuse: true).kind, "reject:upstream-paused")
        XCTAssertNil(set.invariantViolation())
    }

    /// Should bump the epoch at resume and return the held requests in arrival order; a prewarm or connect that
    /// straddled the pause is stale.
    func testResumeBumpsTheEpochAndAStraddlingConnectIsStale() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        let early = set.reservePrewarm(s)!
        _ = set.pause(s, by: .api, rejectNew: false, hold: nil)!
        let w1 = FakeWaiter(1), w2 = FakeWaiter(2)
        _ = set.checkout(s, waiter: w1, allowReuse: true)
        _ = set.checkout(s, waiter: w2, allowReuse: true)
        let held = set.resume(s, by: .api)!
        XCTAssertEqual(held.map(\.waiter.id), [1, 2])
        XCTAssertEqual(held.map(\.fresh), [false, false])
        XCTAssertEqual(set[s].epoch, 2)
        guard case .close(let reason, _) = set.prewarmed(early, conn: FakeConn(5), now: 9) else { return XCTFail() }
        XCTAssertEqual(reason, .staleEpoch)
        XCTAssertNil(set.invariantViolation())
        XCTAssertEqual(set.open, 0)
    }

    /// Should evict only connections idle for long enough.
    func testEvictTakesOnlyConnectionsIdleLongEnough() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        let a = open(&set, s, 1), b = open(&set, s, 2)
        _ = set.release(a, verdict: nil, openedAt: 0, now: 100)
        _ = set.release(b, verdict: nil, openedAt: 0, now: 900)
        XCTAssertEqual(set.evict(s, idleFor: 500, now: 1000).map(\.id), [1])
        XCTAssertEqual(set.open, 1)
        XCTAssertNil(set.invariantViolation())
    }

    /// Should never reuse an idle connection for a retry.
    func testRetryCheckoutNeverReusesAnIdleConnection() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        _ = set.release(open(&set, s, 1), verdict: nil, openedAt: 0, now: 1)
        let t = set.checkout(s, waiter: FakeWaiter(1), allowReuse: false).ticket()!
        set.connectFailed(t)
    }

    /// Should reserve prewarm slots only within both limits, and put a prewarmed connection on the idle stack.
    func testPrewarmedConnectionsRespectTheLimitsAndGoIdle() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 1, maxPending: 4)
        let t = set.reservePrewarm(s)!
        if let stray = set.reservePrewarm(s) {
            XCTFail("max-per-route 1 is reached by the slot being opened")
            set.connectFailed(stray)
        }
        guard case .pooled = set.prewarmed(t, conn: FakeConn(1), now: 3) else { return XCTFail() }
        XCTAssertEqual(set[s].idle.count, 1)
    }

    /// Should forget only an empty pool, and reuse its slot for the next one.
    func testOnlyAnEmptyPoolIsRemoved() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 1, maxPending: 4)
        let lease = open(&set, s, 1)
        XCTAssertFalse(set.remove(s))
        _ = set.release(lease, verdict: .error, openedAt: 0, now: 1)
        XCTAssertTrue(set.remove(s))
        XCTAssertEqual(set.add(maxPerRoute: 1, maxPending: 1), s)
    }

    /// Should close an idle connection at the earlier of its idle timeout and its maximum age.
    func testIdleDeadlineIsTheEarlierOfIdleTimeoutAndMaxAge() {
        let byIdle = FakeLedger.Pool.idleDeadline(since: 100, openedAt: 0, idleTimeout: 50, maxAge: 1000)
        XCTAssertEqual(byIdle.at, 150)
        XCTAssertEqual(byIdle.reason, .idleTimeout)
        let byAge = FakeLedger.Pool.idleDeadline(since: 100, openedAt: 0, idleTimeout: 500, maxAge: 300)
        XCTAssertEqual(byAge.at, 300)
        XCTAssertEqual(byAge.reason, .maxAge)
    }
}
