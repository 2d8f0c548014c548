// Request-line parsing, target-form classification and the request-only header rules (Host, request framing).

/// Incremental request-head parser.
public struct RequestHeadParser: Sendable {
    var lexer: HeadLexer
    var sink = RequestSink()

    /// A parser enforcing `limits`.
    public init(limits: HTTP1Limits = .default) { lexer = HeadLexer(limits: limits) }

    /// Feeds the next slice; see `HeadParseResult` for what was consumed. Errors are sticky until `reset()`.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult {
        try lexer.parse(bytes, &sink)
    }

    /// Whether nothing but empty lines came since the last head (or none yet): no request has begun (RFC 9112 2.2
    /// lets a server skip empty lines before a request line).
    public var hasNoRequestYet: Bool { lexer.state == .leading || lexer.state == .leadingCR }

    /// The head parsed so far; complete once `parse` returned `.complete`.
    public var head: RequestHead { sink.head }

    /// Moves the completed head into `head` and readies the parser, swapping buffers so neither side copies or allocates.
    public mutating func takeHead(into head: inout RequestHead) {
        swapInPlace(&head, &sink.head)
        reset()
    }

    /// Readies the parser for the next message, keeping its buffers so the next parse does not allocate.
    public mutating func reset() {
        lexer.reset()
        sink.head.clear()
    }
}

/// Gives meaning to the lexer's lines for a request.
struct RequestSink: HeadSink, Sendable {
    var head = RequestHead()
    /// Where in `head.text` the target's authority lies as sent, once `AuthoritySyntax.parse` accepted it (CONNECT
    /// and absolute form); empty otherwise. A Host value with the same bytes is then valid without a second parse.
    var checkedAuthority = 0..<0
    /// The framing and connection facts of the fields lexed so far, gathered as each is stored.
    var facts = FactsBuilder()

    static var skipsLeadingEmptyLines: Bool { true }
    static var startLineTooLong: HTTP1Error { .startLineTooLong }

