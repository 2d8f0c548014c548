// Per-deployment settings for the heads berth writes when forwarding.

/// Options for heads that berth forwards.
public struct ForwardOptions: Sendable {
    /// Value of a Via field to add (e.g. `1.1 berth`); nil adds none.
    public var via: String? = nil
    /// Lowercased names to strip besides the hop-by-hop set (berth's own control headers).
    public var alsoDrop: [String] = []
    /// Drop Transfer-Encoding: only for a response whose chunked framing the proxy strips for an HTTP/1.0 caller.
    public var dropTransferEncoding = false
    /// No Via, nothing extra dropped.
    public init() {}
}
