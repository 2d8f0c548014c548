// API contract of the HTTP/1.1 codec that BerthCore builds on. TEMPORARY: the codec work replaces these stubs with real files.

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

/// Why a message was refused.
public enum HTTP1Error: Error, Equatable, Sendable {
    case invalidMethod, invalidTarget, invalidVersion, unsupportedVersion
    case startLineTooLong, headerSectionTooLarge, tooManyHeaders
    case invalidHeaderName, invalidHeaderValue, obsFold, whitespaceBeforeColon, bareCR, bareLF
    case missingHost, conflictingHost
    case contentLengthWithTransferEncoding, conflictingContentLength, invalidContentLength
    case unsupportedTransferEncoding, invalidTransferEncoding
    case invalidChunkSize, invalidChunkFraming, trailerTooLarge
    case invalidStatusLine, truncatedBody

    /// The status a server answers with.
    public var status: Int { fatalError("stub") }
}

/// An HTTP version; only 1.0 and 1.1 parse.
public struct HTTPVersion: Hashable, Sendable {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    public static let http11 = HTTPVersion(major: 1, minor: 1)
}

/// A request method.
public enum HTTPMethod: Hashable, Sendable {
    case get, head, post, put, delete, connect, options, trace, patch
    case other(String)
    /// The method as written on the wire.
    public var rawValue: String { fatalError("stub") }
    /// RFC 9110 idempotent methods, the ones a proxy may retry.
    public var isIdempotent: Bool { fatalError("stub") }
}

/// The four request-target forms of RFC 9112 section 3.2.
public enum RequestTargetForm: Hashable, Sendable { case origin, absolute, authority, asterisk }

/// How a message body is delimited.
public enum BodyFraming: Hashable, Sendable {
    case none
    case contentLength(UInt64)
    case chunked
    case untilClose
}

/// A host and optional port, canonicalised: host lowercased, IPv6 literals in brackets.
public struct Authority: Hashable, Sendable {
    public var host: String
    public var port: Int?
    public init(host: String, port: Int?) { self.host = host; self.port = port }
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`; nil when malformed.
    public init?(parsing text: Substring) { fatalError("stub") }
}

/// Header fields with order and duplicates kept, looked up case-insensitively.
public struct HTTPHeaders: Sendable {
    public init() {}
    public var count: Int { fatalError("stub") }
    public func name(at index: Int) -> String { fatalError("stub") }
    public func value(at index: Int) -> String { fatalError("stub") }
    /// First value of `name`, case-insensitive.
    public subscript(name: String) -> String? { fatalError("stub") }
    public func values(named name: String) -> [String] { fatalError("stub") }
    public func firstIndex(named name: String) -> Int? { fatalError("stub") }
    public mutating func append(name: String, value: String) { fatalError("stub") }
    public mutating func removeAll(keepingCapacity: Bool) { fatalError("stub") }
}

/// A parsed request head.
public struct RequestHead: Sendable {
    public var method: HTTPMethod = .get
    public var version: HTTPVersion = .http11
    public var targetForm: RequestTargetForm = .origin
    /// The request-target as sent.
    public var target: String = "/"
    /// For absolute-form and authority-form targets, the target's authority; nil otherwise.
    public var targetAuthority: Authority? = nil
    /// Lowercased scheme of an absolute-form target.
    public var scheme: String? = nil
    /// The origin-form part to forward: path and query ("/" when empty), "*" for asterisk, "" for authority-form.
    public var path: String = "/"
    public var headers = HTTPHeaders()
    /// Validated body framing (never untilClose for requests).
    public var framing: BodyFraming = .none
    /// Whether the caller wants the connection kept open after this exchange.
    public var keepAlive: Bool = true
    /// An Upgrade header together with a Connection: upgrade token.
    public var isUpgrade: Bool = false
    /// Expect: 100-continue.
    public var expectsContinue: Bool = false
    public init() {}
}

/// A parsed response head.
public struct ResponseHead: Sendable {
    public var version: HTTPVersion = .http11
    public var status: Int = 200
    public var reason: String = "OK"
    public var headers = HTTPHeaders()
    public var keepAlive: Bool = true
    public init() {}
    /// Body framing given the request's method (HEAD, CONNECT, 1xx, 204, 304 carry none).
    public func framing(requestMethod: HTTPMethod) -> BodyFraming { fatalError("stub") }
}

/// Result of feeding bytes to a head parser.
public enum HeadParseResult: Equatable, Sendable {
    /// Every byte given was taken; the head is not complete yet.
    case needMore
    /// The head ended after `consumed` bytes of the last slice.
    case complete(consumed: Int)
}

/// Incremental request-head parser.
public struct RequestHeadParser: Sendable {
    public init(limits: HTTP1Limits = .default) {}
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult { fatalError("stub") }
    public var head: RequestHead { fatalError("stub") }
    public mutating func reset() { fatalError("stub") }
}

/// Incremental response-head parser.
public struct ResponseHeadParser: Sendable {
    public init(limits: HTTP1Limits = .default) {}
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult { fatalError("stub") }
    public var head: ResponseHead { fatalError("stub") }
    public mutating func reset() { fatalError("stub") }
}

/// Finds where a body ends without touching its payload, so bytes are forwarded as they came.
public struct BodyDecoder: Sendable {
    public init(framing: BodyFraming, limits: HTTP1Limits = .default) {}
    /// How many leading bytes of `bytes` belong to this body, framing included.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> Int { fatalError("stub") }
    public var isComplete: Bool { fatalError("stub") }
    /// The peer closed: completes an until-close body, throws truncatedBody otherwise.
    public mutating func finishAtEOF() throws(HTTP1Error) { fatalError("stub") }
}

/// Options for heads that berth forwards.
public struct ForwardOptions: Sendable {
    public var via: String? = nil
    /// Lowercased names to strip besides the hop-by-hop set (berth's own control headers).
    public var alsoDrop: [String] = []
    public init() {}
}

/// Writes heads for forwarding.
public enum HeadSerializer {
    /// Request line in origin-form, Host set from `host`, hop-by-hop headers dropped.
    public static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, into out: inout [UInt8]) { fatalError("stub") }
    /// Status line and headers for the caller, hop-by-hop dropped, Connection set from `keepAlive`.
    public static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions, into out: inout [UInt8]) { fatalError("stub") }
}
