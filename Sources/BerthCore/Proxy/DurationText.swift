// Parses the short duration syntax (`125ms`, `2s`, `5m`) where the data path needs it: the Berth-Socket-Timeout header.

/// Duration text without Foundation, for per-request use.
enum DurationText {
    /// Nanoseconds for `N(us|ms|s|m|h)` with an optional decimal part; nil when malformed, zero or over a day.
    static func parse(_ text: String) -> Nanos? {
        let t = text.utf8
        var i = t.startIndex
        var whole: Int64 = 0
        var frac: Int64 = 0
        var fracDigits: Int64 = 1
        var digits = 0
        while i != t.endIndex, let d = digit(t[i]) {
            whole = whole * 10 + d
            digits += 1
            guard digits <= 9 else { return nil }
            i = t.index(after: i)
        }
        guard digits > 0 else { return nil }
        if i != t.endIndex && t[i] == UInt8(ascii: ".") {
            i = t.index(after: i)
            var fd = 0
            while i != t.endIndex, let d = digit(t[i]) {
                guard fd < 6 else { return nil }
                frac = frac * 10 + d
                fracDigits *= 10
                fd += 1
                i = t.index(after: i)
            }
            guard fd > 0 else { return nil }
        }
        let unit = String(decoding: t[i...], as: UTF8.self)
        let scale: Int64
        switch unit {
        case "us": scale = 1_000
        case "ms": scale = 1_000_000
        case "s": scale = 1_000_000_000
        case "m": scale = 60_000_000_000
        case "h": scale = 3_600_000_000_000
        default: return nil
        }
        let value = whole * scale + frac * scale / fracDigits
        guard value > 0, value <= 86_400_000_000_000 else { return nil }
        return value
    }

    private static func digit(_ b: UInt8) -> Int64? {
        b >= 48 && b <= 57 ? Int64(b - 48) : nil
    }
}
