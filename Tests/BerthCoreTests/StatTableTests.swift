// The statistics table against its storage and its three outputs: /stats, /metrics and docs/stats.schema.json.
import Foundation
import XCTest
@testable import BerthCore

final class StatTableTests: XCTestCase {
    private typealias F = StatsFixtures

    /// Should give each kind's cases the slots 0..<n in table order, with storage of exactly n slots.
    func testSlotsAreDenseAndStorageFitsTheTable() {
        for kind in [StatKind.gauge, .counter, .histogram] {
            XCTAssertEqual(UpstreamStat.all(kind).map(\.slot), Array(UpstreamStat.all(kind).indices), "\(kind)")
        }
        XCTAssertEqual(PoolSnapshot.Gauges.count, UpstreamStat.all(.gauge).count)
        XCTAssertEqual(UpstreamCounters.Counts.count, UpstreamStat.all(.counter).count)
        XCTAssertEqual(UpstreamCounters.Latencies.count, UpstreamStat.all(.histogram).count)
        let workerCounts = WorkerStat.allCases.filter { $0.column.kind == .counter }
        XCTAssertEqual(workerCounts.map(\.rawValue), Array(0..<workerCounts.count), "worker counts come first")
        XCTAssertEqual(WorkerCounters.Counts.count, workerCounts.count)
        XCTAssertFalse(WorkerStat.allCases.contains { ![.counter, .counterBy(.errorCause), .histogram].contains($0.column.kind) },
                       "WorkerCounters stores counts, counts by cause and histograms only")
        let workerHistograms = WorkerStat.allCases.filter { $0.column.kind == .histogram }
        XCTAssertEqual(workerHistograms.map(\.slot), Array(workerHistograms.indices))
        XCTAssertEqual(workerHistograms.last, WorkerStat.allCases.last, "worker histograms come last")
        XCTAssertEqual(WorkerCounters.Holds.count, workerHistograms.count)
        XCTAssertEqual(UpstreamCounters.Labelled.count, UpstreamStat.allCases.reduce(0) { $0 + ($1.column.kind.labels == nil ? 0 : $1.column.kind.width) },
                       "labelled storage is as wide as every split together")
    }

    /// Should name every figure once: no two columns share a metric, and members of one object have distinct names.
    func testNamesAreUniqueAndWellFormed() {
        let metrics = WorkerStat.allCases.map { "\($0.column.metric)" } + UpstreamStat.allCases.map { "\($0.column.metric)" }
        XCTAssertEqual(Set(metrics).count, metrics.count, "\(metrics)")
        for m in metrics { XCTAssertNotNil(m.range(of: "^berth_[a-z_]+$", options: .regularExpression), m) }
        for stat in UpstreamStat.allCases.map(\.column) + WorkerStat.allCases.map(\.column) {
            let c = stat
            XCTAssertEqual("\(c.metric)".hasSuffix("_total"), c.kind.isCount, "\(stat)")
            XCTAssertEqual("\(c.metric)".hasSuffix("_seconds"), c.kind == .histogram, "\(stat)")
        }
        // Worker figures and ungrouped upstream figures are members of the same `totals` object.
        let members = WorkerStat.allCases.map { "/\($0.column.json)" }
            + UpstreamStat.allCases.map { "\($0.column.group.map { "\($0)" } ?? "")/\($0.column.json)" }
        XCTAssertEqual(Set(members).count, members.count, "\(members)")
    }

    /// Should carry every column of the table, with its value, in /stats: each upstream and the totals.
    func testEveryColumnAppearsInStatsJSON() throws {
        let pool = F.busyPool("a.example:80")
        let doc = try F.statsJSON(StatsSnapshot(pools: [pool], callerCounters: F.busyWorker(), takenAt: 0))
        let totals = try XCTUnwrap(doc["totals"] as? [String: Any])
        let upstream = try XCTUnwrap((doc["upstreams"] as? [[String: Any]])?.first)
        for stat in WorkerStat.allCases {
            let c = stat.column
            if let l = c.kind.labels {
                let byCause = try XCTUnwrap(totals["\(c.json)"] as? [String: Int], "\(stat)")
                for (i, f) in l.values.enumerated() { XCTAssertEqual(byCause[f], i + 1, "\(stat) \(f)") }
            } else if c.kind == .histogram {
                let m = try XCTUnwrap(totals["\(c.json)"] as? [String: Any], "\(stat)")
                XCTAssertEqual(m["count"] as? Int, stat.slot + 2, "\(stat)")
                XCTAssertEqual(m["p99"] as? Double, 1.0, "\(stat): 1 ms lands in the 1 ms bucket")
                XCTAssertEqual(m["max"] as? Double, 1.0, "\(stat): the longest, exactly")
            } else {
                XCTAssertEqual(totals["\(c.json)"] as? Int, 10 + stat.rawValue, "\(stat)")
            }
        }
        for object in [totals, upstream] {
            for stat in UpstreamStat.allCases {
                let c = stat.column
                let holder = try c.group.map { try XCTUnwrap(object["\($0)"] as? [String: Any], "\(stat)") } ?? object
                let member = holder["\(c.json)"]
                switch c.kind {
                case .gauge: XCTAssertEqual(member as? Int, 1 + stat.slot, "\(stat)")
                case .counter: XCTAssertEqual(member as? Int, 100 + stat.slot, "\(stat)")
                case .counterBy(let l):
                    let m = try XCTUnwrap(member as? [String: Int], "\(stat)")
                    XCTAssertEqual(m, Dictionary(uniqueKeysWithValues: l.values.enumerated().map { ($1, $0 + 1) }), "\(stat)")
                case .histogram:
                    let m = try XCTUnwrap(member as? [String: Any], "\(stat)")
                    XCTAssertEqual(m["count"] as? Int, stat.slot + 1, "\(stat)")
                    XCTAssertEqual(m["p50"] as? Double, 1.0, "\(stat): 1 ms lands in the 1 ms bucket")
                }
            }
        }
    }

