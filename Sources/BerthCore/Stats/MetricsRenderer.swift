// Renders GET /metrics in the Prometheus text exposition format (version 0.0.4).

/// Builds the /metrics text: `berth_` names, `_total` counters, histograms with `_bucket`, `_sum`, `_count`.
enum MetricsRenderer {
    static func text(_ server: BerthServer, worker: Worker) -> String {
        let m = worker.manager
        let perUpstream = server.configuration.metricsPerUpstream
        var out = ""
        out.reserveCapacity(8192 + m.pools.count * 4096)
        // Without per-upstream labels every family is one aggregated series (for very large fleets).
        var series: [(label: String, pool: UpstreamPool?, counters: UpstreamCounters)] = []
        let sorted = m.pools.values.sorted { $0.key.description < $1.key.description }
        if perUpstream {
            for p in sorted { series.append(("upstream=\"\(escape(p.key.description))\"", p, p.counters)) }
        } else {
            var total = m.forgottenTotals
            for p in sorted { total.merge(p.counters) }
            series.append(("", nil, total))
        }
        func labels(_ base: String, _ extra: String) -> String {
            let parts = [base, extra].filter { !$0.isEmpty }
            return parts.isEmpty ? "" : "{" + parts.joined(separator: ",") + "}"
        }
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func gaugeByPool(_ name: String, _ help: String, _ value: (UpstreamPool) -> Int) {
            family(name, "gauge", help)
            if perUpstream {
                for p in sorted { out += "\(name){upstream=\"\(escape(p.key.description))\"} \(value(p))\n" }
            } else {
                out += "\(name) \(sorted.reduce(0) { $0 + value($1) })\n"
            }
        }

        family("berth_build_info", "gauge", "berth version.")
        out += "berth_build_info{version=\"\(berthVersion)\",profile=\"\(escape(server.configuration.profile))\"} 1\n"
        family("berth_uptime_seconds", "gauge", "Seconds since berth started.")
        out += "berth_uptime_seconds \(server.uptime)\n"
        family("berth_callers", "gauge", "Caller connections open now.")
        out += "berth_callers \(worker.callerCount)\n"
        family("berth_callers_accepted_total", "counter", "Caller connections accepted.")
        out += "berth_callers_accepted_total \(worker.counters.accepted)\n"
        family("berth_requests_received_total", "counter", "Request heads received from callers.")
        out += "berth_requests_received_total \(worker.counters.requests)\n"
        family("berth_errors_total", "counter", "Requests berth answered itself, by Berth-Error cause.")
        for c in ErrorCause.allCases { out += "berth_errors_total{cause=\"\(c.rawValue)\"} \(worker.counters.failureCount(c))\n" }
        family("berth_upstreams", "gauge", "Upstreams berth knows.")
        out += "berth_upstreams \(m.pools.count)\n"

        gaugeByPool("berth_upstream_open_connections", "Upstream connections open or opening.") { $0.state.open }
        gaugeByPool("berth_upstream_idle_connections", "Idle pooled upstream connections.") { $0.state.idle.count }
        gaugeByPool("berth_upstream_busy_connections", "Upstream connections carrying a request.") { $0.state.busy }
        gaugeByPool("berth_upstream_pending_requests", "Requests waiting for a connection.") { $0.state.waiters.count }
        gaugeByPool("berth_upstream_paused", "1 while the upstream is paused.") { $0.state.isPaused ? 1 : 0 }
        if perUpstream {
            gaugeByPool("berth_upstream_epoch", "Pool epoch; bumped by every resume.") { Int($0.state.epoch) }
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
