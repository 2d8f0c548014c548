// Snapshots built from plain values for the stats tests, and readers for the /stats and /metrics they render.
import Foundation
import XCTest
@testable import BerthCore

/// Builds pools and snapshots without a worker, and parses what the renderers write.
enum StatsFixtures {
    static let settings = RouteSettings(maxPerRoute: 4, maxPending: 8, socketTimeout: 1_000_000, connectTimeout: 1_000_000, acquireTimeout: 1_000_000, replay: .idempotent, handshakeTimeout: 1_000_000)
    static let minute: Nanos = 60 * 1_000_000_000

    /// A pool whose every figure of the table is non-zero and distinct: gauges 1..., counts 100..., reason and cause
    /// `i` counted `i + 1` times, latencies observed `slot + 1` times.
    static func busyPool(_ name: String, lastActivity: Nanos = 0) -> PoolSnapshot {
        var c = UpstreamCounters()
        // Each value of every split counted position + 1 times; countRetry counts `retries` too, which is set after.
        for (i, r) in RetryReason.allCases.enumerated() { for _ in 0...i { c.countRetry(r) } }
        for (i, r) in ReplaySkip.allCases.enumerated() { for _ in 0...i { c.countReplaySkip(r) } }
        c.setPauses(PauseCounts(api: 1, watch: 2, both: 3, resumes: 0), adding: false)
        for stat in UpstreamStat.all(.counter) { c[stat] = UInt64(100 + stat.slot) }
        for r in CloseReason.allCases { for _ in 0...r.index { c.countClose(r) } }
        for f in ErrorCause.allCases { for _ in 0...f.index { c.countFailure(f) } }
        for stat in UpstreamStat.all(.histogram) { for _ in 0...stat.slot { c.observe(stat, 1_000_000) } }
        var p = PoolSnapshot(key: PoolKey(parsing: name)!, settings: settings, lastActivity: lastActivity, counters: c)
        for stat in UpstreamStat.all(.gauge) { p[stat] = 1 + stat.slot }
        return p
    }

    /// A pool that carried `requests` requests (and, if any, one connect-refused failure) and holds nothing now.
    static func quietPool(_ name: String, paused: Bool = false, requests: UInt64 = 0, lastActivity: Nanos = 0) -> PoolSnapshot {
        var c = UpstreamCounters()
        c[.requests] = requests
        if requests > 0 { c.countFailure(.connectRefused) }
        return PoolSnapshot(key: PoolKey(parsing: name)!, settings: settings, paused: paused, lastActivity: lastActivity, counters: c)
    }

    /// Worker counters whose every count is non-zero and distinct: counts 10..., cause `i` counted `i + 1` times;
    /// histograms observed 1 ms `slot + 1` times and 0 once (`slot + 2` in all, the longest 1 ms).
    static func busyWorker() -> WorkerCounters {
        var w = WorkerCounters()
        for stat in WorkerStat.allCases where stat.column.kind == .counter { w[stat] = UInt64(10 + stat.rawValue) }
        for f in ErrorCause.allCases { for _ in 0...f.index { w.countFailure(f) } }
        for stat in WorkerStat.allCases where stat.column.kind == .histogram {
            for _ in 0...stat.slot { w.observe(stat, 1_000_000) }
            w.observe(stat, 0)
        }
        return w
    }

    /// The /stats document as JSON objects.
    static func statsJSON(_ s: StatsSnapshot) throws -> [String: Any] {
        let bytes = StatsRenderer.json(s, uptime: 1, profile: "test").array
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// The /metrics page as text.
    static func metricsText(_ s: StatsSnapshot, _ upstreams: MetricsUpstreams) -> String {
        String(decoding: MetricsRenderer.text(s, uptime: 1, profile: "test", upstreams: upstreams).array, as: UTF8.self)
    }

    /// Sample lines of the page by series (`name{labels}`), with their values.
    static func samples(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    /// The series name of a sample: `name`, or `name{labels}` with the labels in the order berth writes them.
    static func series(_ name: String, _ labels: [(String, String)] = []) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }
}
