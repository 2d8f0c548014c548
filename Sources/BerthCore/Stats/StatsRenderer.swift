// Renders GET /stats: per-upstream state, limits, timeouts and every figure of the statistics table, plus totals.

/// Builds the /stats JSON document (schema: docs/stats.schema.json, checked against the table in StatTableTests)
/// from a merged snapshot.
enum StatsRenderer {
    /// The whole document for snapshot `s` at once: totals, then every upstream it holds, by name (tests, and any
    /// caller that is not on a loop).
    static func json(_ s: StatsSnapshot, uptime: Double, profile: String, workers: Int = 1) -> OwnedBytes {
        let picked = StatsSelection().pick(s)
        let doc = StatsDocument(s, order: picked.positions, matched: picked.matched, uptime: uptime, profile: profile, workers: workers)
        _ = doc.step(until: .max)
        return doc.finish()
    }

    /// The document's opening: identity, totals and `matched`, up to the opening of `upstreams`.
    static func head(_ w: inout JSONWriter, _ s: borrowing StatsSnapshot, matched: Int, uptime: Double, profile: String, workers: Int) {
        w.beginObject()
        w.field("version", berthVersion)
        w.field("uptime_seconds", uptime)
        w.field("profile", profile)
        w.field("workers", workers)
        w.beginObject("totals")
        w.field("upstreams", s.upstreamCount)
        w.field("callers", s.callers)
        for stat in gauges { w.field(stat.column.json, s.total(stat)) }
        w.field("max_total", s.maxTotal)
        for stat in WorkerStat.allCases {
            let c = stat.column
            switch c.kind {
            case .counterBy(let l): labelled(&w, c.json, labelNames(l)) { s.callerCounters.value(stat, $0) }
            case .histogram: latency(&w, c.json, s.callerCounters.histogram(stat), longest: s.callerCounters.longest(stat))
            case .counter, .gauge: w.field(c.json, s.callerCounters.value(stat, 0))
            }
        }
        counters(&w, s.totals)
        w.endObject()
        w.field("matched", matched)
        w.beginArray("upstreams")
    }

    /// The document's end, after the last upstream.
    static func tail(_ w: inout JSONWriter) {
        w.endArray()
        w.endObject()
    }

    /// One upstream's object: state, occupancy, limits, timeouts, then its counters.
    static func upstream(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot, _ s: borrowing StatsSnapshot) {
        w.beginObject()
        w.field("upstream", p.key.description)
        if p.paused {
            w.field("state", "paused")
            w.field("pause_mode", p.rejectNew ? "reject" : "hold")
            FreezerStats.state(&w, p)
        } else {
            w.field("state", "active")
        }
        w.field("epoch", p.epoch)
        if let g = p.generation { w.field("generation", g) }
        for stat in gauges { w.field(stat.column.json, p[stat]) }
        w.beginObject("limits")
        w.field("max_per_route", p.settings.maxPerRoute)
        w.field("max_pending", p.settings.maxPending)
        w.field("max_total", s.maxTotal)
        w.field("max_requests_per_connection", s.maxRequests)
        w.endObject()
        w.beginObject("timeouts_ms")
        w.field("connect", ms(p.settings.connectTimeout))
        w.field("socket", ms(p.settings.socketTimeout))
        w.field("acquire", ms(p.settings.acquireTimeout))
        w.field("idle", ms(s.idleTimeout))
        w.field("max_connection_age", ms(s.maxAge))
        if let h = p.hold { w.field("hold", ms(h)) }
        w.endObject()
        counters(&w, p.counters)
        FreezerStats.upstream(&w, p)
        w.endObject()
    }

    /// Every `UpstreamStat` but the gauges, as `layout` groups them.
    private static func counters(_ w: inout JSONWriter, _ c: UpstreamCounters) {
        for (group, members) in layout {
            if let group { w.beginObject(group) }
            for stat in members {
                let col = stat.column
                switch col.kind {
                case .counter: w.field(col.json, c[stat])
                case .counterBy(let l): labelled(&w, col.json, labelNames(l)) { c.value(stat, $0) }
                case .histogram: latency(&w, col.json, c.histogram(stat))
                case .gauge: preconditionFailure("gauges are written from the pool")
                }
            }
            if group != nil { w.endObject() }
        }
    }

    /// The table's gauges, written beside the pool's state rather than with its counters.
    private static let gauges = UpstreamStat.all(.gauge)

    /// The other `UpstreamStat` cases in table order, each group (`connections`, `latency_ms`) gathered where its
    /// first member appears so that its object is written once: for the table as declared, `connections` {opened,
    /// reused, closed}, requests, retries, failures, `latency_ms` {acquire_wait, time_to_first_byte}.
    static let layout: [(group: StaticString?, members: [UpstreamStat])] = {
        var out: [(group: StaticString?, members: [UpstreamStat])] = []
        for stat in UpstreamStat.allCases where stat.column.kind != .gauge {
            let g = stat.column.group
            if let g, let at = out.firstIndex(where: { $0.group?.description == g.description }) {
                out[at].members.append(stat)
            } else {
                out.append((g, [stat]))
            }
        }
        return out
    }()

    /// An object of one count per label, by position: the label lists are fixed, and a lookup per label adds up at
    /// 10,000 upstreams.
    private static func labelled(_ w: inout JSONWriter, _ name: StaticString, _ names: [JSONName], _ value: (Int) -> UInt64) {
        w.beginObject(name)
        for (i, n) in names.enumerated() { w.field(n, value(i)) }
        w.endObject()
    }

    /// Each label set's member names, built once: a lookup per label adds up at 10,000 upstreams.
    private static let names: [[JSONName]] = StatLabels.allCases.map { $0.values.map { JSONName($0) } }

    private static func labelNames(_ l: StatLabels) -> [JSONName] { names[StatLabels.allCases.firstIndex(of: l)!] }
    private static let quantiles: [(StaticString, Double)] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]

    /// A histogram as its count and the p50/p90/p99 bucket bounds in ms (null while empty), and, where the figure
    /// keeps it (a worker's histograms), `max`: its longest observation, exact, in ms (null while empty).
    private static func latency(_ w: inout JSONWriter, _ name: StaticString, _ h: borrowing Histogram, longest: Nanos? = nil) {
        w.beginObject(name)
        w.field("count", h.count)
        for (label, q) in quantiles {
            if let v = h.quantile(q) { w.field(label, ms(v)) } else { w.null(label) }
        }
        if let longest {
            if h.count > 0 { w.field("max", ms(longest)) } else { w.null("max") }
        }
        w.endObject()
    }

    /// Nanoseconds as milliseconds.
    static func ms(_ n: Nanos) -> Double { Double(n) / 1e6 }
}
