// Per-deployment settings for the heads berth writes when forwarding.

/// Options for heads that berth forwards.
public struct ForwardOptions: Sendable {
    /// Value of a Via field to add (e.g. `1.1 berth`); nil adds none.
    public var via: String? {
        get { viaLine.isEmpty ? nil : String(decoding: viaLine.dropFirst(5).dropLast(2), as: UTF8.self) }
        set { viaLine = newValue.map { Array("Via: \($0)\r\n".utf8) } ?? [] }
    }
    /// Names to strip besides the hop-by-hop set (berth's own control headers), compared case-insensitively.
    public var alsoDrop: [String] {
        get { alsoDropBytes.map { String(decoding: $0, as: UTF8.self) } }
        set {
            alsoDropBytes = newValue.map { Array($0.lowercased().utf8) }
            alsoDropKinds = 0
            alsoDropLengths = 0
            for name in alsoDropBytes {
                let kind = name.withUnsafeBytes { KnownHeader.classify($0) }
                if kind == .other { alsoDropLengths |= NameLengths.bit(name.count) } else { alsoDropKinds |= kind.bit }
            }
        }
    }
    /// Stored as bytes only, made once: every forwarded head appends the Via line and compares field names with the
    /// list, and a copy of the options (one per head) retains no more than these two arrays.
    private(set) var viaLine: [UInt8] = []
    private(set) var alsoDropBytes: [[UInt8]] = []
    /// The kinds of the listed names that are `KnownHeader` kinds (berth's own control headers are), dropped by kind.
    private(set) var alsoDropKinds: KindSet = 0
    /// The lengths of the other listed names as a set (`NameLengths`): when it is empty, the serializer looks only at
    /// the known lines; otherwise at every line, and a line whose length is not in it skips the list with one test.
    private(set) var alsoDropLengths: UInt64 = 0
    /// Drop Transfer-Encoding: only for a response whose chunked framing the proxy strips for an HTTP/1.0 caller.
    public var dropTransferEncoding: Bool {
        get { droppedFraming & KnownHeader.transferEncoding.bit != 0 }
        set { droppedFraming = newValue ? KnownHeader.transferEncoding.bit : 0 }
    }
    /// The framing kinds left out (a set, so that the serializer adds it to its drop set with no test): that
    /// Transfer-Encoding, or both framing fields of a response that has no body by its status.
    var droppedFraming: KindSet = 0
    /// Add `Transfer-Encoding: chunked`: only for a close-delimited response the proxy re-frames as chunked for an
    /// HTTP/1.1 caller (a head with no transfer coding of its own).
    public var addChunked = false
    /// A request's `Max-Forwards` to send instead of the caller's (RFC 9110 7.6.2: a TRACE or OPTIONS goes on with
    /// the value decremented); -1 writes none. The caller's line is left out through `alsoDrop`.
    public var maxForwards = -1
    /// No Via, nothing extra dropped.
    public init() {}
}

/// A set of name lengths in one word: bit n for length n, bit 63 for 63 and longer. Two names can only be equal when
/// their lengths are, so a field whose length is not in the set is not in the list (the test never gives a false
/// "no"; a "maybe" still compares bytes).
enum NameLengths {
    @inline(__always)
    static func bit(_ count: Int) -> UInt64 { 1 &<< UInt64(min(count, 63)) }
}
