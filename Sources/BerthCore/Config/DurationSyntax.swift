// How durations are written in flags, variables and files (`125ms`, `1.5s`, `5m`, `1h`), and printed back.

/// Parses and formats durations; every timeout is finite, positive and at most a day.
public enum DurationSyntax {
    /// The longest duration accepted: anything longer is a typo, and an hour-long socket timeout is already a hang.
    public static let maximum: Duration = .seconds(24 * 3600)
    /// The shortest duration accepted; event-loop timers are not finer than this in practice.
    public static let minimum: Duration = .milliseconds(1)

    /// Shortest unit first, so that `ms` is tried before `m` and `s`.
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]
    private static let hint = "(write 125ms, 2s or 5m)"

    /// Nanoseconds for `text`, or nil: the data path's and admin API's entry (Berth-Socket-Timeout, drain=, hold=, idle_for=).
    static func nanoseconds(parsing text: String) -> Int64? {
        (try? parse(text))?.nanos
    }

    /// Whether `text` is a zero written with a unit (`0s`, `0ms`, `0.0s`): not a timeout, but a valid threshold.
    static func isZero(_ text: String) -> Bool {
        guard text.utf8.count <= 32, let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return false }
        let parts = text.dropLast(unit.suffix.count).split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return !parts[0].isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == "0" } }
    }

    /// The duration `text` denotes, e.g. `1.5s`; throws with a message about the text alone.
    static func parse(_ text: String) throws(ValueProblem) -> Duration {
        guard text.utf8.count <= 32 else { throw ValueProblem("\"\(text.prefix(32))...\" is not a duration \(hint)") }
        let quoted = "\"\(text)\""
        if text.hasPrefix("-") { throw ValueProblem("\(quoted) is negative; every timeout must be positive \(hint)") }
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else {
            if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                throw ValueProblem("\(quoted) has no unit \(hint)")
            }
            throw ValueProblem("\(quoted) is not a duration \(hint)")
        }
        let number = text.dropLast(unit.suffix.count)
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !parts[0].isEmpty, parts[0].isASCIIDigits, parts.count == 1 || (!parts[1].isEmpty && parts[1].isASCIIDigits) else {
            throw ValueProblem("\(quoted) is not a duration \(hint)")
        }
        // Whole and fractional parts are kept as integers so that 1.1s is exactly 1100ms.
        guard let whole = Int64(parts[0]) else {
            throw ValueProblem("\(quoted) is longer than \(format(maximum))")
        }
        var (nanoseconds, overflow) = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        // Checked before the fraction is added, so no later addition can overflow (a crash here would be remote-triggerable).
        if overflow || nanoseconds > 86_400_000_000_000 { throw ValueProblem("\(quoted) is longer than \(format(maximum))") }
        if parts.count == 2 {
            var scale = unit.nanoseconds
            for digit in parts[1] {
                scale /= 10
                nanoseconds += Int64(digit.wholeNumberValue!) * scale
            }
        }
        let duration = Duration.nanoseconds(nanoseconds)
        if nanoseconds == 0 { throw ValueProblem("\(quoted) is zero; every timeout must be positive \(hint)") }
        if duration > maximum { throw ValueProblem("\(quoted) is longer than \(format(maximum))") }
        if duration < minimum { throw ValueProblem("\(quoted) is shorter than \(format(minimum))") }
        return duration
    }

    /// The shortest spelling `parse` reads back exactly: `125ms`, `2s`, `5m`, `1h`, or a decimal like `1.5ms`.
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = nanoseconds(duration)
        for unit in units.reversed() where nanoseconds % unit.nanoseconds == 0 && nanoseconds >= unit.nanoseconds {
            return "\(nanoseconds / unit.nanoseconds)\(unit.suffix)"
        }
        let millisecond = units[0].nanoseconds
        var fraction = String(nanoseconds % millisecond)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(nanoseconds / millisecond).\(fraction)ms"
    }

    /// Whole nanoseconds in `duration`; configuration never holds finer values.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
