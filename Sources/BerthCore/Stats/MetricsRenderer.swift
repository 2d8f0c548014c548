// Renders GET /metrics from the statistics table: process state, then every WorkerStat, then every UpstreamStat.

/// Builds the /metrics text: `berth_` names, `_total` counters, histograms with `_bucket`, `_sum`, `_count`.
///
/// Every per-upstream family has its total, the series without an `upstream` label, covering every upstream berth
/// knows (and, for counts, the forgotten ones). Series of their own go to the upstreams `upstreams` lists; among them,
/// a reason or cause that has never moved is left out, as client libraries leave out a labelled child never touched.
enum MetricsRenderer {
    /// The page for snapshot `s`, with series of their own for the upstreams `upstreams` lists.
    static func text(_ s: StatsSnapshot, uptime: Double, profile: String, upstreams: MetricsUpstreams) -> OwnedBytes {
        text(s, listing(s, upstreams), uptime: uptime, profile: profile, upstreams: upstreams)
    }

    /// Positions into `s.pools`, by name, of the upstreams with series of their own (`full`) and of those with their
    /// `berth_upstream_paused` line alone. A step of its own: at 10,000 paused upstreams sorting them is ~1.5 ms,
    /// which the admin's loop takes on a turn apart from the writing.
    static func listing(_ s: StatsSnapshot, _ upstreams: MetricsUpstreams) -> (full: [Int], pauseOnly: [Int]) {
        // Every pool is reached through the buffer: `s.pools[i]` copies a snapshot (~700 bytes) at each use.
        s.pools.withUnsafeBufferPointer { pools in
            var full: [Int] = []
            var pauseOnly: [Int] = []
            for i in pools.indices {
                if upstreams.listsFully(pools[i], at: s.takenAt) {
                    full.append(i)
                } else if upstreams.listsPause(pools[i], at: s.takenAt) {
                    pauseOnly.append(i)
                }
            }
            return (s.sortedByName(full), s.sortedByName(pauseOnly))
        }
    }

    /// The page for snapshot `s` and its `listing`.
    static func text(_ s: StatsSnapshot, _ listing: (full: [Int], pauseOnly: [Int]), uptime: Double, profile: String,
                     upstreams: MetricsUpstreams) -> OwnedBytes {
        let totals = s.totals
        let (full, pauseOnly) = listing
        return s.pools.withUnsafeBufferPointer { pools in
            // ~4 KB per fully listed upstream (two histograms are most of it), one line per paused one.
            var out = ExpositionWriter(capacity: 16384 + full.count * 4096 + pauseOnly.count * 96)
            process(&out, s, uptime: uptime, profile: profile)
            let labels = full.map { ExpositionWriter.upstreamLabel(pools[$0].key) }
            for stat in UpstreamStat.allCases {
                upstreamFamily(&out, stat, s, totals, pools, full, labels)
            }
            state(&out, pools, upstreams, full, labels, pauseOnly)
            return out.finish()
        }
    }

    /// Figures of the whole process: build, uptime, callers, upstreams known, and every `WorkerStat`.
    private static func process(_ out: inout ExpositionWriter, _ s: borrowing StatsSnapshot, uptime: Double, profile: String) {
        out.family("berth_build_info", "gauge", "berth version.")
        out.raw("berth_build_info{version=\"\(escape(berthVersion))\",profile=\"\(escape(profile))\"} 1\n")
        out.family("berth_uptime_seconds", "gauge", "Seconds since berth started.")
        out.sample("berth_uptime_seconds", [], uptime)
        out.family("berth_callers", "gauge", "Caller connections open now.")
        out.sample("berth_callers", [], s.callers)
        out.family("berth_upstreams", "gauge", "Upstreams berth knows.")
        out.sample("berth_upstreams", [], s.upstreamCount)
        out.family("berth_max_connections", "gauge", "Upstream connections berth may hold at once (max-total).")
        out.sample("berth_max_connections", [], s.maxTotal)
        for stat in WorkerStat.allCases {
            let c = stat.column
            out.family(c.metric, c.kind.metricType, c.help)
            switch c.kind {
            case .counterBy(let l):
                for i in 0..<c.kind.width {
                    out.sample(c.metric, [], ExpositionWriter.labels(l)[i], s.callerCounters.value(stat, i))
                }
            case .histogram: out.histogram(c.metric, [], s.callerCounters.histogram(stat))
            case .counter, .gauge: out.sample(c.metric, [], nil, s.callerCounters.value(stat, 0))
            }
        }
    }

