// Size and count limits the head parsers and the body decoder enforce while bytes arrive.

/// Parser limits in one place; each violation maps to a status (see `HTTP1Error.status`).
public struct HTTP1Limits: Sendable, Equatable {
    /// Longest request line (414) or status line (invalid) in bytes, CRLF excluded.
    public var maxStartLineBytes: Int = 8 * 1024
    /// Largest header section in bytes, start line excluded (431).
    public var maxHeaderSectionBytes: Int = 64 * 1024
    /// Most header fields (431).
    public var maxHeaderCount: Int = 100
    /// Longest chunk-size line, extensions included.
    public var maxChunkLineBytes: Int = 4 * 1024
    /// Largest chunked trailer section.
    public var maxTrailerBytes: Int = 16 * 1024
    /// The defaults named by the codec issue.
    public static let `default` = HTTP1Limits()
    /// Limits with the defaults.
    public init() {}
}
