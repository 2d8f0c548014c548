// `berth ctl top`: a live terminal view of /stats, busiest upstreams first, with rates from one refresh to the next.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Redraws /stats every interval until `q` (or Ctrl-C, or `--iterations`).
struct CtlTop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "A live view of every upstream, busiest first. Keys: q quits, s changes the order.")

    @Option(help: ArgumentHelp("Seconds between refreshes.", valueName: "seconds")) var interval: Double = 2
    @Option(help: ArgumentHelp("Stop after this many refreshes (default: until q).", valueName: "n")) var iterations: Int?
    @OptionGroup var options: CtlOptions

    /// Bounds the interval (a refresh per 0.1 s at most) and the iteration count.
    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be from 0.1 to 3600 seconds") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
    }

    /// The loop: refresh, draw, wait for the interval or a key.
    func run() throws {
        try ctlRun { () throws(CtlError) in
            let client = try options.client()
            var view = TopView()
            let terminal = TerminalMode.enter()
            defer { terminal?.leave() }
            signal(SIGINT, { _ in ctlTopStopped = 1 })
            signal(SIGTERM, { _ in ctlTopStopped = 1 })
            var frames = 0
            while ctlTopStopped == 0 {
                try view.refresh(client)
                view.draw(terminal: terminal)
                frames += 1
                if let iterations, frames >= iterations { break }
                // Wait for the next refresh, redrawing at once when a key changes the order.
                let deadline = ProcessInfo.processInfo.systemUptime + interval
                while ctlTopStopped == 0 {
                    let left = deadline - ProcessInfo.processInfo.systemUptime
                    guard left > 0 else { break }
                    guard let terminal else {
                        usleep(UInt32(left * 1e6))
                        break
                    }
                    guard let key = terminal.key(within: left) else { continue }
                    switch key {
                    case UInt8(ascii: "q"), UInt8(ascii: "Q"): return
                    case UInt8(ascii: "s"), UInt8(ascii: "S"):
                        view.order = view.order.next
                        view.draw(terminal: terminal)
                    default: break
                    }
                }
            }
        }
    }
}

/// Set by SIGINT or SIGTERM; read by the loop (a signal handler may only touch such a flag).
nonisolated(unsafe) var ctlTopStopped: sig_atomic_t = 0

/// What `top` shows: the last /stats, rates against the one before, and the chosen order.
struct TopView {
    /// The orders `s` cycles through.
    enum Order: String, CaseIterable {
        case rate = "requests/s", errors, pending, name
        /// The order after this one.
        var next: Order { Order.allCases[(Order.allCases.firstIndex(of: self)! + 1) % Order.allCases.count] }
    }

    var order = Order.rate
    private var doc: [String: Any] = [:]
    private var problem: String?
    private var rates: [String: (requests: Double, errors: Double)] = [:]
    private var totalRate: (requests: Double, errors: Double)?
    private var previous: (at: Double, counts: [String: (Int, Int)], total: (Int, Int))?

    /// Fetches /stats. berth being away is shown and retried; an error answer (a wrong token, say) ends `top`.
    mutating func refresh(_ client: CtlClient) throws(CtlError) {
        let answer: [String: Any]
        do {
            answer = try client.json("GET", "/stats").object
        } catch where error.status == CtlError.unreachableStatus {
            problem = error.description
            return
        }
        problem = nil
        let now = ProcessInfo.processInfo.systemUptime
        var counts: [String: (Int, Int)] = [:]
        for u in answer["upstreams"] as? [[String: Any]] ?? [] { counts[u.text("upstream")] = (u.int("requests"), u.total("failures")) }
        let totals = answer.object("totals")
        let total = (totals.int("requests"), totals.total("failures"))
        rates = [:]
        totalRate = nil
        if let p = previous, now > p.at {
            let dt = now - p.at
            for (name, c) in counts {
                guard let old = p.counts[name], c.0 >= old.0, c.1 >= old.1 else { continue }
                // In Double: two counters from a broken server may be further apart than an Int holds.
                rates[name] = ((Double(c.0) - Double(old.0)) / dt, (Double(c.1) - Double(old.1)) / dt)
            }
            if total.0 >= p.total.0 && total.1 >= p.total.1 {
                totalRate = ((Double(total.0) - Double(p.total.0)) / dt, (Double(total.1) - Double(p.total.1)) / dt)
            }
        }
        previous = (now, counts, total)
        doc = answer
    }

