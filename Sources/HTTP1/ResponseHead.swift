// The parsed response head and how its body is framed for a given request method.

/// A parsed response head.
public struct ResponseHead: Sendable {
    /// HTTP/1.0 or HTTP/1.1.
    public var version: HTTPVersion = .http11
    /// The three-digit status code.
    public var status: Int = 200
    /// Header fields in arrival order.
    public var headers = HTTPHeaders()
    /// Whether the server keeps the connection open (Connection and version only; an until-close body still ends it).
    public var keepAlive: Bool = true

    /// The reason phrase bytes, reused across parses: scratch space as `RequestHead.text`, in use up to `textCount`.
    @usableFromInline var text: [UInt8] = []
    /// The length of `text` in use.
    var textCount: Int32 = 0
    /// Packed (`PackedRange`) for the size of a head copied whole.
    private var packedReason = PackedRange.none
    var reasonRange: Range<Int>? {
        get { packedReason.range }
        set { packedReason = PackedRange(newValue) }
    }
    /// Framing from the headers alone, set by the parser; nil for hand-built heads, which are read leniently.
    @usableFromInline var parsedFraming: BodyFraming? = nil
    /// The idle timeout the server announced (`Keep-Alive: timeout=N`), in seconds; -1 when it announced none.
    /// Set by the parser, which reads the known fields anyway.
    public internal(set) var keepAliveTimeout: Int32 = -1

    /// A 200 OK over HTTP/1.1 with no headers.
    public init() {}

    /// The reason phrase, possibly empty.
    public var reason: String {
        get {
            guard let r = reasonRange else { return "OK" }
            return text.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[r]), as: UTF8.self) }
        }
        set {
            var s = newValue
            textCount = 0
            s.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
            reasonRange = 0..<Int(textCount)
        }
    }

    /// Calls `body` with the reason phrase bytes.
    public func withReasonBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let r = reasonRange else {
            return try "OK".utf8.withContiguousStorageIfAvailable { try body(UnsafeRawBufferPointer($0)) }!
        }
        return try text.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    /// Body framing given the request's method (HEAD, CONNECT, 1xx, 204, 304 carry none). Inlinable, but a head read
    /// in place (a parser the caller holds inout) may still be copied whole (176 bytes) to reach `framingFromFields`'
    /// call: `ResponseHeadParser.framing(of:requestMethod:)` reads a parser's head without a copy.
    @inlinable
    public func framing(requestMethod: HTTPMethod) -> BodyFraming {
        Self.framing(status: status, parsedFraming: parsedFraming, requestMethod: requestMethod) ?? framingFromFields()
    }

    /// The framing the status and the method decide, else the one the parser found; nil when neither does (a head
    /// built by hand, whose fields decide: `framingFromFields`). Matched by case, not `==`: the derived equality of
    /// an enum with a payload (`HTTPMethod.other`) is a call.
    @inlinable @inline(__always)
    static func framing(status: Int, parsedFraming: BodyFraming?, requestMethod: HTTPMethod) -> BodyFraming? {
        if case .head = requestMethod { return BodyFraming.none }
        if status < 200 || status == 204 || status == 304 { return BodyFraming.none }
        if case .connect = requestMethod, status < 300 { return BodyFraming.none }
        return parsedFraming
    }

    /// A hand-built head's framing, read from its fields (`framing(requestMethod:)`).
    @usableFromInline
    func framingFromFields() -> BodyFraming {
        guard let facts = try? headers.facts() else { return .untilClose }
        return ResponseHead.headerFraming(facts, version: version)
    }

    /// RFC 9112 6.3 items 3-7 for responses; CL together with TE never gets here from the parser.
    static func headerFraming(_ f: HeaderFacts, version: HTTPVersion) -> BodyFraming {
        if f.hasTransferEncoding {
            return f.lastIsChunked && version == .http11 ? .chunked : .untilClose
        }
        if let n = f.contentLength { return .contentLength(n) }
        return .untilClose
    }

    /// Appends `p` to the text in use.
    @inline(__always)
    mutating func appendText(_ p: UnsafeRawBufferPointer) {
        textCount = Int32(truncatingIfNeeded: text.putRaw(p, at: Int(textCount)))
    }

    mutating func clear() {
        version = .http11; status = 200; keepAlive = true
        headers.removeAll(keepingCapacity: true)
        textCount = 0
        reasonRange = nil; parsedFraming = nil; keepAliveTimeout = -1
    }
}
