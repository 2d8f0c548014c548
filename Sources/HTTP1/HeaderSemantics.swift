// Reads the framing and connection-management fields (Content-Length, Transfer-Encoding, Connection, Host...) from stored headers.

/// What the framing and connection fields of a head say, gathered in one pass over the known fields.
struct HeaderFacts: Sendable {
    var contentLength: UInt64? = nil
    /// Content-Length came as a list of one value or in several lines (`5, 5`): accepted (RFC 9112 6.3), and forwarded
    /// as the one decimal value (RFC 9110 8.6), as HAProxy does; llhttp and Go refuse the list outright.
    var contentLengthRepeated = false
    var hasTransferEncoding = false
    var codingCount = 0
    var chunkedCount = 0
    var lastIsChunked = false
    var hasMalformedCoding = false
    /// The kinds the Connection fields list (`HTTPHeaders.connectionKinds`): `close`, `keep-alive` and `upgrade` are kinds.
    var connectionKinds: KindSet = 0
    var hasUpgrade = false
    var expectContinue = false
    var hostCount = 0
    var hostIndex = -1
    /// The verdict on the first Host value, judged by the request parser as it is stored.
    var hostIsValid = false
    var hasVia = false
    var hasBerthGeneration = false
    /// The smallest `timeout=` of the Keep-Alive fields, in whole seconds; -1 when none says one.
    var keepAliveTimeout: Int32 = -1

    var connectionClose: Bool { connectionKinds & KnownHeader.close.bit != 0 }
    var connectionKeepAlive: Bool { connectionKinds & KnownHeader.keepAlive.bit != 0 }
    var connectionUpgrade: Bool { connectionKinds & KnownHeader.upgrade.bit != 0 }

    /// Any Transfer-Encoding coding that is not a single final `chunked`.
    var hasOtherCoding: Bool { codingCount > chunkedCount }
}

/// Content-Length values above this are refused: no real body is that large, and it keeps arithmetic far from overflow.
let maxContentLength: UInt64 = 1 << 62

extension HeaderFacts {
    /// Takes one known field into account (`kind` is never `.other`); Content-Length is validated here because a bad
    /// one must fail whatever the message type. The parsers call this as each line is lexed, while its bytes are in
    /// cache, instead of a second pass over the stored fields (about 100 instructions less per proxied request).
    @inline(__always)
    mutating func add(_ kind: KnownHeader, value v: UnsafeRawBufferPointer, index: Int) -> HTTP1Error? {
        switch kind {
        case .contentLength:
            return HTTPHeaders.readContentLength(v, into: &self)
        case .transferEncoding:
            hasTransferEncoding = true
            // An empty element (`, chunked`, `chunked,`, an empty line beside a `chunked` one) is malformed here,
            // though RFC 9110 5.6.1 lets a list carry them: the value is forwarded as it came, and an origin that
            // compares it whole or reads one line would not frame the body as chunked (HAProxy 422, nginx 501).
            var elements = 0
            var commas = 0
            for i in 0..<v.count where v[i] == 0x2C { commas &+= 1 }
            forEachListElement(v) { coding in
                elements &+= 1
                codingCount += 1
                var isTok = true
                for i in 0..<coding.count where !isToken(coding[i]) { isTok = false; break }
                if !isTok { hasMalformedCoding = true }
                if equalsLowercase(coding, "chunked") {
                    chunkedCount += 1
                    lastIsChunked = true
                } else {
                    lastIsChunked = false
                }
            }
            if elements != commas &+ 1 { hasMalformedCoding = true }
        case .upgrade:
            hasUpgrade = true
        case .expect:
            if equalsLowercase(v, "100-continue") { expectContinue = true }
        case .via:
            hasVia = true
        case .berthGeneration:
            hasBerthGeneration = true
        case .keepAlive:
            HTTPHeaders.readKeepAliveTimeout(v, into: &self)
        case .host:
            hostCount += 1
            if hostIndex < 0 { hostIndex = index }
        default:
            break
        }
        return nil
    }
}

