// The resolver's cache stays under its capacity: expired names go first, then those closest to expiring, in batches.
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
            resolver.finish("name-\(i).example", addresses: [[10, 0, 0, UInt8(i % 250)]], ttl: 60)
            XCTAssertLessThanOrEqual(resolver.cachedCount, 50)
        }
        // Room is made a batch at a time (a sixteenth of the capacity, here 3).
        XCTAssertGreaterThanOrEqual(resolver.cachedCount, 47)
    }

    /// Should answer a cached name from the cache after others came and went.
    func testTheNameLastAnsweredStaysCached() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 2)
        defer {
            resolver.shutdown()
            base.free()
        }
        resolver.finish("a.example", addresses: [[10, 0, 0, 1]], ttl: 10)
        resolver.finish("b.example", addresses: [[10, 0, 0, 2]], ttl: 300)
        // The cache is full: a third name pushes out the one closest to expiring (a).
        resolver.finish("c.example", addresses: [[10, 0, 0, 3]], ttl: 300)
        var got: [SocketAddress] = []
        resolver.resolve("b.example", port: 80, now: MonotonicClock.now()) { got = $0 }
        XCTAssertEqual(got.map(\.bytes), [[10, 0, 0, 2]])
        XCTAssertEqual(resolver.cachedCount, 2)
    }

    /// Should cost O(1) per new name, amortized, once the cache is full (hostile1 item 2): a flood of distinct names
    /// paid a scan of every cached entry (two, with the filter) per name.
    func testAFloodOfNamesCostsConstantWorkPerName() {
        let base = EventBase()
        let resolver = Resolver(base: base, capacity: 1600)
        defer {
            resolver.shutdown()
            base.free()
        }
        for i in 0..<1600 {
            resolver.finish("warm-\(i).example", addresses: [[10, 0, 0, 1]], ttl: 60)
        }
        let before = resolver.evictionWork
        let names = 16_000
        for i in 0..<names {
            resolver.finish("flood-\(i).example", addresses: [[10, 0, 0, 2]], ttl: 60)
        }
        let perName = Double(resolver.evictionWork - before) / Double(names)
        XCTAssertLessThanOrEqual(perName, 64, "entries looked at per new name")
        XCTAssertLessThanOrEqual(resolver.cachedCount, 1600)
    }
}
