// The `Keep-Alive: timeout=N` line berth announces to its callers, made once from the setting and kept in one word.

/// The announced seconds' digits and CRLF packed in a word (`tail`), in memory order with zero bytes after them, so
/// a head writes the line as a literal and one short copy, and whoever holds it (the session's settings) holds no
/// reference: it is passed beside ForwardOptions rather than inside it, as a larger options value is no longer
/// copied inline (the copy per head went through a value witness).
public enum KeepAliveLine {
    /// The word for `seconds` (clamped to 0...999,999, six digits and CRLF), or 0 (nothing announced) for nil.
    public static func tail(seconds: Int?) -> UInt64 {
        guard let n = seconds else { return 0 }
        let bytes = Array("\(min(max(n, 0), 999_999))\r\n".utf8)
        var tail: UInt64 = 0
        withUnsafeMutableBytes(of: &tail) { $0.copyBytes(from: bytes) }
        return tail
    }

    /// The seconds a word announces, nil for 0.
    public static func seconds(_ tail: UInt64) -> Int? {
        guard tail != 0 else { return nil }
        return withUnsafeBytes(of: tail) { Int(String(decoding: $0[0..<(count(tail) - 2)], as: UTF8.self)) }
    }

    /// How many bytes of `tail` the digits and CRLF fill (none of them is zero).
    @inline(__always)
    static func count(_ tail: UInt64) -> Int { (64 - UInt64(littleEndian: tail).leadingZeroBitCount + 7) / 8 }

    /// The longest line: the name, `timeout=`, six digits and CRLF.
    static let bound = 28

    /// Writes `Keep-Alive: timeout=N` CRLF.
    @inline(__always)
    static func write(_ tail: UInt64, into out: inout HeadWriter) {
        out.literal("Keep-Alive: timeout=")
        withUnsafeBytes(of: tail) { out.raw(UnsafeRawBufferPointer(rebasing: $0[0..<count(tail)])) }
    }
}
