// Berth-Generation's pure rules (current, new, stale, the bounded record, two workers' changes) and the pools they move.
import EventLoop
import XCTest
@testable import BerthCore

final class GenerationsTests: XCTestCase {
    /// Should accept 1 to 64 visible ASCII characters and nothing else.
    func testTokenSyntax() {
        XCTAssertTrue(Generations.isValid("a"))
        XCTAssertTrue(Generations.isValid(String(repeating: "f", count: 64)), "a container id")
        XCTAssertTrue(Generations.isValid("fn-42@sha256:abc/1"))
        XCTAssertFalse(Generations.isValid(""))
        XCTAssertFalse(Generations.isValid(String(repeating: "f", count: 65)))
        XCTAssertFalse(Generations.isValid("a b"))
        XCTAssertFalse(Generations.isValid("a\tb"))
        XCTAssertFalse(Generations.isValid("é"))
    }

    /// Should take the first generation as a change (connections opened before it are of no known generation),
    /// keep it current, refuse it once replaced, and never let it come back.
    func testANewGenerationRetiresTheOldOneForGood() {
        var g = Generations()
        XCTAssertEqual(g.verdict("A"), .change)
        g.adopt("A", stamp: 1)
        XCTAssertEqual(g.verdict("A"), .current)
        XCTAssertEqual(g.verdict("B"), .change)
        g.adopt("B", stamp: 2)
        XCTAssertEqual(g.current, "B")
        XCTAssertEqual(g.verdict("A"), .stale, "a late request naming the replaced generation")
        XCTAssertEqual(g.verdict("B"), .current)
        XCTAssertFalse(g.heard("A", stamp: 99), "a retired generation is never current again, whatever its stamp")
        XCTAssertEqual(g.current, "B")
    }

    /// Should remember at most `retiredLimit` retired generations: a flood of new ones keeps the memory fixed, and
    /// only the oldest falls out (and would then be taken for a new one).
    func testTheRecordOfRetiredGenerationsIsBounded() {
        var g = Generations()
        let n = Generations.retiredLimit + 5
        for i in 0...n {
            XCTAssertEqual(g.verdict("gen-\(i)"), .change)
            g.adopt("gen-\(i)", stamp: UInt64(i + 1))
        }
        let remembered = (0..<n).filter { g.verdict("gen-\($0)") == .stale }
        XCTAssertEqual(remembered, Array((n - Generations.retiredLimit)..<n), "the newest retired ones, no more")
        XCTAssertEqual(g.verdict("gen-0"), .change, "past the record: taken for a new generation")
    }

    /// Should end two workers' concurrent changes in the same place: the later stamp wins on both, and the other
    /// generation is retired on both.
    func testConcurrentChangesConvergeOnTheLaterStamp() {
        var w0 = Generations(), w1 = Generations()
        w0.adopt("A", stamp: 1)
        XCTAssertTrue(w1.heard("A", stamp: 1))
        w0.adopt("B", stamp: 2)
        w1.adopt("C", stamp: 3)
        XCTAssertTrue(w0.heard("C", stamp: 3))
        XCTAssertFalse(w1.heard("B", stamp: 2), "an earlier change only retires its generation")
        XCTAssertEqual(w0.current, "C")
        XCTAssertEqual(w1.current, "C")
        for g in [w0, w1] {
            XCTAssertEqual(g.verdict("A"), .stale)
            XCTAssertEqual(g.verdict("B"), .stale)
        }
    }

    /// Should give a new epoch and hand back every idle connection, leaving the counts whole.
    func testANewEpochTakesTheIdleConnections() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        let w = FakeWaiter(1)
        let t = set.checkout(s, waiter: w, allowReuse: true).ticket()!
        let conn = FakeConn(1)
        let lease = set.connected(t, conn: conn)
        guard case .pooled = set.release(lease, verdict: nil, openedAt: 0, now: 0) else { return XCTFail("not pooled") }
        let before = set.epoch(s)
        let idle = set.moveEpoch(s)
        XCTAssertTrue(idle.count == 1 && idle[0] === conn)
        XCTAssertEqual(set.epoch(s), before + 1)
        XCTAssertEqual(set[s].open, 0)
        XCTAssertFalse(set.isPaused(s), "a new generation does not pause")
        XCTAssertNil(set.invariantViolation())
    }

    /// Should move every pool of the address (http://, https://, CONNECT's) to the new generation, count the change
    /// once per pool, and give a pool made later the same record.
    func testANewGenerationMovesEveryPoolOfTheAddress() {
        let base = EventBase()
        var c = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1)))
        c.workers = 1
        let m = PoolManager(base: base, settings: ManagerSettings(c))
        defer { m.posted.free(); base.free() }
        let endpoint = PoolKey(host: "fn-1", port: 8080)
        let http = m.pool(for: endpoint, now: 0)
        let https = m.pool(for: endpoint.with(tls: TLSSettings()), now: 0)
        XCTAssertEqual(m.nameGeneration("A", at: http, now: 0), .change)
        XCTAssertEqual(m.nameGeneration("A", at: https, now: 0), .current, "the https:// pool heard it")
        let epochs = (http.state.epoch, https.state.epoch)
        XCTAssertEqual(m.nameGeneration("B", at: https, now: 0), .change)
        XCTAssertEqual(http.state.epoch, epochs.0 + 1)
        XCTAssertEqual(https.state.epoch, epochs.1 + 1)
        XCTAssertEqual(m.nameGeneration("A", at: http, now: 0), .stale)
        XCTAssertEqual(http.counters[.generationChanges], 2)
        XCTAssertEqual(https.counters[.generationChanges], 2)
        let other = m.pool(for: PoolKey(host: "fn-2", port: 8080), now: 0)
        XCTAssertEqual(m.nameGeneration("A", at: other, now: 0), .change, "another address has its own generations")
        let tunnel = m.tunnelPool(for: endpoint, now: 0)!
        XCTAssertEqual(tunnel.generations.current, "B", "a pool made later inherits the address's record")
        XCTAssertEqual(m.nameGeneration("A", at: tunnel, now: 0), .stale)
    }

    /// Should leave a paused upstream paused (a generation moves the epoch, it does not resume) and keep the record
    /// through a /resume, which moves the epoch again without touching the generations.
    func testAGenerationComposesWithAPause() {
        let base = EventBase()
        let c = BerthConfiguration(profile: "test", timeouts: Timeouts(connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1)))
        let m = PoolManager(base: base, settings: ManagerSettings(c))
        defer { m.posted.free(); base.free() }
        let endpoint = PoolKey(host: "fn-1", port: 8080)
        let pool = m.pool(for: endpoint, now: 0)
        XCTAssertEqual(m.nameGeneration("A", at: pool, now: 0), .change)
        _ = m.pause(endpoint, rejectNew: false, hold: nil, now: 0)
        let paused = pool.state.epoch
        XCTAssertEqual(m.nameGeneration("B", at: pool, now: 0), .change)
        XCTAssertTrue(pool.state.isPaused, "a new generation does not resume")
        XCTAssertEqual(pool.state.epoch, paused + 1)
        _ = m.resume(endpoint, now: 0)
        XCTAssertFalse(pool.state.isPaused)
        XCTAssertEqual(pool.generations.current, "B")
        XCTAssertEqual(m.nameGeneration("A", at: pool, now: 0), .stale)
    }
}
