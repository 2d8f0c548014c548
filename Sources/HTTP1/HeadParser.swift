// The incremental head lexer shared by request and response parsers: line and field framing, CR/LF rules and limits.

/// Result of feeding bytes to a head parser.
public enum HeadParseResult: Equatable, Sendable {
    /// Every byte given was taken; the head is not complete yet.
    case needMore
    /// The head ended after `consumed` bytes of the last slice.
    case complete(consumed: Int)
}

/// Receives complete lines from the lexer; the request and response parsers give them meaning.
protocol HeadSink {
    /// Requests skip empty lines before the request line (RFC 9112 2.2); responses do not.
    static var skipsLeadingEmptyLines: Bool { get }
    /// The error for an over-long start line, which differs between requests (414) and responses.
    static var startLineTooLong: HTTP1Error { get }
    /// `line` excludes its CRLF, but the two bytes after it in memory are that CR and LF (a sink's loops may stop at
    /// the CR instead of testing the bound).
    mutating func startLine(_ line: UnsafeRawBufferPointer) throws(HTTP1Error)
    /// `line` excludes its CRLF, but the two bytes after it in memory are that CR and LF (so a sink can keep the line
    /// with its CRLF in one copy).
    mutating func field(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int)
    /// The bytes of the field lines given since the last call, each with its CRLF, in order: the sink keeps their
    /// offsets from `field` and copies them here in one piece.
    mutating func commitLines(_ lines: UnsafeRawBufferPointer)
    mutating func finish() throws(HTTP1Error)
}

/// A byte-at-a-time state machine whose states only change at structural bytes, so runs of ordinary bytes are scanned
/// in tight table-driven loops and the outcome cannot depend on where the input was split.
@usableFromInline
struct HeadLexer: Sendable {
    enum State: UInt8, Sendable {
        case leading, leadingCR, startLine, startLineCR, lineStart, name, valueOWS, value, valueCR, finalCR, done
    }

    var limits: HTTP1Limits
    var state: State = .leading
    /// Bytes of the current line that arrived in earlier slices; empty on the fast path.
    @usableFromInline var pending: [UInt8] = []
    /// Absolute offset of the current slice's first byte.
    var position = 0
    var lineStart = 0
    /// Offset of the line's CR relative to `lineStart`.
    var lineEnd = 0
    var sectionStart = 0
    var nameEnd = 0
    var valueStart = 0
    var fieldCount = 0
    /// Errors are sticky: a parser that refused a message refuses everything after it.
    var failure: HTTP1Error? = nil

    init(limits: HTTP1Limits) { self.limits = limits }

    /// In line in the parsers' own resets (two per request): only stores, to which its call added ~6 instructions each.
    @inline(__always)
    mutating func reset() {
        state = .leading
        // Nearly always empty already (a head that came whole never used it); `removeAll` costs a call even then.
        if !pending.isEmpty { emptyPending() }
        position = 0; lineStart = 0; lineEnd = 0; sectionStart = 0
        nameEnd = 0; valueStart = 0; fieldCount = 0
        failure = nil
    }

    mutating func parse<S: HeadSink>(_ bytes: UnsafeRawBufferPointer, _ sink: inout S) throws(HTTP1Error) -> HeadParseResult {
        if let failure { throw failure }
        if state == .done { return .complete(consumed: 0) }
        do {
            return try run(bytes, &sink)
        } catch {
            failure = error
            throw error
        }
    }

    @inline(__always)
    func checkSection(_ absolute: Int) throws(HTTP1Error) {
        if absolute - sectionStart > limits.maxHeaderSectionBytes { throw .headerSectionTooLarge }
    }

    /// The finished line's content (CR excluded), from the slice when it lies wholly inside it, else from `pending`.
    /// Either way the line's CR and LF follow it in memory (`i` is the LF's index in the slice).
    @inline(__always)
    mutating func withLine(_ bytes: UnsafeRawBufferPointer, upTo i: Int,
                           _ body: (UnsafeRawBufferPointer) throws(HTTP1Error) -> Void) throws(HTTP1Error) {
        let startInSlice = lineStart - position
        if startInSlice >= 0 {
            try body(UnsafeRawBufferPointer(rebasing: bytes[startInSlice..<(startInSlice + lineEnd)]))
            return
        }
        pending.appendRaw(UnsafeRawBufferPointer(rebasing: bytes[0...i]))
        let end = lineEnd
        var failure: HTTP1Error? = nil
        pending.withUnsafeBytes { p in
            do throws(HTTP1Error) { try body(UnsafeRawBufferPointer(rebasing: p[0..<end])) } catch { failure = error }
        }
        emptyPending()
        if let failure { throw failure }
    }

