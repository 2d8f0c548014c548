// `berth ctl stats [UPSTREAM]`: GET /stats as a readable summary and table, one upstream in detail, or the JSON.
import ArgumentParser
import Foundation

/// Prints /stats: totals and one line per upstream, or one upstream's every figure.
struct CtlStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show pools, counters and latency: every upstream as a table, or one in detail.")

    @Argument(help: ArgumentHelp("Only this upstream, shown in detail (each of its pools).", valueName: "host:port")) var upstream: String?
    @OptionGroup var options: CtlOptions

    /// Sends GET /stats and prints the overview, one upstream's detail, or the JSON.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let answer = try options.client().json("GET", ctlPath("/stats", [("upstream", upstream)]))
            options.output(answer) { doc in
                let ups = doc["upstreams"] as? [[String: Any]] ?? []
                // Every pool berth answers for the endpoint (plain and TLS, `fn` and `fn.`): the first alone hid the
                // one the traffic went through (adv11).
                if upstream != nil, !ups.isEmpty {
                    return ups.map { CtlStatsView.detail($0).joined(separator: "\n") }.joined(separator: "\n\n")
                }
                var lines = CtlStatsView.header(doc) + [""]
                lines += ups.isEmpty ? ["no upstreams yet"] : CtlStatsView.table(ups, rates: nil).lines()
                return lines.joined(separator: "\n")
            }
        }
    }
}

/// The text views of a /stats document, shared with `top`.
enum CtlStatsView {
    /// Identity and totals, four lines.
    static func header(_ doc: [String: Any]) -> [String] {
        let t = doc.object("totals")
        let uptime = CtlFormat.uptime((doc["uptime_seconds"] as? NSNumber)?.doubleValue ?? 0)
        let workers = doc["workers"].map { "\($0)" } ?? "-"
        let causes = t.nonZero("errors")
        let restores = t.int("vm_restores")
        let reclaimed = t.int("callers_reclaimed")
        return [
            "berth \(doc.text("version")) · profile \(doc.text("profile")) · up \(uptime) · workers \(workers)",
            "upstreams \(t.text("upstreams")) · callers \(t.text("callers")) · open \(t.text("open"))/\(t.text("max_total")) · "
                + "idle \(t.text("idle")) · busy \(t.text("busy")) · connecting \(t.text("connecting")) · pending \(t.text("pending"))",
            "requests \(t.text("requests")) · retries \(t.text("retries")) · received \(t.text("requests_received")) · "
                + "errors \(t.total("errors"))" + (causes.isEmpty ? "" : " (\(causes.joined(separator: ", ")))")
                + (restores > 0 ? " · vm restores \(restores)" : "")
                + (reclaimed > 0 ? " · callers closed for room \(reclaimed)" : ""),
            peers(t),
        ]
    }

    /// Peers that went away without a word (issue 20): dead peers found by acknowledgement and the retries they
    /// caused, and idle connections closed ahead of their server's announced keep-alive timeout.
    static func peers(_ t: [String: Any]) -> String {
        let closed = t.object("connections").object("closed")
        return "dead peers \(closed.text("dead-peer")) (retried \(t.object("replays").text("dead-peer"))) · "
            + "keep-alive-hint closes \(closed.text("keep-alive-hint"))"
    }

    /// One row per upstream; with `rates` (from `top`), requests/s and errors/s columns too.
    static func table(_ ups: [[String: Any]], rates: [String: (requests: Double, errors: Double)]?) -> CtlTable {
        var headings = ["UPSTREAM", "STATE", "EPOCH>", "OPEN>", "IDLE>", "BUSY>", "CONN>", "PEND>", "REQUESTS>"]
        if rates != nil { headings += ["REQ/S>", "ERR/S>"] }
        headings += ["ERRORS>", "ACQ P99>", "TTFB P99>", "TOP CAUSE"]
        var table = CtlTable(headings)
        for u in ups {
            let name = u.text("upstream")
            let state = u.text("state") == "paused" ? "paused/\(u.text("pause_mode"))" : u.text("state")
            let latency = u.object("latency_ms")
            var row = [name, state, u.text("epoch"), u.text("open"), u.text("idle"), u.text("busy"), u.text("connecting"),
                       u.text("pending"), u.text("requests")]
            if let rates {
                let r = rates[name]
                row += [CtlFormat.rate(r?.requests), CtlFormat.rate(r?.errors)]
            }
            row += [String(u.total("failures")), CtlFormat.ms(latency.object("acquire_wait")["p99"]),
                    CtlFormat.ms(latency.object("time_to_first_byte")["p99"]), u.nonZero("failures").first ?? ""]
            table.rows.append(row)
        }
        return table
    }

    /// Every figure of one upstream, a topic per line.
    static func detail(_ u: [String: Any]) -> [String] {
        let state = u.text("state") == "paused" ? "paused (\(u.text("pause_mode")))" : u.text("state")
        let pairs = { (o: [String: Any]) in
            o.keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: "-")) \(o.text($0))" }.joined(separator: "  ")
        }
        let timeouts = u.object("timeouts_ms")
        let latency = u.object("latency_ms")
        let percentiles = { (h: [String: Any]) in
            "p50 \(CtlFormat.ms(h["p50"]))  p90 \(CtlFormat.ms(h["p90"]))  p99 \(CtlFormat.ms(h["p99"]))  (\(h.text("count")))"
        }
        let list = { (items: [String]) in items.isEmpty ? "none" : items.joined(separator: ", ") }
        let watch: String
        switch u["freezer"] {
        case nil, is NSNull: watch = "-"
        case let o as [String: Any]: watch = pairs(o)
        case let v?: watch = "\(v)"
        }
        let rows: [(String, String)] = [
            ("connections", "open \(u.text("open"))  idle \(u.text("idle"))  busy \(u.text("busy"))  connecting \(u.text("connecting"))  pending \(u.text("pending"))"),
            ("limits", pairs(u.object("limits"))),
            ("timeouts", timeouts.keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: "-")) \(CtlFormat.ms(timeouts[$0]))" }.joined(separator: "  ")),
            ("counters", "requests \(u.text("requests"))  retries \(u.text("retries"))  opened \(u.object("connections").text("opened"))  reused \(u.object("connections").text("reused"))"),
            ("closed", list(u.object("connections").nonZero("closed"))),
            ("retries by reason", list(u.nonZero("replays"))),
            ("failures", list(u.nonZero("failures"))),
            ("acquire wait", percentiles(latency.object("acquire_wait"))),
            ("first byte", percentiles(latency.object("time_to_first_byte"))),
            ("freezer watch", watch),
            // Present once a Berth-Generation request header named one for the address.
            ("generation", "\(u["generation"] == nil ? "none named" : u.text("generation"))  changes \(u.text("generation_changes"))"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return ["\(u.text("upstream"))  \(state)  epoch \(u.text("epoch"))"]
            + rows.map { $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 }
    }
}
