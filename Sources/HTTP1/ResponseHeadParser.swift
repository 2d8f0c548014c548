// Status-line parsing and the response-only header rules (framing from the headers, keep-alive).

/// Incremental response-head parser.
public struct ResponseHeadParser: Sendable {
    @usableFromInline var lexer: HeadLexer
    @usableFromInline var sink = ResponseSink()

    /// A parser enforcing `limits`.
    public init(limits: HTTP1Limits = .default) { lexer = HeadLexer(limits: limits) }

    /// Feeds the next slice; see `HeadParseResult` for what was consumed. Errors are sticky until `reset()`.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult {
        try lexer.parse(bytes, &sink)
    }

    /// The head parsed so far; complete once `parse` returned `.complete`.
    /// Inlinable so that reading one field of it (a proxy's relay reads the status and the framing) copies nothing.
    @inlinable public var head: ResponseHead { sink.head }

    /// `head.framing(requestMethod:)` of the parser's head, read in place. The parser is `inout` and left as it is:
    /// a head with no framing of its own (one set by hand) has it read from its fields, by a call, and a call on a
    /// value in the caller's memory copies it whole first (the relay's `decideHead` did so for every response).
    @inlinable
    public static func framing(of parser: inout ResponseHeadParser, requestMethod: HTTPMethod) -> BodyFraming {
        ResponseHead.framing(status: parser.sink.head.status, parsedFraming: parser.sink.head.parsedFraming,
                             requestMethod: requestMethod) ?? fieldsFraming(&parser)
    }

    /// `framing(of:requestMethod:)` from the head's fields. Out of line: a parsed head always has its framing.
    @usableFromInline @inline(never)
    static func fieldsFraming(_ parser: inout ResponseHeadParser) -> BodyFraming { parser.sink.head.framingFromFields() }

    /// Whether a head has begun and is not whole yet (its bytes so far taken in).
    public var hasPartialHead: Bool { lexer.state != .leading && lexer.state != .done }

    /// Readies the parser for the next message, keeping its buffers so the next parse does not allocate.
    public mutating func reset() {
        lexer.reset()
        sink.head.clear()
    }
}

/// Gives meaning to the lexer's lines for a response.
@usableFromInline
struct ResponseSink: HeadSink, Sendable {
    @usableFromInline var head = ResponseHead()
    /// The framing and connection facts of the fields lexed so far, gathered as each is stored.
    var facts = FactsBuilder()

    static var skipsLeadingEmptyLines: Bool { false }
    static var startLineTooLong: HTTP1Error { .invalidStatusLine }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`; a missing SP before an empty reason is tolerated as many servers omit it.
    mutating func startLine(_ line: UnsafeRawBufferPointer) throws(HTTP1Error) {
        facts = FactsBuilder()
        let n = line.count
        // Fast path: a valid version holds no SP, so an SP right after one is the first SP, as the search finds.
        if n > 8, line[8] == SP, let v = knownVersion(line.baseAddress.unsafelyUnwrapped)
            ?? (try? HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: line[0..<8]))) {
            head.version = v
            try status(line, sp: 8)
            return
        }
        var sp = 0
        while sp < n && line[sp] != SP { sp += 1 }
        guard sp < n else { throw .invalidStatusLine }
        head.version = try HTTPVersion.parse(UnsafeRawBufferPointer(rebasing: line[0..<sp]))
        try status(line, sp: sp)
    }

    /// The status code and reason after the version's SP at `sp`.
    @inline(__always)
    mutating func status(_ line: UnsafeRawBufferPointer, sp: Int) throws(HTTP1Error) {
        let n = line.count
        let d = sp + 1
        guard d + 3 <= n, isDigit(line[d]), isDigit(line[d + 1]), isDigit(line[d + 2]), line[d] != 0x30 else {
            throw .invalidStatusLine
        }
        head.status = Int(line[d] &- 0x30) * 100 + Int(line[d + 1] &- 0x30) * 10 + Int(line[d + 2] &- 0x30)
        var reasonStart = d + 3
        if reasonStart < n {
            guard line[reasonStart] == SP else { throw .invalidStatusLine }
            reasonStart += 1
        }
        for j in reasonStart..<n where !isFieldValue(line[j]) { throw .invalidStatusLine }
        head.appendText(UnsafeRawBufferPointer(rebasing: line[reasonStart..<n]))
        head.reasonRange = 0..<(n - reasonStart)
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
    }

    mutating func commitLines(_ lines: UnsafeRawBufferPointer) { head.headers.commitParsed(lines) }

    mutating func finish() throws(HTTP1Error) {
        let f = try facts.finish(connectionKinds: head.headers.connectionKinds)
        if f.hasTransferEncoding {
            // RFC 9112 6.3 lets a recipient prefer TE; berth refuses instead, as the pair signals smuggling.
            if f.contentLength != nil { throw .contentLengthWithTransferEncoding }
            // RFC 9112 6.1: faulty framing, as for requests. Forwarded, its Transfer-Encoding would go out on berth's
            // HTTP/1.1 status line and the caller would read the close-delimited bytes as chunks.
            if head.version == .http10 { throw .invalidTransferEncoding }
            if f.hasMalformedCoding || f.codingCount == 0 || f.chunkedCount > 1 { throw .invalidTransferEncoding }
        }
        head.parsedFraming = ResponseHead.headerFraming(f, version: head.version)
        head.keepAliveTimeout = f.keepAliveTimeout
        head.headers.foldContentLength = f.contentLengthRepeated
        if head.version == .http11 {
            head.keepAlive = !f.connectionClose
        } else {
            head.keepAlive = f.connectionKeepAlive && !f.connectionClose && !f.hasTransferEncoding
        }
    }
}