/// Whether two byte runs are equal. Fast for the short runs it compares (a Host value with the target's
/// authority): at most two words, overlapping where the length needs it, and no loop over the tail.
@inline(__always)
func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = a.count
    guard n == b.count else { return false }
    if n > 16 { return bytesEqual(a, b) }
    if n >= 8 {
        return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
            && a.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
    }
    if n >= 4 {
        return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
            && a.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
    }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// The facts of a head being parsed, gathered field by field by the parsers' sinks.
struct FactsBuilder: Sendable {
    var facts = HeaderFacts()
    /// The first field's error; the rest of the head is not looked at once there is one (as `facts()` stops).
    var error: HTTP1Error? = nil

    /// Takes a stored field into account; `kind` is what `appendKnown` classified it as.
    @inline(__always)
    mutating func add(_ kind: KnownHeader, line: UnsafeRawBufferPointer, valueStart: Int, valueEnd: Int, index: Int) {
        guard kind != .other, error == nil else { return }
        error = facts.add(kind, value: UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd]), index: index)
    }

    /// The facts of the whole head, or its first field's error; `connectionKinds` are its headers'.
    func finish(connectionKinds: KindSet) throws(HTTP1Error) -> HeaderFacts {
        if let error { throw error }
        var f = facts
        f.connectionKinds = connectionKinds
        return f
    }
}

extension HTTPHeaders {
    /// One pass over the known fields (a head built or changed by hand); the parsers gather the same facts as they go.
    func facts() throws(HTTP1Error) -> HeaderFacts {
        var f = HeaderFacts()
        f.connectionKinds = connectionKinds
        var result: HTTP1Error? = nil
        withBytes { b in
            forEachKnownLine(b) { index, kind, l in
                result = f.add(kind, value: UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]), index: index)
                return result == nil
            }
        }
        if let result { throw result }
        return f
    }

    /// The `timeout=N` parameter of a Keep-Alive value (RFC 2068 19.7.1, what Node.js, Apache httpd and nginx send):
    /// the seconds the server keeps an idle connection. Malformed or missing parameters are ignored (the header is
    /// a hint); values past a day are clamped, and the smallest of several wins.
    static func readKeepAliveTimeout(_ v: UnsafeRawBufferPointer, into f: inout HeaderFacts) {
        forEachListElement(v) { p in
            guard p.count > 8, equalsLowercase(UnsafeRawBufferPointer(rebasing: p[0..<8]), "timeout=") else { return }
            var value: Int32 = 0
            for i in 8..<p.count {
                let c = p[i]
                guard isDigit(c) else { return }
                if value < 86_400 { value = value * 10 + Int32(c &- 0x30) }
            }
            value = Swift.min(value, 86_400)
            if f.keepAliveTimeout < 0 || value < f.keepAliveTimeout { f.keepAliveTimeout = value }
        }
    }

    /// Accepts a comma list of identical decimal values (RFC 9112 6.3 item 5); anything else is an error. A value of
    /// up to 18 digits and nothing else (what senders write) is read without splitting the list: it cannot pass
    /// `maxContentLength`.
    static func readContentLength(_ v: UnsafeRawBufferPointer, into f: inout HeaderFacts) -> HTTP1Error? {
        if v.count > 0 && v.count <= 18 {
            var value: UInt64 = 0
            var i = 0
            while i < v.count && isDigit(v[i]) {
                value = value &* 10 &+ UInt64(v[i] &- 0x30)
                i &+= 1
            }
            if i == v.count {
                if let prior = f.contentLength {
                    if prior != value { return .conflictingContentLength }
                    f.contentLengthRepeated = true
                }
                f.contentLength = value
                return nil
            }
        }
        var start = 0
        var i = 0
        while i <= v.count {
            if i == v.count || v[i] == 0x2C {
                let r = trimOWS(v, start, i)
                if r.isEmpty { return .invalidContentLength }
                var value: UInt64 = 0
                for j in r {
                    let c = v[j]
                    guard isDigit(c), value <= maxContentLength / 10 else { return .invalidContentLength }
                    value = value * 10 + UInt64(c &- 0x30)
                    if value > maxContentLength { return .invalidContentLength }
                }
                if let prior = f.contentLength {
                    if prior != value { return .conflictingContentLength }
                    f.contentLengthRepeated = true
                }
                f.contentLength = value
                start = i + 1
            }
            i += 1
        }
        return nil
    }
}
