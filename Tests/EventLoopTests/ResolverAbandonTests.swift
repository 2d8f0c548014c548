// A lookup its caller gave up is cancelled once no one waits for its name, so it keeps no place among the queries in flight.
import XCTest
@testable import EventLoop

final class ResolverAbandonTests: XCTestCase {
    /// Should keep a name's query while any caller waits for it, and cancel it when the last one gives up (targets).
    func testTheLastWaiterToLeaveCancelsTheQuery() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 10)
        defer {
            resolver.shutdown()
            base.free()
        }
        let now = MonotonicClock.now()
        var answers = 0
        guard let first = resolver.resolve("a.invalid", port: 80, now: now, done: { _ in answers += 1 }),
              let second = resolver.resolve("a.invalid", port: 81, now: now, done: { _ in answers += 1 }),
              let other = resolver.resolve("b.invalid", port: 80, now: now, done: { _ in answers += 1 }) else {
            return XCTFail("a name outside /etc/hosts and the cache waits for DNS")
        }
        XCTAssertEqual(resolver.queriesUnderWay, 2)
        resolver.abandon(first)
        XCTAssertEqual(resolver.queriesUnderWay, 2, "the second caller still waits for a.invalid")
        resolver.abandon(second)
        XCTAssertEqual(resolver.queriesUnderWay, 1)
        resolver.abandon(second)
        XCTAssertEqual(resolver.queriesUnderWay, 1, "giving up twice is harmless")
        resolver.abandon(other)
        XCTAssertEqual(resolver.queriesUnderWay, 0)
        XCTAssertEqual(answers, 0, "a caller that gave up is never called back")
    }

    /// Should answer IP literals at once, with no wait to give up.
    func testAnAnswerGivenAtOnceReturnsNoWait() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 10)
        defer {
            resolver.shutdown()
            base.free()
        }
        var got: [SocketAddress] = []
        XCTAssertNil(resolver.resolve("127.0.0.1", port: 80, now: MonotonicClock.now()) { got = $0 })
        XCTAssertEqual(got.map(\.bytes), [[127, 0, 0, 1]])
        XCTAssertEqual(resolver.queriesUnderWay, 0)
    }
}
