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

    /// The head parsed so far; complete once `parse` returned `.complete`.
    public var head: RequestHead { sink.head }

    /// Moves the completed head into `head` and readies the parser, swapping buffers so neither side copies or allocates.
    public mutating func takeHead(into head: inout RequestHead) {
        swap(&head, &sink.head)
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

    mutating func startLine(_ line: UnsafeRawBufferPointer) throws(HTTP1Error) {
        facts = FactsBuilder()
        let n = line.count
        let cls = charClass
        var i = 0
        while i < n && cls[Int(line[i])] & CharClass.token != 0 { i += 1 }
        guard i > 0, i < n, line[i] == SP else { throw .invalidMethod }
        let methodEnd = i
        var lastSP = n - 1
        while lastSP > methodEnd && line[lastSP] != SP { lastSP -= 1 }
        guard lastSP > methodEnd else { throw .invalidVersion }
        let targetStart = methodEnd + 1
        guard lastSP > targetStart else { throw .invalidTarget }
        for j in targetStart..<lastSP where cls[Int(line[j])] & CharClass.target == 0 { throw .invalidTarget }
        let version = try HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: line[(lastSP + 1)..<n]))
        let method = HTTPMethod.fromToken(UnsafeRawBufferPointer(rebasing: line[0..<methodEnd]))
        try classifyTarget(UnsafeRawBufferPointer(rebasing: line[targetStart..<lastSP]), method: method)
        head.method = method
        head.version = version
    }

    /// RFC 9112 3.2: CONNECT takes exactly authority-form, `*` only goes with OPTIONS, absolute-form only for http(s).
    mutating func classifyTarget(_ t: UnsafeRawBufferPointer, method: HTTPMethod) throws(HTTP1Error) {
        head.text.appendRaw(t)
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
        var colon = 0
        while colon < t.count && t[colon] != COLON { colon += 1 }
        let scheme = UnsafeRawBufferPointer(rebasing: t[0..<colon])
        if equalsLowercase(scheme, "http") { head.schemeIsHTTPS = false }
        else if equalsLowercase(scheme, "https") { head.schemeIsHTTPS = true }
        else { throw .invalidTarget }
        guard colon + 2 < t.count, t[colon + 1] == 0x2F, t[colon + 2] == 0x2F else { throw .invalidTarget }
        let authStart = colon + 3
        var authEnd = authStart
        while authEnd < t.count && t[authEnd] != 0x2F && t[authEnd] != 0x3F { authEnd += 1 }
        let auth = UnsafeRawBufferPointer(rebasing: t[authStart..<authEnd])
        guard let a = AuthoritySyntax.parse(auth, requirePort: false) else { throw .invalidTarget }
        head.targetForm = .absolute
        head.authorityEnd = authEnd
        checkedAuthority = authStart..<authEnd
        storeAuthority(a, in: auth, offset: authStart)
        if authEnd < t.count && t[authEnd] == 0x2F {
            head.pathRange = authEnd..<t.count
        } else {
            let start = head.text.count
            head.text.append(0x2F)
            head.text.appendRaw(UnsafeRawBufferPointer(rebasing: t[authEnd..<t.count]))
            head.pathRange = start..<head.text.count
        }
    }

    /// Keeps a lowercased copy of the host so `targetAuthority` is canonical while `target` stays as sent.
    mutating func storeAuthority(_ a: AuthoritySyntax, in p: UnsafeRawBufferPointer, offset: Int) {
        let start = head.text.count
        // One copy, then lowercased in place: appending byte by byte paid the Array's checks per byte.
        head.text.appendRaw(UnsafeRawBufferPointer(rebasing: p[a.host]))
        head.text.withUnsafeMutableBufferPointer { t in
            for j in start..<t.count { t[j] = lower(t[j]) }
        }
        head.authorityHostRange = start..<head.text.count
        head.authorityPort = a.port
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