    /// `method SP target SP HTTP/1.x`. `line` is followed in memory by its CR (`HeadSink`).
    mutating func startLine(_ line: UnsafeRawBufferPointer) throws(HTTP1Error) {
        facts = FactsBuilder()
        let n = line.count
        let cls = charClass
        var i = 0
        while i < n && cls[Int(line[i])] & CharClass.token != 0 { i += 1 }
        guard i > 0, i < n, line[i] == SP else { throw .invalidMethod }
        let methodEnd = i
        let targetStart = methodEnd + 1
        // Fast path: the target's bytes forward to the first one outside the target class, which the CR after the
        // line stops at the latest, so the loop has no bound test. When that byte is an SP followed by a valid
        // version, it is the line's last SP and the target is valid: the backward search for the last SP and a
        // second pass over the target (below, kept for every other line and its exact error) are not needed.
        let p = line.baseAddress.unsafelyUnwrapped
        var k = targetStart
        while cls[Int(p.load(fromByteOffset: k, as: UInt8.self))] & CharClass.target != 0 { k &+= 1 }
        let targetEnd: Int
        let version: HTTPVersion
        if k > targetStart, n &- k == 9, line[k] == SP,
           let v = knownVersion(p + k + 1) ?? (try? HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: line[(k + 1)..<n]))) {
            targetEnd = k
            version = v
        } else {
            var lastSP = n - 1
            while lastSP > methodEnd && line[lastSP] != SP { lastSP -= 1 }
            guard lastSP > methodEnd else { throw .invalidVersion }
            guard lastSP > targetStart else { throw .invalidTarget }
            for j in targetStart..<lastSP where cls[Int(line[j])] & CharClass.target == 0 { throw .invalidTarget }
            version = try HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: line[(lastSP + 1)..<n]))
            targetEnd = lastSP
        }
        let method = HTTPMethod.fromRequestLine(p, end: methodEnd)
        try classifyTarget(UnsafeRawBufferPointer(rebasing: line[targetStart..<targetEnd]), method: method)
        HTTPMethod.store(method, in: &head.method)
        head.version = version
    }

    /// RFC 9112 3.2: CONNECT takes exactly authority-form, `*` only goes with OPTIONS, absolute-form only for http(s).
    /// `t` is followed in memory by the SP that ends it on the request line (`regNameAuthority` stops there).
    mutating func classifyTarget(_ t: UnsafeRawBufferPointer, method: HTTPMethod) throws(HTTP1Error) {
        head.appendText(t)
        head.targetRange = 0..<t.count
        checkedAuthority = 0..<0
        if method == .connect {
            guard let a = AuthoritySyntax.parse(t, requirePort: true) else { throw .invalidTarget }
            checkedAuthority = 0..<t.count
            head.targetForm = .authority
            head.pathRange = t.count..<t.count
            storeAuthority(a, in: t, offset: 0)
            return
        }
        if t.count == 1 && t[0] == 0x2A {
            guard method == .options else { throw .invalidTarget }
            head.targetForm = .asterisk
            head.pathRange = 0..<1
            return
        }
        if t[0] == 0x2F {
            head.targetForm = .origin
            head.pathRange = 0..<t.count
            return
        }
        let authStart: Int
        if let s = Self.schemePrefix(t) {
            head.schemeIsHTTPS = s == 8
            authStart = s
        } else {
            var colon = 0
            while colon < t.count && t[colon] != COLON { colon += 1 }
            let scheme = UnsafeRawBufferPointer(rebasing: t[0..<colon])
            if equalsLowercase(scheme, "http") { head.schemeIsHTTPS = false }
            else if equalsLowercase(scheme, "https") { head.schemeIsHTTPS = true }
            else { throw .invalidTarget }
            guard colon + 2 < t.count, t[colon + 1] == 0x2F, t[colon + 2] == 0x2F else { throw .invalidTarget }
            authStart = colon + 3
        }
        var authEnd = authStart
        let a: AuthoritySyntax
        if let fast = Self.regNameAuthority(t, from: authStart, end: &authEnd) {
            a = fast
        } else {
            while authEnd < t.count && t[authEnd] != 0x2F && t[authEnd] != 0x3F { authEnd += 1 }
            guard let parsed = AuthoritySyntax.parse(UnsafeRawBufferPointer(rebasing: t[authStart..<authEnd]),
                                                     requirePort: false) else { throw .invalidTarget }
            a = parsed
        }
        let auth = UnsafeRawBufferPointer(rebasing: t[authStart..<authEnd])
        head.targetForm = .absolute
        head.authorityEnd = authEnd
        checkedAuthority = authStart..<authEnd
        storeAuthority(a, in: auth, offset: authStart)
        if authEnd < t.count && t[authEnd] == 0x2F {
            head.pathRange = authEnd..<t.count
        } else if authEnd == t.count && method == .options {
            // RFC 9112 3.2.4: an OPTIONS of a URI with an empty path and no query asks about the server itself, and
            // the last proxy sends it as `*` (any other empty path goes as `/`).
            let start = Int(head.textCount)
            withUnsafeBytes(of: UInt8(0x2A)) { head.appendText($0) }
            head.pathRange = start..<start + 1
        } else {
            let start = Int(head.textCount)
            withUnsafeBytes(of: UInt8(0x2F)) { head.appendText($0) }
            head.appendText(UnsafeRawBufferPointer(rebasing: t[authEnd..<t.count]))
            head.pathRange = start..<Int(head.textCount)
        }
    }

    /// Where the authority starts when `t` opens with `http://` (7) or `https://` (8), the scheme in any case; nil
    /// otherwise, and the general path (the first ':', a case-insensitive compare, then `//`) decides. One word
    /// compare instead of that path: OR-ing 0x20 into a byte gives 'h', 't', 'p' or 's' only for that letter in
    /// either case, so the test is exact. Targets shorter than a word take the general path.
    @inline(__always)
    static func schemePrefix(_ t: UnsafeRawBufferPointer) -> Int? {
        guard t.count >= 8 else { return nil }
        let w = UInt64(littleEndian: t.loadUnaligned(as: UInt64.self))
        let http: UInt64 = 0x002F_2F3A_7074_7468       // "http://" and a byte left out
        let https: UInt64 = 0x2F2F_3A73_7074_7468      // "https://"
        if (w | 0x2020_2020) & 0x00FF_FFFF_FFFF_FFFF == http { return 7 }
        if w | 0x20_2020_2020 == https { return 8 }
        return nil
    }

    /// The common absolute-form authority, a reg-name host with an optional port (`127.0.0.1:8080`, `example.com`),
    /// found and checked in one pass: its syntax, and `end` set to where it stops (a `/`, a `?` or the target's end).
    /// Nil, with `end` untouched, for anything else (an IPv6 literal, userinfo, a bad port, ...), which then takes
    /// the general path: the authority's end, then `AuthoritySyntax.parse`. It accepts only what that path accepts,
    /// with the same host range and port. `t` is followed in memory by the SP that ended it on the request line, a
    /// byte that is neither reg-name, digit nor ':', so the loops stop there at the latest without a bound test.
    @inline(__always)
    static func regNameAuthority(_ t: UnsafeRawBufferPointer, from start: Int, end: inout Int) -> AuthoritySyntax? {
        let p = t.baseAddress.unsafelyUnwrapped
        @inline(__always) func at(_ k: Int) -> UInt8 { p.load(fromByteOffset: k, as: UInt8.self) }
        let cls = charClass
        var h = start
        while cls[Int(at(h))] & CharClass.regName != 0 { h &+= 1 }
        guard h > start else { return nil }
        var e = h
        var port: Int? = nil
        if at(h) == COLON {
            var d = h &+ 1
            var v = 0
            while isDigit(at(d)) && d &- h <= 5 {
                v = v &* 10 &+ Int(at(d) &- 0x30)
                d &+= 1
            }
            guard d &- h >= 2, !isDigit(at(d)), v <= 65535 else { return nil }
            port = v
            e = d
        }
        guard e == t.count || at(e) == 0x2F || at(e) == 0x3F else { return nil }
        end = e
        return AuthoritySyntax(host: 0..<(h &- start), port: port)
    }

    /// Keeps the host lowercased so `targetAuthority` is canonical while `target` stays as sent. `p` lies at `offset`
    /// in `head.text` (the target's copy there): a host with no capital letter, nearly every one, is used where it
    /// lies, and only another is copied and lowercased.
    @inline(__always)
    mutating func storeAuthority(_ a: AuthoritySyntax, in p: UnsafeRawBufferPointer, offset: Int) {
        head.authorityPort = a.port
        let host = UnsafeRawBufferPointer(rebasing: p[a.host])
        if !hasCapital(host) {
            head.authorityHostRange = (offset + a.host.lowerBound)..<(offset + a.host.upperBound)
            return
        }
        let start = Int(head.textCount)
        // One copy, then lowercased in place: appending byte by byte paid the Array's checks per byte.
        head.appendText(host)
        let end = Int(head.textCount)
        head.text.withUnsafeMutableBufferPointer { t in
            for j in start..<end { t[j] = lower(t[j]) }
        }
        head.authorityHostRange = start..<end
    }

    /// Inlined into the lexer's loop: most lines are counted and told apart from every known name there (by length
    /// and first byte), and only the others call out.
    @inline(__always)
    mutating func field(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int) {
        if head.headers.countLine(line, nameEnd: nameEnd) {
            knownField(line: line, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
        }
    }

    /// A line whose name may be known: recorded and its facts gathered when it is.
    @inline(never)
    mutating func knownField(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int) {
        let kind = head.headers.appendKnown(line: line, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
        facts.add(kind, line: line, valueStart: valueStart, valueEnd: valueEnd, index: head.headers.count &- 1)
        if kind == .host && facts.facts.hostCount == 1 {
            // The first Host value is judged now, while its bytes are at hand, and the verdict is used by `finish`
            // only when it is the only one. What curl and most clients send: Host repeats the target's authority
            // byte for byte. The target's was parsed (with `requirePort: false` or the stricter `true`), so equal
            // bytes give the same verdict; only a Host that differs is parsed again.
            let v = UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd])
            let checked = checkedAuthority
            facts.facts.hostIsValid = v.isEmpty
                || head.text.withUnsafeBytes { sameBytes(v, UnsafeRawBufferPointer(rebasing: $0[checked])) }
                || AuthoritySyntax.parse(v, requirePort: false) != nil
        }
    }

    mutating func commitLines(_ lines: UnsafeRawBufferPointer) { head.headers.commitParsed(lines) }

    mutating func finish() throws(HTTP1Error) {
        let f = try facts.finish(connectionKinds: head.headers.connectionKinds)
        if f.hostCount > 1 { throw .conflictingHost }
        if f.hostCount == 0 && head.version == .http11 { throw .missingHost }
        if f.hostCount == 1 && !f.hostIsValid { throw .invalidHeaderValue }
        if f.hasTransferEncoding {
            if f.contentLength != nil { throw .contentLengthWithTransferEncoding }
            // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            if head.version == .http10 { throw .invalidTransferEncoding }
            if f.hasMalformedCoding || f.codingCount == 0 || f.chunkedCount > 1 { throw .invalidTransferEncoding }
            if f.chunkedCount == 1 && !f.lastIsChunked { throw .invalidTransferEncoding }
            if f.hasOtherCoding || f.chunkedCount == 0 { throw .unsupportedTransferEncoding }
            head.framing = .chunked
        } else if let n = f.contentLength {
            head.framing = .contentLength(n)
        } else {
            head.framing = .none
        }
        head.hasVia = f.hasVia
        head.headers.foldContentLength = f.contentLengthRepeated
        head.namesGeneration = f.hasBerthGeneration
        if head.version == .http11 {
            head.keepAlive = !f.connectionClose
            head.isUpgrade = f.hasUpgrade && f.connectionUpgrade
            head.expectsContinue = f.expectContinue
        } else {
            // RFC 9110 7.8 and 10.1.1: Upgrade and 100-continue are ignored in HTTP/1.0 requests.
            head.keepAlive = f.connectionKeepAlive && !f.connectionClose
            head.isUpgrade = false
            head.expectsContinue = false
        }
    }
}
