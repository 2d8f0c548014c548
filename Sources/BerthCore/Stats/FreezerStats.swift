// The pause sources' and the freezer watch's figures in /stats and /metrics, rendered apart from the counter table.

/// What /stats and /metrics show of who paused an upstream, how often, and its freezer watch. Kept in this file so
/// the fields join the stats table in one move (the names, kinds and help below are what the table needs).
enum FreezerStats {
    /// What caused a pause, as `pauses` and the `cause` label name it.
    enum Cause: String, CaseIterable {
        case api, watch, both

        /// Its count in `c`.
        func count(_ c: PauseCounts) -> UInt64 {
            switch self {
            case .api: return c.api
            case .watch: return c.watch
            case .both: return c.both
            }
        }
    }

    private static let jsonNames = Cause.allCases.map { JSONName($0.rawValue) }
    private static let labels = Cause.allCases.map { Array("cause=\"\($0.rawValue)\"".utf8) }

    /// /stats, per upstream, beside `state`: `paused_by` while paused.
    static func state(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot) {
        if let by = p.holds.heldBy { w.field("paused_by", by) }
    }

    /// /stats, per upstream after its counters: `pauses`, `resumes` and, when watched, `freezer`.
    static func upstream(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot) {
        counts(&w, p.holds.counts)
        guard let watch = p.watch else { return }
        w.beginObject("freezer")
        w.field("cgroup", watch.cgroup)
        w.field("cgroup_version", watch.version.rawValue)
        w.field("frozen", watch.frozen)
        w.field("source", watch.source.rawValue)
        w.endObject()
    }

    /// `pauses` by cause and `resumes`, per upstream and in the totals.
    static func counts(_ w: inout JSONWriter, _ c: PauseCounts) {
        w.beginObject("pauses")
        for (cause, name) in zip(Cause.allCases, jsonNames) { w.field(name, cause.count(c)) }
        w.endObject()
        w.field("resumes", c.resumes)
    }

    /// /metrics: one series per upstream under `labels` (in `s.order`), or one total when `labels` is `[[]]`.
    static func metrics(_ out: inout ByteWriter, _ s: borrowing StatsSnapshot, labels upstreamLabels: [[UInt8]], perUpstream: Bool) {
        let series: [(label: [UInt8], counts: PauseCounts, watched: Int, frozen: Int)]
        if perUpstream {
            series = s.order.enumerated().map { n, i in
                let p = s.pools[i]
                return (upstreamLabels[n], p.holds.counts, p.watch == nil ? 0 : 1, p.watch?.frozen == true ? 1 : 0)
            }
        } else {
            let watched = s.pools.filter { $0.watch != nil }
            series = [([], s.pauseTotals, watched.count, watched.filter { $0.watch!.frozen }.count)]
        }
        MetricsRenderer.family(&out, "berth_upstream_pauses_total", "counter",
                               "Upstream pauses by cause: api (/pause), watch (the freezer watch saw its cgroup frozen), both (one joined a pause the other held).")
        for one in series {
            for (cause, label) in zip(Cause.allCases, Self.labels) {
                let v = cause.count(one.counts)
                MetricsRenderer.sample(&out, "berth_upstream_pauses_total", one.label, label) { $0.decimal(v) }
            }
        }
        MetricsRenderer.family(&out, "berth_upstream_resumes_total", "counter",
                               "Paused upstreams made active again, with a new epoch, once neither the API nor the watch held them.")
        for one in series { MetricsRenderer.sample(&out, "berth_upstream_resumes_total", one.label, nil) { $0.decimal(one.counts.resumes) } }
        MetricsRenderer.family(&out, "berth_upstream_freezer_watched", "gauge", "1 while berth watches the upstream's cgroup freezer.")
        for one in series { MetricsRenderer.sample(&out, "berth_upstream_freezer_watched", one.label, nil) { $0.decimal(one.watched) } }
        MetricsRenderer.family(&out, "berth_upstream_freezer_frozen", "gauge", "1 while the upstream's watched cgroup is frozen.")
        for one in series { MetricsRenderer.sample(&out, "berth_upstream_freezer_frozen", one.label, nil) { $0.decimal(one.frozen) } }
    }
}
