// Plain-text tables and number formats shared by `berth ctl stats` and `berth ctl top`.
import Foundation

/// Columns of text, left-aligned names and right-aligned numbers, two spaces apart.
struct CtlTable {
    /// A column heading and whether its cells align right (numbers).
    struct Column {
        var title: String
        var right: Bool
    }

    var columns: [Column]
    var rows: [[String]] = []

    /// A table with these headings; a heading ending in `>` is right-aligned (the `>` is not shown).
    init(_ headings: [String]) {
        columns = headings.map { $0.hasSuffix(">") ? Column(title: String($0.dropLast()), right: true) : Column(title: $0, right: false) }
    }

    /// The table as lines, each cut to `width` characters when given.
    func lines(width: Int? = nil) -> [String] {
        var widths = columns.map(\.title.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        /// One row, each cell padded to its column.
        func line(_ cells: [String]) -> String {
            var out = ""
            for (i, column) in columns.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                out += (i == 0 ? "" : "  ") + (column.right ? pad + cell : (i == columns.count - 1 ? cell : cell + pad))
            }
            if let width, out.count > width { return String(out.prefix(width)) }
            return out
        }
        return [line(columns.map(\.title))] + rows.map(line)
    }
}

/// Number and duration formats, the same as the status page's.
enum CtlFormat {
    /// A latency in milliseconds from /stats (`-` for null).
    static func ms(_ value: Any?) -> String {
        guard let v = (value as? NSNumber)?.doubleValue else { return "-" }
        if v < 1 { return String(format: "%.2fms", v) }
        if v < 1000 { return v < 10 ? String(format: "%.1fms", v) : String(format: "%.0fms", v) }
        return String(format: v < 10_000 ? "%.2fs" : "%.1fs", v / 1000)
    }

    /// A rate per second.
    static func rate(_ r: Double?) -> String {
        guard let r else { return "-" }
        return r < 10 ? String(format: "%.2f", r) : r < 100 ? String(format: "%.1f", r) : String(format: "%.0f", r)
    }

    /// Seconds as `1d 2h`, `3h 4m`, `5m 6s` or `7.8s`.
    static func uptime(_ s: Double) -> String {
        // Past a million years (or negative) it is no uptime berth has: printed as it came, not converted (a trap).
        guard s >= 0, s < 3e13 else { return "\(s)s" }
        if s < 60 { return String(format: "%.1fs", s) }
        let total = Int(s)
        let (d, h, m) = (total / 86400, total / 3600 % 24, total / 60 % 60)
        return d > 0 ? "\(d)d \(h)h" : h > 0 ? "\(h)h \(m)m" : "\(m)m \(total % 60)s"
    }
}

/// Typed reads of the /stats document.
extension Dictionary where Key == String, Value == Any {
    /// A nested object (empty when absent).
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }

    /// The sum of a counter object's values (`failures`, `errors`).
    /// Saturates at Int.max: a server's counters near it must not trap the client.
    func total(_ key: String) -> Int {
        object(key).values.reduce(0) { sum, v in
            let (r, overflow) = sum.addingReportingOverflow(Swift.max(0, ctlInteger(v) ?? 0))
            return overflow ? Int.max : r
        }
    }

    /// A counter object's non-zero entries, largest first, as `name N`.
    func nonZero(_ key: String) -> [String] {
        object(key).compactMap { k, v -> (String, Int)? in
            let n = ctlInteger(v) ?? 0
            return n > 0 ? (k, n) : nil
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map { "\($0.0) \($0.1)" }
    }
}
