// Renders GET /metrics in the Prometheus text exposition format (version 0.0.4).

/// Builds the /metrics text: `berth_` names, `_total` counters, histograms with `_bucket`, `_sum`, `_count`.
///
/// Written as bytes into a `ByteWriter`, with label sets built once per upstream: at 10,000 upstreams the answer is
/// ~60 MB, and building it through String interpolation held the worker's loop for ~0.6 s.
enum MetricsRenderer {
    static func text(_ s: StatsSnapshot, uptime: Double, profile: String, perUpstream: Bool) -> OwnedBytes {
        var out = ByteWriter(capacity: 8192 + (perUpstream ? s.pools.count * 6400 : 0))
        write(&out, s, uptime: uptime, profile: profile, perUpstream: perUpstream)
        return out.finishOwned()
    }

    private static func write(_ out: inout ByteWriter, _ s: StatsSnapshot, uptime: Double, profile: String, perUpstream: Bool) {
        // One series per upstream (label `upstream="..."`), or, without per-upstream labels, one aggregated series
        // (for very large fleets).
        let labels: [[UInt8]] = perUpstream ? s.order.map { upstreamLabel(s.pools[$0]) } : [[]]
        let totals = perUpstream ? UpstreamCounters() : s.totals
        func forEachSeries(_ body: (borrowing [UInt8], borrowing UpstreamCounters, inout ByteWriter) -> Void) {
            if perUpstream {
                for (n, i) in s.order.enumerated() { body(labels[n], s.pools[i].counters, &out) }
            } else {
                body(labels[0], totals, &out)
            }
        }
        func gaugeByPool(_ name: StaticString, _ help: StaticString, _ value: (borrowing PoolSnapshot) -> Int) {
            family(&out, name, "gauge", help)
            if perUpstream {
                for (n, i) in s.order.enumerated() {
                    sample(&out, name, labels[n], nil) { $0.decimal(value(s.pools[i])) }
                }
            } else {
                var sum = 0
                for p in s.pools { sum += value(p) }
                sample(&out, name, [], nil) { $0.decimal(sum) }
            }
        }

        family(&out, "berth_build_info", "gauge", "berth version.")
        out.put("berth_build_info{version=\"")
        out.put(escape(berthVersion))
        out.put("\",profile=\"")
        out.put(escape(profile))
        out.put("\"} 1\n")
        family(&out, "berth_uptime_seconds", "gauge", "Seconds since berth started.")
        sample(&out, "berth_uptime_seconds", [], nil) { $0.put(String(uptime)) }
        family(&out, "berth_callers", "gauge", "Caller connections open now.")
        sample(&out, "berth_callers", [], nil) { $0.decimal(s.callers) }
        family(&out, "berth_callers_accepted_total", "counter", "Caller connections accepted.")
        sample(&out, "berth_callers_accepted_total", [], nil) { $0.decimal(s.callerCounters.accepted) }
        family(&out, "berth_requests_received_total", "counter", "Request heads received from callers.")
        sample(&out, "berth_requests_received_total", [], nil) { $0.decimal(s.callerCounters.requests) }
        family(&out, "berth_errors_total", "counter", "Requests berth answered itself, by Berth-Error cause.")
        for (c, label) in zip(ErrorCause.allCases, causeLabels) {
            sample(&out, "berth_errors_total", [], label) { $0.decimal(s.callerCounters.failureCount(c)) }
        }
        family(&out, "berth_upstreams", "gauge", "Upstreams berth knows.")
        sample(&out, "berth_upstreams", [], nil) { $0.decimal(s.upstreamCount) }

        gaugeByPool("berth_upstream_open_connections", "Upstream connections open or opening.") { $0.open }
        gaugeByPool("berth_upstream_idle_connections", "Idle pooled upstream connections.") { $0.idle }
        gaugeByPool("berth_upstream_busy_connections", "Upstream connections carrying a request.") { $0.busy }
        gaugeByPool("berth_upstream_pending_requests", "Requests waiting for a connection.") { $0.pending }
        gaugeByPool("berth_upstream_paused", "1 while the upstream is paused.") { $0.paused ? 1 : 0 }
        if perUpstream {
            gaugeByPool("berth_upstream_epoch", "Pool epoch; bumped by every resume.") { Int($0.epoch) }
        }

        func counter(_ name: StaticString, _ help: StaticString, _ value: (borrowing UpstreamCounters) -> UInt64) {
            family(&out, name, "counter", help)
            forEachSeries { l, c, o in
                let v = value(c)
                sample(&o, name, l, nil) { $0.decimal(v) }
            }
        }
        /// One series per label of `labels` (by position: the close reasons' or error causes' order).
        func counterBy(_ name: StaticString, _ help: StaticString, _ labels: [[UInt8]],
                       _ value: (borrowing UpstreamCounters, Int) -> UInt64) {
            family(&out, name, "counter", help)
            forEachSeries { l, c, o in
                for (i, label) in labels.enumerated() {
                    let v = value(c, i)
                    sample(&o, name, l, label) { $0.decimal(v) }
                }
            }
        }
        counter("berth_connections_opened_total", "Upstream connections opened.") { $0.opened }
        counter("berth_connections_reused_total", "Requests served on a pooled connection.") { $0.reused }
        counterBy("berth_connections_closed_total", "Upstream connections closed, by reason.", closeLabels) { $0.closed[$1] }
        counter("berth_requests_total", "Requests routed to an upstream.") { $0.requests }
        counter("berth_retries_total", "Requests retried on a fresh connection after a reused one failed.") { $0.retries }
        counterBy("berth_upstream_failures_total", "Requests to an upstream that failed, by Berth-Error cause.", causeLabels) { $0.failures[$1] }
        family(&out, "berth_acquire_wait_seconds", "histogram", "Time a request waited for an upstream connection.")
        forEachSeries { l, c, o in histogram(&o, "berth_acquire_wait_seconds", l, c.acquireWait) }
        family(&out, "berth_time_to_first_byte_seconds", "histogram", "Time from sending a request to its first response byte.")
        forEachSeries { l, c, o in histogram(&o, "berth_time_to_first_byte_seconds", l, c.timeToFirstByte) }
        counter("berth_tls_handshakes_full_total", "TLS handshakes with a certificate exchange (no cached session resumed).") { $0.tls.full }
        counter("berth_tls_handshakes_resumed_total", "TLS handshakes that resumed the session cached for the upstream.") { $0.tls.resumed }
        counter("berth_tls_handshake_failures_total", "TLS handshakes that failed or timed out.") { $0.tls.failed }
    }

