// Whole caller sessions driven event by event over in-kernel socket pairs, no loop and no port: the paths of one request.
import Glibc
import XCTest
@testable import BerthCore

final class EmbeddedSessionTests: XCTestCase {
    private let get = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n"
    private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    /// A session that carried one request and pooled its connection; everything sent so far is read.
    private func servedOnce() throws -> EmbeddedSession {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        e.upstreamSends(ok)
        _ = e.callerReceives()
        return e
    }

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
        let e = try servedOnce()
        e.callerSends(get)
        XCTAssertTrue(e.upstreamReceives(0).hasPrefix("GET"), "the request went out on the pooled connection")
        e.upstreamCloses(0)
        guard e.acceptUpstreams() == 1 else { return XCTFail("not retried on a new connection") }
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /run"))
        e.upstreamSends(ok, on: 1)
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 200 OK"))
        XCTAssertEqual(e.pool?.counters[.retries], 1)
    }

    /// Should start a retry from the session's action loop once the relay that found the dead connection returned,
    /// never from inside that relay (relay → retry → acquire → connect → send → relay nested before).
    func testARetryStartsFromTheActionLoopNotInsideTheRelay() throws {
        let e = try servedOnce()
        e.callerSends(get)
        XCTAssertTrue(e.upstreamReceives(0).hasPrefix("GET"))
        e.closeUpstreamEnd(0)
        // The upstream's end reaches the relay alone, without the action loop that ends every event.
        e.session.upstreamReadable()
        XCTAssertEqual(e.session.machine.phase, .routing, "the relay gave the connection back and asked the pool nothing")
        XCTAssertEqual(e.acceptUpstreams(), 0, "no connect started inside the relay")
        e.session.drive()
        guard e.acceptUpstreams() == 1 else { return XCTFail("the action loop did not retry") }
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /run"))
        e.upstreamSends(ok, on: 1)
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 200 OK"))
        XCTAssertEqual(e.pool?.counters[.retries], 1)
    }

    /// Should see an idle connection's close at once, so no request is ever sent on it.
    func testAnIdleConnectionClosedByTheServerLeavesThePool() throws {
        let e = try servedOnce()
        XCTAssertEqual(e.pool?.state.idle.count, 1)
        e.upstreamCloses(0)
        e.idleUpstreamsReadable()
        XCTAssertEqual(e.pool?.state.idle.count, 0)
        XCTAssertEqual(e.pool?.state.open, 0)
    }

    /// Should close the caller unanswered when the request head cannot be written to the connection it was given
    /// (`send`: the head goes out before the lease moves into the session state), and still give that lease back
    /// through the gate once: nothing busy, nothing in flight, nothing pooled or open, the session gone.
    func testAHeadThatCannotBeWrittenClosesTheCallerAndGivesTheLeaseBack() throws {
        let e = try servedOnce()
        let pool = try XCTUnwrap(e.pool)
        let idle = try XCTUnwrap(pool.state.idle.first)
        // Closed behind the pool's back, the channel refuses the head as one out of memory does (`writeInPlace`).
        idle.conn.channel.close()
        e.callerSends(get)
        XCTAssertEqual(e.acceptUpstreams(), 0, "the pooled connection was taken, no new one opened")
        XCTAssertEqual(e.callerReceives(), "", "no answer after a head that did not go out")
        XCTAssertTrue(e.callerClosedByBerth)
        XCTAssertEqual(pool.state.busy, 0)
        XCTAssertEqual(pool.inFlight, 0)
        XCTAssertEqual(pool.state.idle.count, 0)
        XCTAssertEqual(pool.state.open, 0)
        XCTAssertEqual(e.worker.manager.totalOpen, 0)
        XCTAssertEqual(e.worker.callerCount, 0)
        XCTAssertEqual(pool.counters[.reused], 1)
        XCTAssertEqual(pool.counters[.requests], 2)
        // The connection closed because the request did not go out, not because the caller left (it did not).
        XCTAssertEqual(pool.counters.closedCount(.requestIncomplete), 1)
        XCTAssertEqual(pool.counters.closedCount(.callerAborted), 0)
        XCTAssertEqual(e.session.machine.phase, .closed)
    }

    /// Should retry on a fresh connection when the pooled one fails as its head is first flushed (the server closed
    /// it unseen): the failure comes synchronously, from the relay's first turn right after `send` moved the lease
    /// into the state, and the lease goes back once, the retry's connection pooled in its place.
    func testAPooledConnectionThatFailsOnTheHeadsFlushIsRetriedOnce() throws {
        let e = try servedOnce()
        let pool = try XCTUnwrap(e.pool)
        e.closeUpstreamEnd(0)
        e.callerSends(get)
        // A failed write ends nothing by itself (reliability.md, bug 22): the read event the loop delivers for the
        // closed peer says what it sent first, here nothing, and that end is the retry's.
        e.first.deliverUpstreamReadable()
        guard e.acceptUpstreams() == 1 else { return XCTFail("not retried on a new connection") }
        XCTAssertTrue(e.upstreamReceives(1).hasPrefix("GET /run"))
        e.upstreamSends(ok, on: 1)
        XCTAssertTrue(e.callerReceives().hasPrefix("HTTP/1.1 200 OK"))
        XCTAssertEqual(pool.counters[.retries], 1)
        XCTAssertEqual(pool.counters[.requests], 2)
        XCTAssertEqual(pool.state.busy, 0)
        XCTAssertEqual(pool.inFlight, 0)
        XCTAssertEqual(pool.state.idle.count, 1)
        XCTAssertEqual(pool.state.open, 1)
    }

    /// Should answer 504 when the upstream says nothing for the socket timeout, and close that connection.
    func testASilentUpstreamTimesOut() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        XCTAssertTrue(e.upstreamReceives().hasPrefix("GET /run HTTP/1.1\r\n"))
        e.upstreamTimesOut()
        let answer = e.callerReceives()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 504 "), answer)
        XCTAssertTrue(answer.contains("Berth-Error: read-timeout"), answer)
        XCTAssertEqual(e.pool?.state.open, 0)
    }

    /// Should count the bytes an upstream takes as its progress when the socket timeout fires with some still
    /// unread: one more timeout to show progress, a new one for each run taken, a 504 once a whole one passes
    /// with nothing taken (issue 23: the socket timeout is the longest silence in either direction).
    func testAnUpstreamStillTakingTheRequestIsNotSilent() throws {
        let e = try EmbeddedSession()
        // The head and the body leave in two writes, so the upstream can take one and leave the other.
        e.callerSends("POST /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\nContent-Length: 100\r\n\r\n")
        e.acceptUpstreams()
        var peek = [UInt8](repeating: 0, count: 4096)
        let queued = recv(e.upstreamEnds[0], &peek, peek.count, Int32(MSG_DONTWAIT | MSG_PEEK))
        XCTAssertGreaterThan(queued, 0)
        e.callerSends(String(repeating: "b", count: 100))
        e.upstreamTimesOut()
        XCTAssertEqual(e.callerReceives(), "", "the first look has nothing to compare with: one more timeout")
        XCTAssertEqual(recv(e.upstreamEnds[0], &peek, queued, Int32(MSG_DONTWAIT)), queued, "the upstream takes the head")
        e.upstreamTimesOut()
        XCTAssertEqual(e.callerReceives(), "", "the head was taken since the last look: not silent")
        e.upstreamTimesOut()
        let answer = e.callerReceives()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 504 "), answer)
        XCTAssertTrue(answer.contains("Berth-Error: read-timeout"), answer)
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

extension EmbeddedSessionTests {
    /// Should finish moving a body whose buffered runs outlast one event's budget: a queued request's chunked body
    /// arrives in several reads (several chains, one relay step each) while it waits for the pool, and once it has a
    /// connection the relay yields (after 3 steps here, so that a few chains reach it); the readable event the loop
    /// then delivers on the upstream must continue it, though the upstream itself sent nothing.
    func testARelayThatSpentItsBudgetContinuesOnTheNextEvent() throws {
        let e = try EmbeddedSession { $0.limits.maxPerRoute = 1 }
        e.worker.settings.relayStepsPerEvent = 3
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        // Room in berth's socket for the whole body, so no write ever meets EAGAIN: the only event that can continue
        // the relay is the read it schedules when it yields (SO_SNDBUFFORCE: root, as the tests run).
        var room: CInt = 8 << 20
        let fd = try XCTUnwrap(e.session.machine.state.connection?.channel.fd)
        XCTAssertEqual(setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &room, socklen_t(MemoryLayout<CInt>.size)), 0)
        let pieces = 100, piece = 4096
        let waiting = try EmbeddedSession.Caller(of: e)
        waiting.sends("POST /upload HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\nTransfer-Encoding: chunked\r\n\r\n")
        waiting.deliverReadable()
        XCTAssertNotNil(waiting.session.machine.queuedSince, "the second request waits for the one connection")
        let chunk = String(piece, radix: 16) + "\r\n" + String(repeating: "b", count: piece) + "\r\n"
        for i in 0..<pieces {
            waiting.sends(i == pieces - 1 ? chunk + "0\r\n\r\n" : chunk)
            waiting.deliverReadable()
        }
        let body = pieces * chunk.utf8.count + 5
        e.upstreamSends(ok)  // the first exchange ends: its connection goes to the waiting session
        var received = 0
        received += e.upstreamReceives().utf8.count
        for _ in 0..<50 where received < body {
            waiting.deliverUpstreamReadable()
            received += e.upstreamReceives().utf8.count
        }
        XCTAssertGreaterThanOrEqual(received, body, "the whole body reached the upstream")
    }
}
