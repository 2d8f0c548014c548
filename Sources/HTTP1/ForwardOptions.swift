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
        set { alsoDropBytes = newValue.map { Array($0.lowercased().utf8) } }
    }
    /// Stored as bytes only, made once: every forwarded head appends the Via line and compares field names with the
    /// list, and a copy of the options (one per head) retains no more than these two arrays.
    private(set) var viaLine: [UInt8] = []
    private(set) var alsoDropBytes: [[UInt8]] = []
    /// Drop Transfer-Encoding: only for a response whose chunked framing the proxy strips for an HTTP/1.0 caller.
    public var dropTransferEncoding = false
    /// No Via, nothing extra dropped.
    public init() {}
}
