// Renders GET /stats: per-upstream state, limits, counters and latency percentiles, plus totals, uptime and version.

/// Builds the /stats JSON document (schema: docs/stats.schema.json) from a merged snapshot.
enum StatsRenderer {
    static func json(_ s: StatsSnapshot, uptime: Double, profile: String) -> OwnedBytes {
        var w = JSONWriter(capacity: 2048 + s.pools.count * 1200)
        w.beginObject()
        w.field("version", berthVersion)
        w.field("uptime_seconds", uptime)
        w.field("profile", profile)
        w.beginObject("totals")
        w.field("upstreams", s.upstreamCount)
        w.field("callers", s.callers)
        w.field("open", s.open)
        w.field("idle", s.idle)
        w.field("busy", s.busy)
        w.field("connecting", s.connecting)
        w.field("pending", s.pending)
        w.field("max_total", s.maxTotal)
        w.field("callers_accepted", s.callerCounters.accepted)
        w.field("requests_received", s.callerCounters.requests)
        w.field("bad_requests", s.callerCounters.badRequests)
        w.field("header_timeouts", s.callerCounters.headerTimeouts)
        w.field("tunnels", s.callerCounters.tunnels)
        w.beginObject("errors")
        for (c, name) in zip(ErrorCause.allCases, causeNames) { w.field(name, s.callerCounters.failureCount(c)) }
        w.endObject()
        counters(&w, s.totals)
        w.endObject()
        w.beginArray("upstreams")
        for i in s.order { upstream(&w, s.pools[i], s) }
        w.endArray()
        w.endObject()
        return w.finishOwned()
    }

    private static func upstream(_ w: inout JSONWriter, _ p: borrowing PoolSnapshot, _ s: borrowing StatsSnapshot) {
        w.beginObject()
        w.field("upstream", p.key.description)
        if p.paused {
            w.field("state", "paused")
            w.field("pause_mode", p.rejectNew ? "reject" : "hold")
        } else {
            w.field("state", "active")
        }
        w.field("epoch", p.epoch)
        w.field("open", p.open)
        w.field("idle", p.idle)
        w.field("busy", p.busy)
        w.field("connecting", p.connecting)
        w.field("pending", p.pending)
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
        w.endObject()
    }

    private static func counters(_ w: inout JSONWriter, _ c: borrowing UpstreamCounters) {
        w.beginObject("connections")
        w.field("opened", c.opened)
        w.field("reused", c.reused)
        w.beginObject("closed")
        // By position: the label lists are fixed, and a lookup per label adds up at 10,000 upstreams.
        for (i, name) in closeNames.enumerated() { w.field(name, c.closed[i]) }
        w.endObject()
        w.endObject()
        w.field("requests", c.requests)
        w.field("retries", c.retries)
        w.beginObject("failures")
        for (i, name) in causeNames.enumerated() { w.field(name, c.failures[i]) }
        w.endObject()
        w.beginObject("latency_ms")
        latency(&w, "acquire_wait", c.acquireWait)
        latency(&w, "time_to_first_byte", c.timeToFirstByte)
        w.endObject()
        w.beginObject("tls")
        w.field("handshakes_full", c.tls.full)
        w.field("handshakes_resumed", c.tls.resumed)
        w.field("handshake_failures", c.tls.failed)
        w.endObject()
    }

    private static let closeNames = CloseReason.allCases.map { JSONName($0.rawValue) }
    private static let causeNames = ErrorCause.allCases.map { JSONName($0.rawValue) }
    private static let quantiles: [(StaticString, Double)] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]

    private static func latency(_ w: inout JSONWriter, _ name: StaticString, _ h: borrowing Histogram) {
        w.beginObject(name)
        w.field("count", h.count)
        for (label, q) in quantiles {
            if let v = h.quantile(q) { w.field(label, ms(v)) } else { w.null(label) }
        }
        w.endObject()
    }

    static func ms(_ n: Nanos) -> Double { Double(n) / 1e6 }
}
