// StatsSelection.pick against a plain full sort on random data: the bounded selection must give the same pages.
import XCTest
@testable import BerthCore

/// The page `pick` returns for random upstreams, figures full of ties, every order and many pages, compared with
/// filtering everything, sorting it all (figure descending, then name bytes) and cutting the page.
final class StatsPickTests: XCTestCase {
    /// Seeded, so that a failure comes back on the next run.
    private struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Random summaries: names that share long prefixes and differ past the 16 packed bytes, figures from 0..<4 so
    /// that most of them tie.
    private func summaries(_ n: Int, _ rng: inout Seeded) -> [PoolSummary] {
        var seen = Set<String>()
        var out: [PoolSummary] = []
        while out.count < n {
            let host = ["a", "verylonghostname.example", "127.0.0.1", "b.example", "verylonghostname.exampla"].randomElement(using: &rng)!
            let name = (Bool.random(using: &rng) ? "https://" : "") + host + ":" + String(Int.random(in: 1..<70000, using: &rng) % 65535 + 1)
            guard seen.insert(name).inserted, let key = PoolKey(parsing: name) else { continue }
            var p = PoolSnapshot(key: key, settings: StatsFixtures.settings, paused: Bool.random(using: &rng))
            p.counters[.requests] = UInt64.random(in: 0..<4, using: &rng)
            p[.open] = Int.random(in: 0..<3, using: &rng)
            p[.pending] = Int.random(in: 0..<2, using: &rng)
            out.append(PoolSummary(p))
        }
        return out
    }

    /// The page as a full sort gives it.
    private func reference(_ sel: StatsSelection, _ all: [PoolSummary]) -> (positions: [Int], matched: Int) {
        let hits = all.indices.filter { sel.matches(all[$0]) }
        let ordered = hits.sorted { a, b in
            let fa = sel.sort.figure(all[a]), fb = sel.sort.figure(all[b])
            if fa != fb { return fa > fb }
            return Array(all[a].key.description.utf8).lexicographicallyPrecedes(Array(all[b].key.description.utf8))
        }
        let from = min(sel.offset, ordered.count)
        let to = sel.limit.map { min(ordered.count, from + $0) } ?? ordered.count
        return (Array(ordered[from..<to]), hits.count)
    }

    /// Should give exactly the full sort's page for every order, search, state and page, whole lists included.
    func testPickMatchesTheFullSort() throws {
        var rng = Seeded(state: 22)
        for n in [0, 1, 2, 7, 50, 333, 900] {
            let all = summaries(n, &rng)
            for sort in StatsSort.allCases {
                for (offset, limit) in [(0, nil), (0, 50), (0, 1), (3, 5), (n / 2, 50), (max(0, n - 50), 50), (max(0, n - 3), 10), (n, 5), (n + 7, 1), (1, nil), (0, 0), (0, 1000)] as [(Int, Int?)] {
                    for filter in ["", "&state=paused", "&q=Very", "&q=exampla&state=active", "&q=nothing-matches"] {
                        var q = "sort=\(sort.rawValue)&offset=\(offset)" + filter
                        if let limit { q += "&limit=\(limit)" }
                        let sel = try StatsSelection(AdminQuery(Substring(q), allowed: ["q", "state", "sort", "offset", "limit"]))
                        let got = sel.pick(all)
                        let want = reference(sel, all)
                        XCTAssertEqual(got.matched, want.matched, "n=\(n) \(q)")
                        XCTAssertEqual(got.positions, want.positions, "n=\(n) \(q)")
                    }
                }
            }
        }
    }
}
