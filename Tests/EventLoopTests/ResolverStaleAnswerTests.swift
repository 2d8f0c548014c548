// An answer to a query a caller gave up, delivered after a newer query for the same name began, leaves that query alone.
import Glibc
import XCTest
@testable import EventLoop

final class ResolverStaleAnswerTests: XCTestCase {
    /// Runs `base` for `nanos`, then returns.
    private func run(_ base: EventBase, for nanos: Nanos) {
        let stop = OneShotTimer(base: base) { base.stop() }
        stop.start(after: nanos)
        base.run()
        stop.cancel()
    }

    /// Should keep the record of the newer query when the older one's answer was already queued as its last caller
    /// gave up: evdns_cancel_request does nothing to a request whose callback is pending, so that answer still
    /// comes, and it cleared the newer query's record. The newer query could then no longer be cancelled and held
    /// its place among the queries in flight until evdns gave up on it (item 66's cancel, undone).
    func testAnAnswerQueuedBeforeItsCancelLeavesTheNewerQuery() {
        let dns = FakeDNSServer()
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 10, nameservers: [dns.address])
        defer {
            resolver.shutdown()
            base.free()
            dns.close()
        }
        let now = MonotonicClock.now()
        var firstAnswers = 0
        guard let first = resolver.resolve("a.test", port: 80, now: now, done: { _ in firstAnswers += 1 }) else {
            return XCTFail("a.test waits for DNS")
        }
        guard let query = dns.nextQuery() else { return XCTFail("no query reached the server") }
        XCTAssertEqual(query.name, "a.test")
        dns.answer(query, addresses: [[10, 0, 0, 1]])
        usleep(100_000)
        // On the loop's first turn the answer is read (its callback deferred to later in the turn), then this timer,
        // which runs before that callback: the caller leaves and another asks for the name again. The server never
        // answers the second query.
        var second: Resolver.Lookup?
        var secondAnswers: [[UInt8]] = []
        let race = OneShotTimer(base: base) {
            resolver.abandon(first)
            second = resolver.resolve("a.test", port: 81, now: MonotonicClock.now()) { secondAnswers = $0.map(\.bytes) }
        }
        race.start(after: 0)
        run(base, for: 300_000_000)
        XCTAssertEqual(firstAnswers, 0, "a caller that gave up is never called back")
        XCTAssertNotNil(second)
        // The second caller leaves too; no query should be left flying for nobody.
        if let second, secondAnswers.isEmpty { resolver.abandon(second) }
        run(base, for: 100_000_000)
        XCTAssertEqual(resolver.queriesUnderWay, 0)
        XCTAssertEqual(resolver.queriesInEvdns, 0, "a query no one waits for and the resolver can no longer cancel")
    }
}
