// The parsed request head: start-line parts live as byte ranges and become Strings only when read.

/// The four request-target forms of RFC 9112 section 3.2.
public enum RequestTargetForm: Hashable, Sendable { case origin, absolute, authority, asterisk }

/// A parsed request head.
public struct RequestHead: Sendable {
    /// The request method.
    public var method: HTTPMethod = .get
    /// HTTP/1.0 or HTTP/1.1.
    public var version: HTTPVersion = .http11
    /// Which of the four target forms was sent.
    public var targetForm: RequestTargetForm = .origin
    /// Lowercased scheme of an absolute-form target.
    public var scheme: String? { schemeIsHTTPS.map { $0 ? "https" : "http" } }
    /// The scheme as one byte, not a String: a head is copied and cleared per request, and a String field costs a
    /// reference-count operation each time.
    var schemeIsHTTPS: Bool? = nil
    /// Header fields in arrival order.
    public var headers = HTTPHeaders()
    /// Validated body framing (never untilClose for requests).
    public var framing: BodyFraming = .none
    /// Whether the caller wants the connection kept open after this exchange.
    public var keepAlive: Bool = true
    /// An Upgrade header together with a Connection: upgrade token.
    public var isUpgrade: Bool = false
    /// Expect: 100-continue.
    public var expectsContinue: Bool = false
    /// A Via field is present: only then is the head searched for a proxy's own token (loop detection).
    public var hasVia: Bool = false
    /// A Berth-Generation field is present: only then is it looked up (requests without it pay one test).
    public var namesGeneration: Bool = false

    /// Target bytes, then the lowercased authority host and any synthesised path, reused across parses: scratch
    /// space whose count only grows, the bytes in use being `text[0..<textCount]` (`appendText`), so that clearing a
    /// head, per request, is one store and not an Array removal.
    @usableFromInline var text: [UInt8] = []
    /// The length of `text` in use (a start line is far below 2 GiB).
    var textCount: Int32 = 0
    /// The places in `text`, packed in 32-bit offsets (a start line is far shorter) with nil as a sentinel: a head is
    /// copied whole several times per exchange, and five optional Ints and ranges made it 70 bytes larger.
    private var packedTarget = PackedRange.none
    private var packedPath = PackedRange.none
    private var packedAuthorityHost = PackedRange.none
    private var packedPort: Int32 = -1
    private var packedAuthorityEnd: Int32 = -1

    var targetRange: Range<Int>? {
        get { packedTarget.range }
        set { packedTarget = PackedRange(newValue) }
    }
    var pathRange: Range<Int>? {
        get { packedPath.range }
        set { packedPath = PackedRange(newValue) }
    }
    var authorityHostRange: Range<Int>? {
        get { packedAuthorityHost.range }
        set { packedAuthorityHost = PackedRange(newValue) }
    }
    var authorityPort: Int? {
        get { packedPort < 0 ? nil : Int(packedPort) }
        set { packedPort = newValue.map { Int32($0) } ?? -1 }
    }
    /// Where an absolute-form target's path or query starts, relative to the target: the end of its authority.
    var authorityEnd: Int? {
        get { packedAuthorityEnd < 0 ? nil : Int(packedAuthorityEnd) }
        set { packedAuthorityEnd = newValue.map { Int32($0) } ?? -1 }
    }

    /// A GET of "/" over HTTP/1.1 with no headers.
    public init() {}

    /// The request-target as sent.
    public var target: String {
        get { string(targetRange, default: "/") }
        set { targetRange = store(newValue); authorityEnd = nil }
    }

    /// The origin-form part to forward: path and query ("/" when empty), "*" for asterisk, "" for authority-form.
    public var path: String {
        get { string(pathRange, default: "/") }
        set { pathRange = store(newValue) }
    }

    /// For absolute-form and authority-form targets, the target's authority; nil otherwise.
    public var targetAuthority: Authority? {
        guard let r = authorityHostRange else { return nil }
        return Authority(host: string(r, default: ""), port: authorityPort)
    }

