// How the pools hand connections and slots to waiting requests: what an admin command frees reaches waiters of other pools.
import XCTest
@testable import BerthCore

final class PoolHandOffTests: XCTestCase {
    private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    private static let fn = PoolKey(host: "fn", port: 80)

    private func get(_ host: String) -> String { "GET http://\(host)/s HTTP/1.1\r\nHost: \(host)\r\n\r\n" }

    /// At --max-total 1: fn:80 holds the one connection idle, and a request to other:80 (the same socket under
    /// another name) waits for a slot, since an idle connection of another pool gives up its slot only to a request
    /// that arrives while it is idle. Returns the session and the waiting caller.
    private func oneIdleAndOneWaiter() throws -> (EmbeddedSession, EmbeddedSession.Caller) {
        let e = try EmbeddedSession { c in
            c.limits.maxTotal = 1
            var other = DestinationOverride(match: "other:80")
            other.unixSocket = c.destinations[0].unixSocket
            c.destinations.append(other)
        }
        e.callerSends(get(EmbeddedSession.upstream))
        XCTAssertEqual(e.acceptUpstreams(), 1)
        _ = e.upstreamReceives()
        let waiting = try EmbeddedSession.Caller(of: e)
        waiting.sends(get("other:80"))
        waiting.deliverReadable()
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        XCTAssertEqual(e.pool?.state.idle.count, 1, "fn:80's connection went idle")
        XCTAssertEqual(e.acceptUpstreams(), 0, "other:80's request still waits at --max-total")
        return (e, waiting)
    }

    /// Should give the slot /evict frees to a request waiting for another pool at --max-total.
    func testEvictFreesSlotsForWaitersOfOtherPools() throws {
        let (e, _) = try oneIdleAndOneWaiter()
        XCTAssertEqual(e.worker.manager.evict(PoolHandOffTests.fn, idleFor: nil, now: e.worker.now), 1)
        e.loopTurn()
        XCTAssertEqual(e.acceptUpstreams(), 1, "the waiter connected into the freed slot")
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /s HTTP/1.1\r\nHost: other:80"))
    }

    /// Should give the slots /pause frees (it closes the pool's idle connections) to a request waiting for another
    /// pool at --max-total, as /evict does. On main before issue 21 the pause closed them through `withSet` and the
    /// request waited out its acquire timeout.
    func testPauseFreesSlotsForWaitersOfOtherPoolsAsEvictDoes() throws {
        let (e, _) = try oneIdleAndOneWaiter()
        XCTAssertEqual(e.worker.manager.pause(PoolHandOffTests.fn, rejectNew: false, hold: nil, now: e.worker.now).closedIdle, 1)
        e.loopTurn()
        XCTAssertEqual(e.acceptUpstreams(), 1, "the waiter connected into the freed slot")
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /s HTTP/1.1\r\nHost: other:80"))
    }
}
