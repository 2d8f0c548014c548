// Whole caller sessions driven event by event over in-kernel socket pairs, no loop and no port: the paths of one request.
import XCTest
@testable import BerthCore

final class EmbeddedSessionTests: XCTestCase {
    private let get = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n"
    private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    /// Should route, connect, send, relay and release: the second request reuses the pooled connection.
    func testARequestIsRelayedAndTheConnectionReused() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        XCTAssertEqual(e.acceptUpstreams(), 1, "the session connected at once (a Unix socket)")
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /run HTTP/1.1\r\n"))
        XCTAssertEqual(e.callerReceives(), "", "nothing for the caller before the upstream answers")
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("\r\n\r\nok"))
        let pool = try XCTUnwrap(e.pool)
        XCTAssertEqual(pool.state.idle.count, 1, "released to the pool")
        XCTAssertEqual(pool.state.busy, 0)
        e.callerSends(get)
        XCTAssertEqual(e.acceptUpstreams(), 0, "reused: no new connection")
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /run"))
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        XCTAssertEqual(pool.counters[.opened], 1)
        XCTAssertEqual(pool.counters[.reused], 1)
        XCTAssertEqual(pool.counters[.requests], 2)
    }

    /// Should answer two pipelined requests in order, each after its own response.
    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let e = try EmbeddedSession()
        e.callerSends(get + "GET /second HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n")
        e.acceptUpstreams()
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /run "), "only the first goes out before its answer")
        e.upstreamSends("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /second "), "the second starts when the first ended")
        e.upstreamSends("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
        let out = e.callerReceives()
        let first = try XCTUnwrap(out.range(of: "first")), second = try XCTUnwrap(out.range(of: "second"))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
    }

    /// Should still answer a caller that closed its sending side after a whole request, then close.
    func testAHalfClosedCallerGetsItsResponse() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        e.callerShutsDownWriting()
        _ = e.upstreamReceives()
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        XCTAssertTrue(e.callerClosedByBerth)
    }

    /// Should send a request again on a fresh connection when the reused one closes before any response byte (the
    /// server's keep-alive timer fired as the request went out).
    func testAStaleReusedConnectionIsRetriedOnAFreshOne() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        e.upstreamSends(ok)
        _ = e.callerReceives()
        e.callerSends(get)
        XCTAssertTrue(e.upstreamReceives(0).hasPrefix("GET"), "the request went out on the pooled connection")
        e.upstreamCloses(0)
        guard e.acceptUpstreams() == 1 else { return XCTFail("not retried on a new connection") }
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /run"))
        e.upstreamSends(ok, on: 1)
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 200 OK"))
        XCTAssertEqual(e.pool?.counters[.retries], 1)
    }

    /// Should see an idle connection's close at once, so no request is ever sent on it.
    func testAnIdleConnectionClosedByTheServerLeavesThePool() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        e.upstreamSends(ok)
        XCTAssertEqual(e.pool?.state.idle.count, 1)
        e.upstreamCloses(0)
        e.idleUpstreamsReadable()
        XCTAssertEqual(e.pool?.state.idle.count, 0)
        XCTAssertEqual(e.pool?.state.open, 0)
    }

    /// Should answer 504 when the upstream says nothing for the socket timeout, and close that connection.
    func testASilentUpstreamTimesOut() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        e.upstreamTimesOut()
        let answer = e.callerReceives()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 504 "), answer)
        XCTAssertTrue(answer.contains("Berth-Error: read-timeout"), answer)
        XCTAssertEqual(e.pool?.state.open, 0)
    }

    /// Should answer 408 and close when a head does not complete before the caller's timer fires.
    func testAnIncompleteHeadGets408() throws {
        let e = try EmbeddedSession()
        e.callerSends("GET /run HTTP/1.1\r\nHost: fn")
        e.callerTimesOut()
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 408 "))
        XCTAssertTrue(e.callerClosedByBerth)
    }

    /// The issue's double release, as a session sees it: a refused connect is answered with 502 to a caller that has
    /// already gone, so the answer's write fails and the session closes after giving the slot back. Every count
    /// stays whole (the old code gave the slot back a second time here: open and connecting went to -1).
    func testARefusedConnectToAGoneCallerGivesItsSlotBackOnce() throws {
        let e = try EmbeddedSession(listening: false)
        for _ in 0..<3 {
            let caller = try EmbeddedSession.Caller(of: e)
            caller.sends(get)
            caller.close()
            caller.deliverReadable()
        }
        let pool = try XCTUnwrap(e.pool)
        XCTAssertEqual(pool.state.open, 0)
        XCTAssertEqual(pool.state.connecting, 0)
        XCTAssertEqual(e.worker.manager.totalOpen, 0)
        XCTAssertEqual(ErrorCause.allCases.map { pool.counters.failureCount($0) }.reduce(0, +), 3, "each request failed once")
    }

    /// The issue's own setup: `GET http://127.0.0.1:9/x` (nothing listens there) from callers that leave at once. The
    /// loopback connect is refused through its write event. On the tree before the fix (82c7c37), this sequence
    /// left open and connecting at -3 (docs/evidence/double-release-before-the-fix.md).
    func testTheIssuesRefusedPortNineKeepsEveryCountWhole() throws {
        let e = try EmbeddedSession()
        for _ in 0..<3 {
            let caller = try EmbeddedSession.Caller(of: e)
            caller.sends("GET http://127.0.0.1:9/x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
            caller.close()
            caller.deliverReadable()
            caller.deliverConnectOutcome()
        }
        let pool = try XCTUnwrap(e.worker.manager.existingPool(PoolKey(host: "127.0.0.1", port: 9)))
        XCTAssertEqual(pool.state.open, 0)
        XCTAssertEqual(pool.state.connecting, 0)
        XCTAssertEqual(e.worker.manager.totalOpen, 0)
        XCTAssertEqual(pool.counters.failureCount(.connectRefused), 3, "each refused once")
    }
}
