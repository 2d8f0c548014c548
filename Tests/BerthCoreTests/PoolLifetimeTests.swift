// The lifetimes the pools promise: an idle connection's pool outlives it, and a pool marked to forget takes no new idle connection.
import Glibc
import XCTest
import EventLoop
@testable import BerthCore

/// The two sequences an AddressSanitizer build of berth reported as heap-use-after-free (issue 21): each drives a
/// real worker's manager through the admin commands' calls, over the embedded session's Unix socket upstream.
final class PoolLifetimeTests: XCTestCase {
    private let get = "GET /run HTTP/1.1\r\nHost: \(EmbeddedSession.upstream)\r\n\r\n"
    private let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    private let endpoint = PoolKey(host: "fn", port: 80)

    /// What /evict?upstream=fn:80&forget=true does on one worker (AdminRoutes.evict): true when forgotten now.
    private func evictAndForget(_ e: EmbeddedSession, idleFor: Nanos?) -> Bool {
        let m = e.worker.manager
        _ = m.evict(endpoint, idleFor: idleFor, now: MonotonicClock.now())
        return m.forget(endpoint: endpoint)
    }

    /// A worker whose only tie to the embedded upstream's pool is one idle connection, opened by /resume?prewarm=1
    /// (so no session caches the pool), then /evict?idle_for=1h&forget=true: too young to go, so the forget waits.
    private func idleInAPoolMarkedToForget(configure: (inout BerthConfiguration) -> Void = { _ in }) throws
        -> (EmbeddedSession, UpstreamConnection) {
        let e = try EmbeddedSession(configure: configure)
        let m = e.worker.manager
        let pool = m.pool(for: endpoint, now: MonotonicClock.now())
        XCTAssertEqual(Prewarmer.start(count: 1, pool: pool, worker: e.worker), 1)
        e.acceptUpstreams()
        let conn = try XCTUnwrap(pool.state.idle.first?.conn, "the prewarmed connection went idle")
        XCTAssertFalse(evictAndForget(e, idleFor: 3_600_000_000_000), "a young idle connection stays: the forget waits")
        XCTAssertTrue(pool.forgetWhenEmpty)
        XCTAssertEqual(pool.state.idle.count, 1)
        return (e, conn)
    }

    /// Should keep the pool alive while its last idle connection ends, closed by its origin, and forget it then.
    /// Before the fix the pool was freed under `idleConnectionEnded`, which then read `conn.pool.slot` (ASan:
    /// heap-use-after-free); here the weak reference found the pool gone while its connection was still alive.
    func testAnIdleConnectionClosedByItsOriginKeepsItsPoolMarkedToForgetAlive() throws {
        var (e, conn): (EmbeddedSession, UpstreamConnection?) = try idleInAPoolMarkedToForget()
        weak let pool = e.pool
        e.closeUpstreamEnd(0)
        conn?.channelReadable(conn!.channel)
        XCTAssertNil(e.worker.manager.existingPool(endpoint), "the last connection closed: the entry went")
        XCTAssertNotNil(pool, "a connection keeps the pool it belongs to alive")
        XCTAssertEqual(pool?.forgotten, true)
        XCTAssertEqual(e.worker.manager.forgottenTotals.closedCount(.peerClosedIdle), 1, "counted before the pool went")
        XCTAssertNil(e.worker.manager.ledger.invariantViolation())
        conn = nil
        XCTAssertNil(pool, "nothing else holds a forgotten pool")
    }

    /// Should do the same when the last idle connection times out.
    func testAnIdleConnectionThatTimesOutKeepsItsPoolMarkedToForgetAlive() throws {
        var (e, conn): (EmbeddedSession, UpstreamConnection?) = try idleInAPoolMarkedToForget { $0.timeouts.idle = .nanoseconds(1) }
        weak let pool = e.pool
        conn?.channelTimedOut(conn!.channel)
        XCTAssertNil(e.worker.manager.existingPool(endpoint), "the last connection closed: the entry went")
        XCTAssertNotNil(pool, "a connection keeps the pool it belongs to alive")
        XCTAssertEqual(e.worker.manager.forgottenTotals.closedCount(.idleTimeout), 1, "counted before the pool went")
        XCTAssertNil(e.worker.manager.ledger.invariantViolation())
        conn = nil
        XCTAssertNil(pool, "nothing else holds a forgotten pool")
    }

    /// Should open no connection into a pool marked to forget: /evict?forget=true while a request is in flight, then
    /// /resume?prewarm=2. Before the fix both prewarmed connections went idle in the doomed pool (idle count 2), and
    /// the pool was freed under the first of them to end.
    func testAPoolMarkedToForgetTakesNoPrewarmedConnections() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        weak let pool = e.pool
        XCTAssertFalse(evictAndForget(e, idleFor: nil), "a request is in flight: the forget waits")
        let m = e.worker.manager
        let (pools, _) = m.resume(endpoint, now: MonotonicClock.now())
        let started = m.prewarmTarget(pools).map { Prewarmer.start(count: 2, pool: $0, worker: e.worker) } ?? 0
        XCTAssertEqual(started, 0, "no connection is opened ahead of demand for a pool about to go")
        XCTAssertEqual(pool?.state.idle.count, 0)
        XCTAssertEqual(pool?.state.open, 1, "only the busy connection")
        e.upstreamSends(ok)
        XCTAssertTrue(e.callerReceives().hasSuffix("ok"))
        XCTAssertNil(m.existingPool(endpoint), "the in-flight request ended: the entry went")
        XCTAssertEqual(m.totalOpen, 0)
        XCTAssertNil(m.ledger.invariantViolation())
    }

    /// Should close a prewarmed connection whose connect was under way when the forget came: the pool takes it neither
    /// idle nor busy, and goes once it is closed.
    func testAConnectUnderWayWhenTheForgetCameIsClosed() throws {
        let e = try EmbeddedSession()
        e.callerSends(get)
        e.acceptUpstreams()
        _ = e.upstreamReceives()
        let m = e.worker.manager
        let pool = try XCTUnwrap(e.pool)
        guard let ticket = m.reservePrewarm(pool) else { return XCTFail("no room to prewarm") }
        XCTAssertFalse(evictAndForget(e, idleFor: nil))
        var fds: [CInt] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { close(fds[1]) }
        m.prewarmed(ticket, pool: pool, channel: Channel(base: e.worker.base, fd: fds[0]), now: MonotonicClock.now())
        XCTAssertEqual(pool.state.idle.count, 0, "closed, not pooled")
        XCTAssertEqual(pool.counters.closedCount(.evicted), 1)
        e.upstreamSends(ok)
        XCTAssertNil(m.existingPool(endpoint))
        XCTAssertTrue(pool.forgotten)
        XCTAssertNil(m.ledger.invariantViolation())
    }
}
