// Renders GET /metrics in the Prometheus text exposition format (version 0.0.4).

/// Builds the /metrics text: `berth_` names, `_total` counters, histograms with `_bucket`, `_sum`, `_count`.
enum MetricsRenderer {
    static func text(_ s: StatsSnapshot, uptime: Double, profile: String, perUpstream: Bool) -> String {
        var out = ""
        out.reserveCapacity(8192 + s.pools.count * 4096)
        // Without per-upstream labels every family is one aggregated series (for very large fleets).
        var series: [(label: String, counters: UpstreamCounters)] = []
        let sorted = s.order.map { s.pools[$0] }
        if perUpstream {
            for p in sorted { series.append(("upstream=\"\(escape(p.key.description))\"", p.counters)) }
        } else {
            series.append(("", s.totals))
        }
        func labels(_ base: String, _ extra: String) -> String {
            let parts = [base, extra].filter { !$0.isEmpty }
            return parts.isEmpty ? "" : "{" + parts.joined(separator: ",") + "}"
        }
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func gaugeByPool(_ name: String, _ help: String, _ value: (PoolSnapshot) -> Int) {
            family(name, "gauge", help)
            if perUpstream {
                for p in sorted { out += "\(name){upstream=\"\(escape(p.key.description))\"} \(value(p))\n" }
            } else {
                out += "\(name) \(sorted.reduce(0) { $0 + value($1) })\n"
            }
        }

        family("berth_build_info", "gauge", "berth version.")
        out += "berth_build_info{version=\"\(berthVersion)\",profile=\"\(escape(profile))\"} 1\n"
        family("berth_uptime_seconds", "gauge", "Seconds since berth started.")
        out += "berth_uptime_seconds \(uptime)\n"
        family("berth_callers", "gauge", "Caller connections open now.")
        out += "berth_callers \(s.callers)\n"
        family("berth_callers_accepted_total", "counter", "Caller connections accepted.")
        out += "berth_callers_accepted_total \(s.callerCounters.accepted)\n"
        family("berth_requests_received_total", "counter", "Request heads received from callers.")
        out += "berth_requests_received_total \(s.callerCounters.requests)\n"
        family("berth_errors_total", "counter", "Requests berth answered itself, by Berth-Error cause.")
        for c in ErrorCause.allCases { out += "berth_errors_total{cause=\"\(c.rawValue)\"} \(s.callerCounters.failureCount(c))\n" }
        family("berth_upstreams", "gauge", "Upstreams berth knows.")
        out += "berth_upstreams \(s.upstreamCount)\n"

        gaugeByPool("berth_upstream_open_connections", "Upstream connections open or opening.") { $0.open }
        gaugeByPool("berth_upstream_idle_connections", "Idle pooled upstream connections.") { $0.idle }
        gaugeByPool("berth_upstream_busy_connections", "Upstream connections carrying a request.") { $0.busy }
        gaugeByPool("berth_upstream_pending_requests", "Requests waiting for a connection.") { $0.pending }
        gaugeByPool("berth_upstream_paused", "1 while the upstream is paused.") { $0.paused ? 1 : 0 }
        if perUpstream {
            gaugeByPool("berth_upstream_epoch", "Pool epoch; bumped by every resume.") { Int($0.epoch) }
        }

        family("berth_connections_opened_total", "counter", "Upstream connections opened.")
        for s in series { out += "berth_connections_opened_total\(labels(s.label, "")) \(s.counters.opened)\n" }
        family("berth_connections_reused_total", "counter", "Requests served on a pooled connection.")
        for s in series { out += "berth_connections_reused_total\(labels(s.label, "")) \(s.counters.reused)\n" }
        family("berth_connections_closed_total", "counter", "Upstream connections closed, by reason.")
        for s in series {
            for r in CloseReason.allCases { out += "berth_connections_closed_total\(labels(s.label, "reason=\"\(r.rawValue)\"")) \(s.counters.closedCount(r))\n" }
        }
        family("berth_requests_total", "counter", "Requests routed to an upstream.")
        for s in series { out += "berth_requests_total\(labels(s.label, "")) \(s.counters.requests)\n" }
        family("berth_retries_total", "counter", "Requests retried on a fresh connection after a reused one failed.")
        for s in series { out += "berth_retries_total\(labels(s.label, "")) \(s.counters.retries)\n" }
        family("berth_upstream_failures_total", "counter", "Requests to an upstream that failed, by Berth-Error cause.")
        for s in series {
            for c in ErrorCause.allCases { out += "berth_upstream_failures_total\(labels(s.label, "cause=\"\(c.rawValue)\"")) \(s.counters.failureCount(c))\n" }
        }
        histogram(&out, "berth_acquire_wait_seconds", "Time a request waited for an upstream connection.", series.map { ($0.label, $0.counters.acquireWait) }, labels)
        histogram(&out, "berth_time_to_first_byte_seconds", "Time from sending a request to its first response byte.", series.map { ($0.label, $0.counters.timeToFirstByte) }, labels)
        return out
    }

    private static func histogram(_ out: inout String, _ name: String, _ help: String, _ series: [(String, Histogram)], _ labels: (String, String) -> String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (label, h) in series {
            var cumulative: UInt64 = 0
            for (i, bound) in Histogram.bounds.enumerated() {
                cumulative += h.counts[i]
                out += "\(name)_bucket\(labels(label, "le=\"\(seconds(bound))\"")) \(cumulative)\n"
            }
            out += "\(name)_bucket\(labels(label, "le=\"+Inf\"")) \(h.count)\n"
            out += "\(name)_sum\(labels(label, "")) \(Double(h.sum) / 1e9)\n"
            out += "\(name)_count\(labels(label, "")) \(h.count)\n"
        }
    }

    private static func seconds(_ n: Nanos) -> String { String(Double(n) / 1e9) }

    /// Escapes a label value per the exposition format.
    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            default: o.append(c)
            }
        }
        return o
    }
}
