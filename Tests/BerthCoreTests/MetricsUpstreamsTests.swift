// Which upstreams get series of their own in /metrics under none, active and all, and what the totals keep.
import XCTest
@testable import BerthCore

final class MetricsUpstreamsTests: XCTestCase {
    private typealias F = StatsFixtures
    private let now: Nanos = 100 * StatsFixtures.minute

    /// One pool of each kind the rule tells apart.
    private func fleet() -> StatsSnapshot {
        var pending = F.quietPool("pending.example:80")
        pending[.pending] = 1
        return StatsSnapshot(pools: [
            F.busyPool("busy.example:80", lastActivity: now - 60 * F.minute),
            pending,
            F.quietPool("recent.example:80", requests: 3, lastActivity: now - 4 * F.minute),
            F.quietPool("stale.example:80", requests: 3, lastActivity: now - 6 * F.minute),
            F.quietPool("paused-new.example:80", paused: true, lastActivity: now),
            F.quietPool("paused-stale.example:80", paused: true, requests: 2, lastActivity: now - 30 * F.minute),
            F.quietPool("untouched.example:80", lastActivity: now),
        ], takenAt: now)
    }

    /// The upstreams that have a series of their own in family `metric`.
    private func upstreams(_ text: String, _ metric: String) -> Set<String> {
        var out = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix(metric + "{upstream=\"") {
            let rest = line.dropFirst(metric.count + 11)
            out.insert(String(rest[..<rest.firstIndex(of: "\"")!]))
        }
        return out
    }

    /// Should list, under `active`, the upstreams holding connections or requests and those used within five
    /// minutes; a paused upstream not in use keeps only its paused series; totals cover every upstream.
    func testActiveListsUpstreamsInUseAndEveryPause() {
        let text = F.metricsText(fleet(), .active)
        let inUse: Set = ["busy.example:80", "pending.example:80", "recent.example:80"]
        for stat in UpstreamStat.allCases where stat.column.kind != .histogram {
            let listed = upstreams(text, "\(stat.column.metric)")
            switch stat.column.kind {
            case .counterBy: XCTAssertTrue(listed.isSubset(of: inUse), "\(stat): \(listed)")
            default: XCTAssertEqual(listed, inUse, "\(stat)")
            }
        }
        XCTAssertEqual(upstreams(text, "berth_acquire_wait_seconds_count"), inUse)
        XCTAssertEqual(upstreams(text, "berth_upstream_epoch"), inUse)
        XCTAssertEqual(upstreams(text, "berth_upstream_paused"), inUse.union(["paused-new.example:80", "paused-stale.example:80"]))
        let samples = F.samples(text)
        XCTAssertEqual(samples[F.series("berth_upstream_paused", [("upstream", "paused-stale.example:80")])], "1")
        XCTAssertEqual(samples[F.series("berth_upstream_paused", [("upstream", "busy.example:80")])], "0")
        XCTAssertEqual(samples["berth_upstream_paused"], "2", "the total counts paused upstreams")
        XCTAssertEqual(samples["berth_requests_total"], "\(100 + UpstreamStat.requests.slot + 3 + 3 + 2)", "totals cover every upstream")
        XCTAssertEqual(samples["berth_upstream_pending_requests"], "\(1 + UpstreamStat.pending.slot + 1)")
    }

    /// Should leave out, per upstream, a reason or cause that never moved, and keep every one in the totals.
    func testZeroCausesAndReasonsAreLeftOutPerUpstreamButNotInTotals() {
        let samples = F.samples(F.metricsText(fleet(), .all))
        let recent = ("upstream", "recent.example:80")
        XCTAssertEqual(samples[F.series("berth_upstream_failures_total", [recent, ("cause", "connect-refused")])], "1")
        for f in ErrorCause.allCases where f != .connectRefused {
            XCTAssertNil(samples[F.series("berth_upstream_failures_total", [recent, ("cause", f.rawValue)])], "\(f)")
        }
        for r in CloseReason.allCases {
            XCTAssertNil(samples[F.series("berth_connections_closed_total", [recent, ("reason", r.rawValue)])], "\(r)")
            XCTAssertNotNil(samples[F.series("berth_connections_closed_total", [("reason", r.rawValue)])], "\(r)")
        }
        for f in ErrorCause.allCases {
            XCTAssertNotNil(samples[F.series("berth_upstream_failures_total", [("cause", f.rawValue)])], "\(f)")
            XCTAssertNotNil(samples[F.series("berth_errors_total", [("cause", f.rawValue)])], "\(f)")
        }
        XCTAssertEqual(samples[F.series("berth_requests_total", [recent])], "3", "plain counts stay, zero or not")
        XCTAssertEqual(samples[F.series("berth_retries_total", [recent])], "0")
    }

    /// Should give every upstream berth knows its series under `all`.
    func testAllListsEveryUpstream() {
        let s = fleet()
        let text = F.metricsText(s, .all)
        let every = Set(s.pools.map(\.key.description))
        XCTAssertEqual(upstreams(text, "berth_requests_total"), every)
        XCTAssertEqual(upstreams(text, "berth_time_to_first_byte_seconds_count"), every)
        XCTAssertEqual(upstreams(text, "berth_upstream_paused"), every)
    }

    /// Should write no `upstream` label at all under `none`, and no epoch family; the totals stay.
    func testNoneKeepsTotalsOnly() {
        let text = F.metricsText(fleet(), .none)
        XCTAssertFalse(text.contains("upstream=\""))
        XCTAssertFalse(text.contains("berth_upstream_epoch"))
        let samples = F.samples(text)
        XCTAssertEqual(samples["berth_upstream_paused"], "2")
        XCTAssertEqual(samples["berth_upstreams"], "7")
        for stat in UpstreamStat.all(.counter) { XCTAssertNotNil(samples["\(stat.column.metric)"], "\(stat)") }
    }

    /// Should list an upstream that is used again after a quiet spell, and drop it five minutes after its last use.
    func testAnUpstreamComesBackWhenUsedAndGoesWhenQuiet() {
        let pool = F.quietPool("a.example:80", requests: 1, lastActivity: now)
        XCTAssertTrue(MetricsUpstreams.active.listsFully(pool, at: now))
        XCTAssertTrue(MetricsUpstreams.active.listsFully(pool, at: now + MetricsUpstreams.recentWindow - 1))
        XCTAssertFalse(MetricsUpstreams.active.listsFully(pool, at: now + MetricsUpstreams.recentWindow))
        XCTAssertFalse(MetricsUpstreams.active.listsPause(pool, at: now + MetricsUpstreams.recentWindow))
        XCTAssertFalse(MetricsUpstreams.none.listsPause(F.quietPool("b.example:80", paused: true), at: now))
    }

    /// Should keep the default scrape of 10,000 paused, never used upstreams under 2 MB (issue 16: it was 61 MB).
    func testTenThousandPausedUpstreamsStayUnderTwoMegabytes() {
        let pools = (0..<10_000).map { F.quietPool("127.0.0.1:\(20_000 + $0)", paused: true, lastActivity: now) }
        let s = StatsSnapshot(pools: pools, takenAt: now)
        let active = MetricsRenderer.text(s, uptime: 1, profile: "test", upstreams: .active).count
        let none = MetricsRenderer.text(s, uptime: 1, profile: "test", upstreams: .none).count
        let all = MetricsRenderer.text(s, uptime: 1, profile: "test", upstreams: .all).count
        XCTAssertLessThan(active, 2_000_000)
        XCTAssertLessThan(none, 20_000)
        XCTAssertGreaterThan(all, 10 * active, "all still lists every upstream in full")
    }
}