    /// Should export every column of the table in /metrics, as its type, with its total and the upstream's series.
    func testEveryColumnAppearsInMetrics() {
        let pool = F.busyPool("a.example:80")
        let text = F.metricsText(StatsSnapshot(pools: [pool], callerCounters: F.busyWorker(), takenAt: 0), .all)
        let samples = F.samples(text)
        let up = [("upstream", "a.example:80")]
        for stat in WorkerStat.allCases {
            let c = stat.column
            XCTAssertTrue(text.contains("# TYPE \(c.metric) \(c.kind.metricType)\n"), "\(stat)")
            XCTAssertTrue(text.contains("# HELP \(c.metric) \(c.help)\n"), "\(stat)")
            if let l = c.kind.labels {
                for (i, f) in l.values.enumerated() { XCTAssertEqual(samples[F.series("\(c.metric)", [(l.key, f)])], "\(i + 1)") }
            } else if c.kind == .histogram {
                XCTAssertEqual(samples[F.series("\(c.metric)_count")], "\(stat.slot + 2)", "\(stat)")
                XCTAssertEqual(samples[F.series("\(c.metric)_bucket", [("le", "0.001")])], "\(stat.slot + 2)", "\(stat)")
                XCTAssertEqual(samples[F.series("\(c.metric)_bucket", [("le", "0.0005")])], "1", "\(stat): the 0 observation")
            } else {
                XCTAssertEqual(samples["\(c.metric)"], "\(10 + stat.rawValue)", "\(stat)")
            }
        }
        for stat in UpstreamStat.allCases {
            let c = stat.column
            let m = "\(c.metric)"
            XCTAssertTrue(text.contains("# TYPE \(m) \(c.kind.metricType)\n"), "\(stat)")
            XCTAssertTrue(text.contains("# HELP \(m) \(c.help)\n"), "\(stat)")
            for labels in [[], up] {
                switch c.kind {
                case .gauge: XCTAssertEqual(samples[F.series(m, labels)], "\(1 + stat.slot)", "\(stat) \(labels)")
                case .counter: XCTAssertEqual(samples[F.series(m, labels)], "\(100 + stat.slot)", "\(stat) \(labels)")
                case .counterBy(let l):
                    for (i, v) in l.values.enumerated() { XCTAssertEqual(samples[F.series(m, labels + [(l.key, v)])], "\(i + 1)", "\(stat) \(v)") }
                case .histogram:
                    XCTAssertEqual(samples[F.series(m + "_count", labels)], "\(stat.slot + 1)", "\(stat) \(labels)")
                    XCTAssertEqual(samples[F.series(m + "_bucket", labels + [("le", "+Inf")])], "\(stat.slot + 1)")
                    XCTAssertEqual(samples[F.series(m + "_bucket", labels + [("le", "0.001")])], "\(stat.slot + 1)")
                    XCTAssertEqual(samples[F.series(m + "_bucket", labels + [("le", "0.0005")])], "0")
                }
            }
        }
    }

    /// Should describe every column in docs/stats.schema.json where /stats puts it, with the schema of its kind, and
    /// nothing there that is neither a column nor known state.
    func testSchemaMatchesTheTable() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/stats.schema.json")
        let schema = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let defs = try XCTUnwrap(schema["$defs"] as? [String: [String: Any]])
        func object(_ name: String) throws -> (properties: [String: [String: Any]], required: Set<String>) {
            let d = try XCTUnwrap(defs[name], name)
            XCTAssertEqual(d["additionalProperties"] as? Bool, false, "\(name) is closed")
            return (try XCTUnwrap(d["properties"] as? [String: [String: Any]], name), Set(d["required"] as? [String] ?? []))
        }
        func ref(_ p: [String: Any]?) -> String? { (p?["$ref"] as? String).map { String($0.dropFirst("#/$defs/".count)) } }
        // A worker's histograms keep their longest observation too (`hold`); an upstream's do not (`latency`).
        func expected(_ kind: StatKind, worker: Bool) -> String {
            switch kind {
            case .counter, .gauge: "count"
            case .counterBy(let l): l.schemaDefinition
            case .histogram: worker ? "hold" : "latency"
            }
        }
        for l in StatLabels.allCases {
            XCTAssertEqual(try object(l.schemaDefinition).properties.keys.sorted(), l.values.sorted(), "\(l)")
            XCTAssertEqual(try object(l.schemaDefinition).required, Set(l.values), "\(l)")
        }