    private static func family(_ out: inout ByteWriter, _ name: StaticString, _ type: StaticString, _ help: StaticString) {
        out.put("# HELP ")
        out.put(name)
        out.put(UInt8(ascii: " "))
        out.put(help)
        out.put("\n# TYPE ")
        out.put(name)
        out.put(UInt8(ascii: " "))
        out.put(type)
        out.put(UInt8(ascii: "\n"))
    }

    /// One line: `name{base,extra} value`; the braces only when there is a label.
    @inline(__always)
    private static func sample(_ out: inout ByteWriter, _ name: StaticString, _ base: borrowing [UInt8], _ extra: [UInt8]?,
                               suffix: StaticString = "", value: (inout ByteWriter) -> Void) {
        out.put(name)
        out.put(suffix)
        if !base.isEmpty || extra != nil {
            out.put(UInt8(ascii: "{"))
            out.put(base)
            if let extra {
                if !base.isEmpty { out.put(UInt8(ascii: ",")) }
                out.put(extra)
            }
            out.put(UInt8(ascii: "}"))
        }
        out.put(UInt8(ascii: " "))
        value(&out)
        out.put(UInt8(ascii: "\n"))
    }

    private static func histogram(_ out: inout ByteWriter, _ name: StaticString, _ label: borrowing [UInt8], _ h: borrowing Histogram) {
        var cumulative: UInt64 = 0
        for i in 0..<Histogram.bounds.count {
            cumulative += h.counts[i]
            let c = cumulative
            sample(&out, name, label, boundLabels[i], suffix: "_bucket") { $0.decimal(c) }
        }
        let count = h.count
        let sum = Double(h.sum) / 1e9
        sample(&out, name, label, infLabel, suffix: "_bucket") { $0.decimal(count) }
        sample(&out, name, label, nil, suffix: "_sum") { $0.put(String(sum)) }
        sample(&out, name, label, nil, suffix: "_count") { $0.decimal(count) }
    }

    private static func upstreamLabel(_ p: borrowing PoolSnapshot) -> [UInt8] {
        Array("upstream=\"\(escape(p.key.description))\"".utf8)
    }

    private static let closeLabels = CloseReason.allCases.map { Array("reason=\"\($0.rawValue)\"".utf8) }
    private static let causeLabels = ErrorCause.allCases.map { Array("cause=\"\($0.rawValue)\"".utf8) }
    private static let boundLabels = Histogram.bounds.map { Array("le=\"\(String(Double($0) / 1e9))\"".utf8) }
    private static let infLabel = Array("le=\"+Inf\"".utf8)

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
