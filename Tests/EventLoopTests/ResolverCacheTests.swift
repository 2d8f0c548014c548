// The resolver's cache stays under its capacity: expired names go first, then the one closest to expiring.
import XCTest
@testable import EventLoop

final class ResolverCacheTests: XCTestCase {
    /// Should hold at most `capacity` names however many distinct names are answered (issue 23 item 12).
    func testAFloodOfNamesKeepsTheCacheAtItsCapacity() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 50)
        defer {
            resolver.shutdown()
            base.free()
        }
        for i in 0..<1000 {
            resolver.answered(host: "name-\(i).example", wantV6: true, addresses: [[10, 0, 0, UInt8(i % 250)]], ttl: 60)
            XCTAssertLessThanOrEqual(resolver.cachedCount, 50)
        }
        XCTAssertEqual(resolver.cachedCount, 50)
    }

    /// Should answer a cached name from the cache after others came and went.
    func testTheNameLastAnsweredStaysCached() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 2)
        defer {
            resolver.shutdown()
            base.free()
        }
        resolver.answered(host: "a.example", wantV6: true, addresses: [[10, 0, 0, 1]], ttl: 10)
        resolver.answered(host: "b.example", wantV6: true, addresses: [[10, 0, 0, 2]], ttl: 300)
        // The cache is full: a third name pushes out the one closest to expiring (a).
        resolver.answered(host: "c.example", wantV6: true, addresses: [[10, 0, 0, 3]], ttl: 300)
        var got: [SocketAddress] = []
        resolver.resolve("b.example", port: 80, now: MonotonicClock.now()) { got = $0 }
        XCTAssertEqual(got.map(\.bytes), [[10, 0, 0, 2]])
        XCTAssertEqual(resolver.cachedCount, 2)
    }
}