    /// Lexes whole field lines from `start`, each when all of it, CRLF included, is in this slice and it is well formed
    /// (`name:` OWS value CRLF) within the section and count limits, hands each to the sink, and returns the index
    /// after the last one's LF: `start` when it took none. It never throws: the line it stops at is left to the states
    /// of `run`, which take it from its first byte and find what is wrong with it, if anything. It applies the same
    /// byte classes and limits as those states, so it accepts exactly the lines they accept, and where the input was
    /// split decides only which of the two does the work.
    /// Fast because no loop tests the bound. A name loop stops at the last byte of the slice that is not a token byte
    /// at the latest (`stop`, looked for among the last 32 bytes only, so that a body of token bytes after the head
    /// costs nothing; without it a line's CR is found first and stops the name loop instead). The value's end is
    /// found eight bytes at a time (`firstControlOrDEL`): every byte before it is then a field-value byte, so the
    /// value needs no further test, and its CR stops the OWS loops. One call takes all the lines, none is copied, and
    /// no state changes.
    mutating func wholeFields<S: HeadSink>(_ bytes: UnsafeRawBufferPointer, from start: Int, _ sink: inout S) -> Int {
        let n = bytes.count
        guard start < n else { return start }
        let p = bytes.baseAddress.unsafelyUnwrapped
        let cls = charClass
        let floor = Swift.max(start, n &- 32)
        var stop = n &- 1
        while stop >= floor && cls[Int(p.load(fromByteOffset: stop, as: UInt8.self))] & CharClass.token != 0 { stop &-= 1 }
        // Two copies of the loop, each with its own order, so that neither pays for the other's tests.
        if stop >= floor { return fieldLines(bytes, from: start, &sink, stop: stop) }
        return fieldLines(bytes, from: start, &sink, stop: nil)
    }

    /// `wholeFields`' loop: with `stop`, each name is lexed first and stops there at the latest; without it, each
    /// line's end is found first and its CR stops the name loop.
    @inline(__always)
    mutating func fieldLines<S: HeadSink>(_ bytes: UnsafeRawBufferPointer, from start: Int, _ sink: inout S,
                                          stop: Int?) -> Int {
        let n = bytes.count
        let p = bytes.baseAddress.unsafelyUnwrapped
        @inline(__always) func at(_ k: Int) -> UInt8 { p.load(fromByteOffset: k, as: UInt8.self) }
        let cls = charClass
        @inline(__always) func token(_ k: Int) -> Bool { cls[Int(at(k))] & CharClass.token != 0 }
        // The last index of this slice the section limit lets the states reach (`checkSection`); they check up to
        // each line's LF.
        let (sum, overflow) = limits.maxHeaderSectionBytes.addingReportingOverflow(sectionStart - position)
        let last = overflow ? Int.max : sum
        let maxCount = limits.maxHeaderCount
        var count = fieldCount
        defer { fieldCount = count }
        var i = start
        while i < (stop ?? n) && i <= last && count < maxCount {
            guard token(i) else { return i }
            var j = i &+ 1
            var cr: Int
            if stop != nil {
                while token(j) { j &+= 1 }
                guard at(j) == COLON else { return i }
                cr = firstControlOrDEL(p, from: j &+ 1, end: n)
            } else {
                cr = firstControlOrDEL(p, from: j, end: n)
                guard cr < n else { return i }
                while token(j) { j &+= 1 }
                guard at(j) == COLON else { return i }
            }
            // HTAB is the one control byte a value may hold; any other, or DEL, ends the line or the fast path.
            while true {
                guard cr &+ 1 < n else { return i }
                let c = at(cr)
                if c == CR { break }
                guard c == HTAB else { return i }
                cr = firstControlOrDEL(p, from: cr &+ 1, end: n)
            }
            guard at(cr &+ 1) == LF, cr &+ 1 <= last else { return i }
            let nameEnd = j &- i
            j &+= 1
            while at(j) == SP || at(j) == HTAB { j &+= 1 }
            let valueStart = j &- i
            var e = cr
            while e > j && (at(e &- 1) == SP || at(e &- 1) == HTAB) { e &-= 1 }
            sink.field(line: UnsafeRawBufferPointer(start: p + i, count: cr &- i), nameEnd: nameEnd,
                       valueStart: valueStart, valueEnd: e &- i)
            count &+= 1
            i = cr &+ 2
        }
        return i
    }

