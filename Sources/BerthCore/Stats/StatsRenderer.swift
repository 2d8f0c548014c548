// Renders GET /stats: per-upstream state, limits, counters and latency percentiles, plus totals, uptime and version.

/// Builds the /stats JSON document (schema: docs/stats.schema.json).
enum StatsRenderer {
    static func json(_ server: BerthServer, worker: Worker, only: PoolKey?) -> String {
        let m = worker.manager
        let pools = only.flatMap { m.existingPool($0) }.map { [$0] } ?? m.pools.values.sorted { $0.key.description < $1.key.description }
        var w = JSONWriter()
        w.beginObject()
        w.field("version", berthVersion)
        w.field("uptime_seconds", server.uptime)
        w.field("profile", server.configuration.profile)
        var totals = m.forgottenTotals
        var open = 0, idle = 0, busy = 0, pending = 0, connecting = 0
        for p in m.pools.values {
            totals.merge(p.counters)
            open += p.state.open
            idle += p.state.idle.count
            busy += p.state.busy
            connecting += p.state.connecting
            pending += p.state.waiters.count
        }
        w.beginObject("totals")
        w.field("upstreams", m.pools.count)
        w.field("callers", worker.callerCount)
        w.field("open", open)
        w.field("idle", idle)
        w.field("busy", busy)
        w.field("connecting", connecting)
        w.field("pending", pending)
        w.field("max_total", m.settings.maxTotal)
        w.field("callers_accepted", worker.counters.accepted)
        w.field("requests_received", worker.counters.requests)
        w.field("bad_requests", worker.counters.badRequests)
        w.field("header_timeouts", worker.counters.headerTimeouts)
        w.field("tunnels", worker.counters.tunnels)
        w.beginObject("errors")
        for c in ErrorCause.allCases { w.field(c.rawValue, worker.counters.failureCount(c)) }
        w.endObject()
        counters(&w, totals)
        w.endObject()
        w.beginArray("upstreams")
        for p in pools { upstream(&w, p, m) }
        w.endArray()
        w.endObject()
        return w.text + "\n"
    }

    private static func upstream(_ w: inout JSONWriter, _ p: UpstreamPool, _ m: PoolManager) {
        w.beginObject()
        w.field("upstream", p.key.description)
        switch p.state.mode {
        case .active: w.field("state", "active")
        case .paused(let reject):
            w.field("state", "paused")
            w.field("pause_mode", reject ? "reject" : "hold")
        }
        w.field("epoch", p.state.epoch)
        w.field("open", p.state.open)
        w.field("idle", p.state.idle.count)
        w.field("busy", p.state.busy)
        w.field("connecting", p.state.connecting)
        w.field("pending", p.state.waiters.count)
        w.beginObject("limits")
        w.field("max_per_route", p.settings.maxPerRoute)
        w.field("max_pending", p.settings.maxPending)
        w.field("max_total", m.settings.maxTotal)
        w.field("max_requests_per_connection", m.settings.maxRequests)
        w.endObject()
        w.beginObject("timeouts_ms")
        w.field("connect", ms(p.settings.connectTimeout))
        w.field("socket", ms(p.settings.socketTimeout))
        w.field("acquire", ms(p.settings.acquireTimeout))
        w.field("idle", ms(m.settings.idleTimeout))
        w.field("max_connection_age", ms(m.settings.maxAge))
        if let h = p.holdTimeout { w.field("hold", ms(h)) }
        w.endObject()
        counters(&w, p.counters)
        w.endObject()
    }

    private static func counters(_ w: inout JSONWriter, _ c: UpstreamCounters) {
        w.beginObject("connections")
        w.field("opened", c.opened)
        w.field("reused", c.reused)
        w.beginObject("closed")
        for r in CloseReason.allCases { w.field(r.rawValue, c.closedCount(r)) }
        w.endObject()
        w.endObject()
        w.field("requests", c.requests)
        w.field("retries", c.retries)
        w.beginObject("failures")
        for f in ErrorCause.allCases { w.field(f.rawValue, c.failureCount(f)) }
        w.endObject()
        w.beginObject("latency_ms")
        latency(&w, "acquire_wait", c.acquireWait)
        latency(&w, "time_to_first_byte", c.timeToFirstByte)
        w.endObject()
    }

    private static func latency(_ w: inout JSONWriter, _ name: String, _ h: Histogram) {
        w.beginObject(name)
        w.field("count", h.count)
        for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
            if let v = h.quantile(q) { w.field(label, ms(v)) } else { w.null(label) }
        }
        w.endObject()
    }

    static func ms(_ n: Nanos) -> Double { Double(n) / 1e6 }
}
