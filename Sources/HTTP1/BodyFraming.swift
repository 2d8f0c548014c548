// How a message body is delimited, as decided from the head.

/// How a message body is delimited.
public enum BodyFraming: Hashable, Sendable {
    /// No body at all.
    case none
    /// Exactly this many bytes.
    case contentLength(UInt64)
    /// Chunked transfer coding, trailers included.
    case chunked
    /// The body runs until the server closes the connection (responses only).
    case untilClose
}