    mutating func run<S: HeadSink>(_ bytes: UnsafeRawBufferPointer, _ sink: inout S) throws(HTTP1Error) -> HeadParseResult {
        let n = bytes.count
        let base = position
        // Read the lazily-initialised global once; touching it per byte costs a swift_once check each time.
        let cls = charClass
        @inline(__always) func token(_ c: UInt8) -> Bool { cls[Int(c)] & CharClass.token != 0 }
        @inline(__always) func fieldValue(_ c: UInt8) -> Bool { cls[Int(c)] & CharClass.fieldValue != 0 }
        // The field lines completed in this slice are consecutive bytes of it, [runStart, runEnd): they are handed
        // to the sink in one piece when the slice is done, instead of one copy per line.
        var runStart = -1
        var runEnd = 0
        @inline(__always) func commitRun() {
            if runStart >= 0 { sink.commitLines(UnsafeRawBufferPointer(rebasing: bytes[runStart..<runEnd])) }
            runStart = -1
        }
        // Committed on every way out, and also when a later line fails, so that the head parsed so far is always
        // whole. Not a `defer`: its body was a call of its own (~21 instructions a head, on each lexer).
        do throws(HTTP1Error) {
            var i = 0
            loop: while i < n {
                switch state {
                case .leadingCR:
                    guard bytes[i] == LF else { throw .bareCR }
                    state = .leading
                    i += 1
                // The cases a head passes through when it comes whole follow one another, and each falls through to the
                // next instead of going back through the switch.
                case .leading:
                    let c = bytes[i]
                    if S.skipsLeadingEmptyLines {
                        if c == CR { state = .leadingCR; i += 1; continue }
                        if c == LF { throw .bareLF }
                    }
                    lineStart = base + i
                    state = .startLine
                    fallthrough
                case .startLine:
                    // Eight bytes at a time to the first control byte: a start line has no CR or LF before its end, and
                    // usually no other control byte either, so the byte loop below rarely runs.
                    i = firstControlOrDEL(bytes.baseAddress.unsafelyUnwrapped, from: i, end: n)
                    while i < n {
                        let c = bytes[i]
                        if c == CR || c == LF { break }
                        i += 1
                    }
                    if base + i - lineStart > limits.maxStartLineBytes { throw S.startLineTooLong }
                    if i == n { break loop }
                    if bytes[i] == LF { throw .bareLF }
                    lineEnd = base + i - lineStart
                    state = .startLineCR
                    i += 1
                    // Its LF here as well: `.startLineCR`'s work without a turn of the loop.
                    if i == n || bytes[i] != LF { continue }
                    try withLine(bytes, upTo: i) { (line) throws(HTTP1Error) in try sink.startLine(line) }
                    i += 1
                    sectionStart = base + i
                    state = .lineStart
                    if i == n { break loop }
                    fallthrough
                case .lineStart:
                    // Whole field lines one after another, in one call and without going back through the switch: most
                    // heads are nothing else. The line `wholeFields` stops at goes on below from its first byte.
                    let next = wholeFields(bytes, from: i, &sink)
                    if next != i {
                        if runStart < 0 { runStart = i }
                        runEnd = next
                        i = next
                        if i == n { break loop }
                    }
                    try checkSection(base + i)
                    let c = bytes[i]
                    if c == CR {
                        state = .finalCR
                        i += 1
                        if i == n { break loop }
                        fallthrough
                    } else if token(c) {
                        if fieldCount >= limits.maxHeaderCount { throw .tooManyHeaders }
                        lineStart = base + i
                        state = .name
                    } else if c == LF {
                        throw .bareLF
                    } else if c == SP || c == HTAB {
                        throw .obsFold
                    } else {
                        throw .invalidHeaderName
                    }
                    i += 1
                case .finalCR:
                    try checkSection(base + i)
                    guard bytes[i] == LF else { throw .bareCR }
                    i += 1
                    try checkSection(base + i)
                    state = .done
                    position = base + i
                    commitRun()
                    try sink.finish()
                    return .complete(consumed: i)
                case .startLineCR:
                    guard bytes[i] == LF else { throw .bareCR }
                    try withLine(bytes, upTo: i) { (line) throws(HTTP1Error) in try sink.startLine(line) }
                    i += 1
                    sectionStart = base + i
                    state = .lineStart
                case .name:
                    while i < n && token(bytes[i]) { i += 1 }
                    try checkSection(base + i)
                    if i == n { break loop }
                    let c = bytes[i]
                    if c == COLON {
                        nameEnd = base + i - lineStart
                        state = .valueOWS
                        i += 1
                    } else if c == SP || c == HTAB {
                        throw .whitespaceBeforeColon
                    } else {
                        throw .invalidHeaderName
                    }
                case .valueOWS:
                    while i < n && (bytes[i] == SP || bytes[i] == HTAB) { i += 1 }
                    try checkSection(base + i)
                    if i == n { break loop }
                    let c = bytes[i]
                    valueStart = base + i - lineStart
                    if c == CR {
                        lineEnd = valueStart
                        state = .valueCR
                    } else if fieldValue(c) {
                        state = .value
                    } else if c == LF {
                        throw .bareLF
                    } else {
                        throw .invalidHeaderValue
                    }
                    i += 1
                case .value:
                    // Eight bytes at a time while none is a control byte (< 0x20: CR, LF and HTAB included) or DEL; the
                    // first word with one goes byte by byte. Values are most of a head's bytes.
                    while i &+ 8 <= n {
                        let w = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                        if wordHasControlOrDEL(w) { break }
                        i &+= 8
                    }
                    while i < n && fieldValue(bytes[i]) { i += 1 }
                    try checkSection(base + i)
                    if i == n { break loop }
                    let c = bytes[i]
                    if c == CR {
                        lineEnd = base + i - lineStart
                        state = .valueCR
                        i += 1
                    } else if c == LF {
                        throw .bareLF
                    } else {
                        throw .invalidHeaderValue
                    }
                case .valueCR:
                    try checkSection(base + i)
                    guard bytes[i] == LF else { throw .bareCR }
                    let nameEnd = self.nameEnd, valueStart = self.valueStart, lineEnd = self.lineEnd
                    let inSlice = lineStart - base >= 0
                    if inSlice && runStart < 0 { runStart = lineStart - base }
                    try withLine(bytes, upTo: i) { (line) throws(HTTP1Error) in
                        var e = lineEnd
                        while e > valueStart && (line[e - 1] == SP || line[e - 1] == HTAB) { e -= 1 }
                        sink.field(line: line, nameEnd: nameEnd, valueStart: valueStart, valueEnd: e)
                        // A line gathered from earlier slices is not part of this slice's run: its bytes go now.
                        if !inSlice { sink.commitLines(UnsafeRawBufferPointer(start: line.baseAddress, count: line.count + 2)) }
                    }
                    if inSlice { runEnd = i + 1 }
                    fieldCount += 1
                    state = .lineStart
                    i += 1
                case .done:
                    commitRun()
                    return .complete(consumed: i)
                }
            }
            switch state {
            case .startLine, .startLineCR, .name, .valueOWS, .value, .valueCR:
                let from = max(0, lineStart - base)
                pending.appendRaw(UnsafeRawBufferPointer(rebasing: bytes[from..<n]))
            default:
                break
            }
            switch state {
            case .lineStart, .name, .valueOWS, .value, .valueCR, .finalCR: try checkSection(base + n)
            default: break
            }
            position = base + n
            commitRun()
            return .needMore
        } catch {
            commitRun()
            throw error
        }
    }
}

/// `HTTP/1.1` or `HTTP/1.0` in the eight bytes at `p`, compared as one word; nil for anything else, which
/// `HTTPVersion.parse` then judges (a start line's fast path, where that call cost more than the compare).
@inline(__always)
func knownVersion(_ p: UnsafeRawPointer) -> HTTPVersion? {
    let w = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    if w == 0x312E_312F_5054_5448 { return .http11 }   // "HTTP/1.1"
    if w == 0x302E_312F_5054_5448 { return .http10 }   // "HTTP/1.0"
    return nil
}