    /// One `UpstreamStat` family: its total, then one series (or one per reason or cause that moved) per listed upstream.
    private static func upstreamFamily(_ out: inout ExpositionWriter, _ stat: UpstreamStat, _ s: borrowing StatsSnapshot,
                                       _ totals: borrowing UpstreamCounters, _ pools: UnsafeBufferPointer<PoolSnapshot>,
                                       _ full: [Int], _ labels: [[UInt8]]) {
        let c = stat.column
        out.family(c.metric, c.kind.metricType, c.help)
        switch c.kind {
        case .gauge:
            out.sample(c.metric, [], s.total(stat))
            for (n, i) in full.enumerated() { out.sample(c.metric, labels[n], pools[i][stat]) }
        case .counter:
            out.sample(c.metric, [], nil, totals[stat])
            for (n, i) in full.enumerated() { out.sample(c.metric, labels[n], nil, pools[i].counters[stat]) }
        case .counterBy(let l):
            let names = ExpositionWriter.labels(l)
            for l in 0..<c.kind.width { out.sample(c.metric, [], names[l], totals.value(stat, l)) }
            for (n, i) in full.enumerated() {
                for l in 0..<c.kind.width {
                    let v = pools[i].counters.value(stat, l)
                    if v != 0 { out.sample(c.metric, labels[n], names[l], v) }
                }
            }
        case .histogram:
            out.histogram(c.metric, [], totals.histogram(stat))
            for (n, i) in full.enumerated() { out.histogram(c.metric, labels[n], pools[i].counters.histogram(stat)) }
        }
    }

    /// Pool state that is not a count: paused (total = upstreams paused) and, per listed upstream, the epoch.
    private static func state(_ out: inout ExpositionWriter, _ pools: UnsafeBufferPointer<PoolSnapshot>, _ upstreams: MetricsUpstreams,
                              _ full: [Int], _ labels: [[UInt8]], _ pauseOnly: [Int]) {
        out.family("berth_upstream_paused", "gauge", "1 while the upstream is paused; the total counts paused upstreams.")
        var paused = 0
        for i in pools.indices where pools[i].paused { paused += 1 }
        out.sample("berth_upstream_paused", [], paused)
        for (n, i) in full.enumerated() { out.sample("berth_upstream_paused", labels[n], pools[i].paused ? 1 : 0) }
        for i in pauseOnly { out.sample("berth_upstream_paused", upstream: pools[i].key, 1) }
        FreezerStats.metrics(&out, pools, full, labels)
        // An epoch has no meaningful total; without upstream series the family is left out.
        guard upstreams != .none else { return }
        out.family("berth_upstream_epoch", "gauge", "Pool epoch; bumped by every resume.")
        for (n, i) in full.enumerated() { out.sample("berth_upstream_epoch", labels[n], Int(pools[i].epoch)) }
        out.family("berth_upstream_max_connections", "gauge", "Connections berth may hold to the upstream (max-per-route).")
        for (n, i) in full.enumerated() { out.sample("berth_upstream_max_connections", labels[n], pools[i].settings.maxPerRoute) }
    }

    /// Escapes a label value per the exposition format.
    static func escape(_ s: String) -> String {
        String(decoding: ExpositionWriter.label("", s).dropFirst(2).dropLast(), as: UTF8.self)
    }
}