        let state = ["totals": ["upstreams", "callers", "max_total"],
                     "upstream": ["upstream", "state", "pause_mode", "paused_by", "epoch", "generation", "limits", "timeouts_ms", "freezer"]]
        for (name, known) in state {
            let o = try object(name)
            var seen = Set(known)
            var columns = UpstreamStat.allCases.map { ($0.column, "\($0)", false) }
            if name == "totals" { columns += WorkerStat.allCases.map { ($0.column, "\($0)", true) } }
            for (c, label, worker) in columns {
                var holder = o
                if let g = c.group {
                    seen.insert("\(g)")
                    XCTAssertTrue(o.required.contains("\(g)"), "\(name).\(g)")
                    holder = try object(try XCTUnwrap(ref(o.properties["\(g)"]), "\(name).\(g) is a $ref"))
                } else {
                    seen.insert("\(c.json)")
                }
                XCTAssertTrue(holder.required.contains("\(c.json)"), "\(name): \(label) is required")
                XCTAssertEqual(ref(holder.properties["\(c.json)"]), expected(c.kind, worker: worker), "\(name): \(label)")
            }
            XCTAssertEqual(Set(o.properties.keys).subtracting(seen), [], "\(name) has members that are neither columns nor state")
            for g in Set(columns.compactMap { $0.0.group.map { "\($0)" } }) {
                let members = Set(columns.filter { $0.0.group.map { "\($0)" } == g }.map { "\($0.0.json)" })
                XCTAssertEqual(Set(try object(try XCTUnwrap(ref(o.properties[g]))).properties.keys), members, "\(name).\(g)")
            }
        }
    }

    /// Should add up every figure of the same upstream across workers and every worker's caller counts.
    func testMergeAddsEveryColumn() {
        var a = StatsSnapshot(pools: [F.busyPool("a.example:80")], callerCounters: F.busyWorker(), takenAt: 5)
        a.pools[0].lastActivity = 3
        var b = a
        b.takenAt = 9
        b.pools[0].lastActivity = 7
        let m = StatsSnapshot.merged([a, b])
        XCTAssertEqual(m.pools.count, 1)
        XCTAssertEqual(m.takenAt, 9)
        XCTAssertEqual(m.pools[0].lastActivity, 7)
        for stat in UpstreamStat.allCases {
            switch stat.column.kind {
            case .gauge:
                XCTAssertEqual(m.pools[0][stat], 2 * (1 + stat.slot), "\(stat)")
                XCTAssertEqual(m.total(stat), 2 * (1 + stat.slot), "\(stat)")
            case .counter, .counterBy:
                for l in 0..<stat.column.kind.width {
                    XCTAssertEqual(m.pools[0].counters.value(stat, l), 2 * a.pools[0].counters.value(stat, l), "\(stat) \(l)")
                }
            case .histogram:
                XCTAssertEqual(m.pools[0].counters.histogram(stat).count, 2 * UInt64(stat.slot + 1), "\(stat)")
            }
        }
        for stat in WorkerStat.allCases {
            if stat.column.kind == .histogram {
                XCTAssertEqual(m.callerCounters.histogram(stat).count, 2 * UInt64(stat.slot + 2), "\(stat)")
                XCTAssertEqual(m.callerCounters.longest(stat), 1_000_000, "\(stat): the longest of either, not a sum")
                continue
            }
            for l in 0..<stat.column.kind.width {
                XCTAssertEqual(m.callerCounters.value(stat, l), 2 * a.callerCounters.value(stat, l), "\(stat) \(l)")
            }
        }
    }

    /// Should lay /stats out as it always was: `connections` {opened, reused, closed}, then requests, retries,
    /// failures, replays, replay_skipped, `latency_ms` {acquire_wait, time_to_first_byte}.
    func testStatsLayoutKeepsTheDocumentedOrder() {
        let layout = StatsRenderer.layout.map { ($0.group.map { "\($0)" }, $0.members) }
        XCTAssertEqual(layout.map(\.0), ["connections", nil, nil, nil, "tls", nil, nil, nil, nil, nil, "latency_ms"])
        XCTAssertEqual(layout.map(\.1), [[.opened, .reused, .closed], [.requests], [.retries], [.resumes],
                                         [.tlsHandshakesFull, .tlsHandshakesResumed, .tlsHandshakeFailures], [.generationChanges],
                                         [.failures], [.replays],
                                         [.replaySkipped], [.pauses], [.acquireWait, .timeToFirstByte]])
    }
}
