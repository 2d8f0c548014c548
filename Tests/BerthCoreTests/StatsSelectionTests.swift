// /stats paging, sorting and search as pure values: StatsSelection over a snapshot, and the document in slices.
import Foundation
import XCTest
import EventLoop
@testable import BerthCore

/// StatsSelection's parameters, order and pages, and StatsDocument's slices against the one-go rendering.
final class StatsSelectionTests: XCTestCase {
    private let allowed: Set<String> = ["upstream", "q", "state", "sort", "offset", "limit"]

    private func selection(_ q: String) throws -> StatsSelection {
        try StatsSelection(AdminQuery(Substring(q), allowed: allowed))
    }

    private func names(_ s: StatsSnapshot, _ positions: [Int]) -> [String] { positions.map { s.pools[$0].key.description } }

    private func snapshot() -> StatsSnapshot {
        StatsSnapshot(pools: [
            StatsFixtures.quietPool("b.example:80", requests: 5),
            StatsFixtures.quietPool("a.example:80", requests: 5),
            StatsFixtures.quietPool("c.example:81", paused: true, requests: 9),
            StatsFixtures.quietPool("d.example:80", paused: true),
        ], takenAt: 0)
    }

    /// Should list every upstream by name when no parameter is given.
    func testDefaultIsEveryUpstreamByName() throws {
        let s = snapshot()
        let (positions, matched) = try selection("").pick(s)
        XCTAssertEqual(names(s, positions), ["a.example:80", "b.example:80", "c.example:81", "d.example:80"])
        XCTAssertEqual(matched, 4)
    }

    /// Should sort figures descending with ties by name, then cut the page after counting the matches.
    func testSortTiesAndPage() throws {
        let s = snapshot()
        XCTAssertEqual(names(s, try selection("sort=requests").pick(s).positions),
                       ["c.example:81", "a.example:80", "b.example:80", "d.example:80"])
        let page = try selection("sort=requests&offset=1&limit=2").pick(s)
        XCTAssertEqual(names(s, page.positions), ["a.example:80", "b.example:80"])
        XCTAssertEqual(page.matched, 4)
        XCTAssertEqual(try selection("offset=9").pick(s).positions, [])
    }

    /// Should match the search case-insensitively and the state exactly, counting matches before the page.
    func testSearchAndState() throws {
        let s = snapshot()
        let found = try selection("q=EXAMPLE%3A80&limit=1").pick(s)
        XCTAssertEqual(names(s, found.positions), ["a.example:80"])
        XCTAssertEqual(found.matched, 3)
        let paused = try selection("state=paused").pick(s)
        XCTAssertEqual(names(s, paused.positions), ["c.example:81", "d.example:80"])
        XCTAssertEqual(try selection("q=nowhere").pick(s).matched, 0)
    }

    /// Should refuse a bad value with a 400 that names the parameter.
    func testBadValues() {
        for (q, word) in [("limit=1001", "limit"), ("limit=x", "limit"), ("offset=-1", "offset"), ("sort=rate", "sort"),
                          ("state=frozen", "state"), ("q=" + String(repeating: "a", count: 301), "q")] {
            XCTAssertThrowsError(try selection(q), q) { e in
                let error = e as! AdminError
                XCTAssertEqual(error.status, 400)
                XCTAssertTrue(error.message.hasPrefix(word), error.message)
            }
        }
    }

    /// Should order names by their bytes, past the 16 packed into integers and for prefixes of one another.
    func testNameOrderIsByteOrder() {
        let names = ["https://a.example:443", "a.example:80", "a.example:8", "a.example:8080", "[::1]:80",
                     "verylonghostname.example:1", "verylonghostname.example:10", "verylonghostname.exampla:9",
                     "127.0.0.1:20000", "127.0.0.1:2000", "z:1"]
        let keys = names.compactMap { PoolKey(parsing: $0) }
        XCTAssertGreaterThanOrEqual(keys.count, names.count - 1)
        let order = PoolSummary.sortedByName(Array(keys.indices)) { keys[$0] }
        let expected = keys.map(\.description).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertEqual(order.map { keys[$0].description }, expected)
    }

    /// Should merge the workers' parts in slices into what the one-go merge gives, summaries in step with pools.
    func testMergerMatchesTheOneGoMerge() throws {
        let names = (0..<3000).map { "h\($0).example:80" }
        let a = StatsSnapshot(pools: names.map { StatsFixtures.quietPool($0, requests: 2) }, takenAt: 1)
        let b = StatsSnapshot(pools: names.reversed().map { StatsFixtures.quietPool($0, paused: true, requests: 3) }, takenAt: 2)
        let base = EventBase()
        var got: StatsSnapshot?
        SnapshotMerger([a, b], base: base) { got = $0 }.start()
        // 6,000 snapshots take more than one slice in a debug build; the loop ends when no timer is left.
        base.run()
        let merged = try XCTUnwrap(got)
        let expected = StatsSnapshot.merged([a, b])
        XCTAssertEqual(merged.pools.count, 3000)
        XCTAssertEqual(merged.totals[.requests], expected.totals[.requests])
        XCTAssertEqual(merged.takenAt, 2)
        for (p, s) in zip(merged.pools, merged.summaries) {
            XCTAssertEqual(p.key, s.key)
            XCTAssertEqual(s.requests, 5)
            XCTAssertTrue(s.paused && p.paused)
        }
        XCTAssertEqual(try selection("sort=requests&limit=2").pick(merged).matched, 3000)
    }

    /// Should make the same bytes in slices as in one go, whatever the deadline.
    func testSlicesMakeTheSameDocument() throws {
        let pools = (0..<300).map { StatsFixtures.busyPool("h\($0).example:80") }
        let s = StatsSnapshot(pools: pools, takenAt: 0)
        let whole = StatsRenderer.json(s, uptime: 1, profile: "test").array
        let picked = StatsSelection().pick(s)
        let doc = StatsDocument(s, order: picked.positions, matched: picked.matched, uptime: 1, profile: "test", workers: 1)
        var turns = 0
        // A deadline already past: each step writes one group of upstreams and returns.
        while !doc.step(until: 0) { turns += 1 }
        XCTAssertGreaterThan(turns, 10)
        XCTAssertEqual(doc.finish().array, whole)
    }
}