    /// Calls `body` with the path bytes, for writing them without a String.
    public func withPathBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let r = pathRange else {
            return try withUnsafeBytes(of: UInt8(0x2F)) { try body($0) }
        }
        return try text.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    /// Calls `body` with the target bytes as sent.
    public func withTargetBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let r = targetRange else {
            return try withUnsafeBytes(of: UInt8(0x2F)) { try body($0) }
        }
        return try text.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    /// Calls `body` with an absolute-form target's scheme and authority as sent (`http://Host:80`, the target up to
    /// its path or query), found by the parser; with nil for the other forms and for a target set by hand.
    public func withSchemeAndAuthorityBytes<R>(_ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let end = authorityEnd, let r = targetRange else { return try body(nil) }
        return try text.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r.lowerBound..<(r.lowerBound + end)])) }
    }

    /// Whether a `Berth-Socket-Timeout` field is present: one bit test (the kinds of the stored lines), so a request
    /// without it, nearly every one, pays no lookup by name.
    public var namesSocketTimeout: Bool { headers.present & KnownHeader.berthSocketTimeout.bit != 0 }

    /// Whether this head names its route with exactly `bytes`, not empty: an absolute-form target's scheme and
    /// authority as sent (`withSchemeAndAuthorityBytes`), an origin-form or asterisk one's first Host value;
    /// never an authority-form one. The route cache's check, per request: one call with no closure, since a generic
    /// call into this module from BerthCore is not specialised (a closure context and two calls more); the bytes are
    /// compared a word at a time (`sameBytes`).
    public func namesRoute(as bytes: [UInt8]) -> Bool {
        var head = self
        return RequestHead.namesRoute(&head, as: bytes)
    }

    /// `namesRoute(as:)` for a head its caller holds in place (only read): a head passed borrowed from another module
    /// was first copied whole (204 bytes) for the call, per request in the route cache.
    public static func namesRoute(_ head: inout RequestHead, as bytes: [UInt8]) -> Bool {
        let n = bytes.count
        guard n > 0 else { return false }
        switch head.targetForm {
        case .absolute:
            guard let end = head.authorityEnd, let r = head.targetRange, end == n else { return false }
            return head.text.withUnsafeBytes { t in
                bytes.withUnsafeBytes { sameBytes(UnsafeRawBufferPointer(rebasing: t[r.lowerBound..<(r.lowerBound &+ n)]), $0) }
            }
        case .origin, .asterisk:
            return head.namesHostRoute(bytes)
        case .authority:
            return false
        }
    }

    /// `namesRoute`'s origin-form and asterisk-form case: the first Host value.
    private func namesHostRoute(_ bytes: [UInt8]) -> Bool {
        guard headers.present & KnownHeader.host.bit != 0 else { return false }
        return headers.withBytes { b in
            var same = false
            headers.forEachKnownLine(b) { _, kind, l in
                guard kind == .host else { return true }
                same = bytes.withUnsafeBytes { sameBytes(UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]), $0) }
                return false
            }
            return same
        }
    }

    /// Appends what `withSchemeAndAuthorityBytes` lends to `out`; false, appending nothing, when it would lend nil.
    public func appendSchemeAndAuthority(to out: inout [UInt8]) -> Bool {
        guard let end = authorityEnd, let r = targetRange else { return false }
        text.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[r.lowerBound..<(r.lowerBound + end)])) }
        return true
    }

    func string(_ r: Range<Int>?, default d: String) -> String {
        guard let r else { return d }
        return text.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[r]), as: UTF8.self) }
    }

    mutating func store(_ s: String) -> Range<Int> {
        let start = Int(textCount)
        var s = s
        s.withUTF8 { appendText(UnsafeRawBufferPointer($0)) }
        return start..<Int(textCount)
    }

    /// Appends `p` to the text in use.
    @inline(__always)
    mutating func appendText(_ p: UnsafeRawBufferPointer) {
        textCount = Int32(truncatingIfNeeded: text.putRaw(p, at: Int(textCount)))
    }

    /// Back to the initial state, keeping every buffer's capacity for the next parse.
    mutating func clear() {
        HTTPMethod.store(.get, in: &method); version = .http11; targetForm = .origin; schemeIsHTTPS = nil
        headers.removeAll(keepingCapacity: true)
        framing = .none; keepAlive = true; isUpgrade = false; expectsContinue = false; hasVia = false
        namesGeneration = false
        textCount = 0
        packedTarget = .none; packedPath = .none; packedAuthorityHost = .none; packedPort = -1; packedAuthorityEnd = -1
    }
}

/// An optional range of offsets in 32 bits each; `none` is nil.
struct PackedRange: Sendable {
    var lower: UInt32
    var upper: UInt32

    static var none: PackedRange { PackedRange(lower: .max, upper: .max) }

    init(lower: UInt32, upper: UInt32) {
        self.lower = lower
        self.upper = upper
    }

    init(_ r: Range<Int>?) {
        if let r { self.init(lower: UInt32(r.lowerBound), upper: UInt32(r.upperBound)) } else { self = .none }
    }

    var range: Range<Int>? { lower == .max ? nil : Int(lower)..<Int(upper) }
}