    /// The frame: the header, a status line, then as many rows as the terminal has room for.
    func draw(terminal: TerminalMode?) {
        let size = terminal?.size ?? (rows: 10_000, columns: 10_000)
        var lines = doc.isEmpty ? [] : CtlStatsView.header(doc)
        let total = totalRate.map { "\(CtlFormat.rate($0.requests)) req/s, \(CtlFormat.rate($0.errors)) err/s" } ?? "rates after the next refresh"
        lines.append("\(total) · \(clock()) · by \(order.rawValue) · q quit, s sort")
        if let problem { lines.append("berth ctl: \(problem) (retrying)") }
        lines.append("")
        var ups = doc["upstreams"] as? [[String: Any]] ?? []
        ups.sort(by: sorter)
        let room = max(1, size.rows - lines.count - 2)
        lines += CtlStatsView.table(Array(ups.prefix(room)), rates: rates).lines(width: size.columns)
        if ups.count > room { lines.append("… \(ups.count - room) more (widen the terminal or use berth ctl stats)") }
        // The server's text is made printable before berth's own escape sequences are added.
        let text = lines.map { String(ctlPrintable($0).prefix(size.columns)) }.joined(separator: "\n")
        // Home, draw, clear what an earlier, longer frame left below.
        writeOut(terminal == nil ? text + "\n" : "\u{1B}[H" + text.replacingOccurrences(of: "\n", with: "\u{1B}[K\n") + "\u{1B}[K\u{1B}[J")
    }

    /// The chosen order, ties broken by name.
    private func sorter(_ a: [String: Any], _ b: [String: Any]) -> Bool {
        let (na, nb) = (a.text("upstream"), b.text("upstream"))
        let key: (([String: Any]) -> Double)?
        switch order {
        case .rate: key = { self.rates[$0.text("upstream")]?.requests ?? 0 }
        case .errors: key = { Double($0.total("failures")) }
        case .pending: key = { Double($0.int("pending")) }
        case .name: key = nil
        }
        if let key, key(a) != key(b) { return key(a) > key(b) }
        return na < nb
    }

    /// The local time of day, for the status line.
    private func clock() -> String {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

/// The terminal while `top` runs: keys read one at a time without echo, the alternate screen, no cursor.
/// nil when stdin or stdout is not a terminal: `top` then prints frames one after another.
struct TerminalMode {
    private let saved: termios

    /// Switches the terminal over; nil when there is none.
    static func enter() -> TerminalMode? {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return nil }
        var t = termios()
        guard tcgetattr(STDIN_FILENO, &t) == 0 else { return nil }
        let mode = TerminalMode(saved: t)
        t.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &t)
        writeOut("\u{1B}[?1049h\u{1B}[?25l")
        return mode
    }

    /// Puts the terminal back as it was.
    func leave() {
        var t = saved
        tcsetattr(STDIN_FILENO, TCSANOW, &t)
        writeOut("\u{1B}[?25h\u{1B}[?1049l")
    }

    /// A key pressed within `seconds`, or nil (after waiting them out when the terminal has gone).
    func key(within seconds: Double) -> UInt8? {
        var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(max(1, seconds * 1000))) > 0 else { return nil }
        var b: UInt8 = 0
        if read(STDIN_FILENO, &b, 1) == 1 { return b }
        usleep(UInt32(seconds * 1e6))  // end of input: nothing more will come, but the refreshes go on
        return nil
    }

    /// Rows and columns.
    var size: (rows: Int, columns: Int) {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_row > 0, w.ws_col > 0 else { return (24, 80) }
        return (Int(w.ws_row), Int(w.ws_col))
    }
}

/// Writes straight to stdout, unbuffered, so a frame appears whole and at once.
private func writeOut(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
