// Finds where a body ends (Content-Length, chunked with trailers, until-close) without copying or decoding it.

/// Finds where a body ends without touching its payload, so bytes are forwarded as they came.
public struct BodyDecoder: Sendable {
    enum State: UInt8, Sendable {
        case fixed, untilClose, complete
        case sizeStart, size, sizeWS, ext, sizeLF, data, dataCR, dataLF
        /// A chunk extension's grammar (RFC 9112 7.1.1), after `ext` (a `;` read, BWS, then a name): in its name,
        /// BWS after it, BWS after `=`, in a token value, in a quoted string, after its backslash, right after its
        /// closing quote, BWS after a value.
        case extName, extNameWS, extValueStart, extToken, extQuoted, extQuotedPair, extValueEnd, extValueWS
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        /// Stopped before a size line that starts with `0` (`holdsLastChunk`): its bytes are the caller's to take.
        case lastChunkHeld
    }

    var state: State
    /// Stop before the last chunk: a size line whose digits are all zeros (or whose digits past its leading zeros
    /// are not in yet) is left to `takeHeldLine`, which gives it back once it is known and, for the last chunk, once its whole
    /// trailer section is in. So a relay sends the last chunk only with its whole section (and can rewrite its
    /// fields), and a message cut inside either shows as a missing last chunk, as HAProxy relays it.
    /// Next to `state`, in its padding: the decoder (and the relay's `Body`) keep their size.
    public var holdsLastChunk = false
    /// While a line is held: the state `takeHeldLine` reached in it (its line and section are read as any other, in
    /// `remaining`, `digits`, `lineBytes` and `trailerBytes`), and how many of its bytes it has read. The next ask
    /// goes on from there: a section dripped a byte per read is read once, not from its start at each read (16,000²
    /// / 2 byte checks for a 16,000-byte one). In the padding after `state`, as `holdsLastChunk` is; the line's and
    /// the section's limits keep the count far inside 32 bits.
    var heldState = State.sizeStart
    var heldBytes: UInt32 = 0
    var remaining: UInt64 = 0
    var digits = 0
    var lineBytes = 0
    var trailerBytes = 0
    let limits: HTTP1Limits
    var failure: HTTP1Error? = nil

    /// A decoder for one body framed as `framing`.
    public init(framing: BodyFraming, limits: HTTP1Limits = .default) {
        self.limits = limits
        switch framing {
        case .none: state = .complete
        case .contentLength(let n): state = n == 0 ? .complete : .fixed; remaining = n
        case .chunked: state = .sizeStart
        case .untilClose: state = .untilClose
        }
    }

    /// Whether the body has ended; later bytes belong to the next message.
    public var isComplete: Bool { state == .complete }

    /// Whether the decoder stopped before a size line starting with `0` (`holdsLastChunk`); it consumes nothing
    /// more until `takeHeldLine` moves it on.
    public var isHoldingLastChunk: Bool { state == .lastChunkHeld }

    /// What a held size line turned out to be (`takeHeldLine`).
    public enum HeldLine: Equatable, Sendable {
        /// Not all of it is in yet (nor, for the last chunk, all of its trailer section).
        case needMore
        /// A size with leading zeros: an ordinary chunk whose size line is the first `lineBytes`; the decoder has
        /// moved past it and holds the next size line starting with `0` again.
        case chunk(lineBytes: Int)
        /// The last chunk and its whole trailer section, the first `bytes`: the body is complete.
        case lastChunk(bytes: Int)
    }

    /// Reads the held size line, and for the last chunk its trailer section, from `bytes` (all that is buffered
    /// from the held line on). The decoder moves on only when the answer is not `needMore`; a relay asks again as
    /// more arrives, with the same bytes in front: what an earlier ask read (`heldBytesRead`) is not read again.
    public mutating func takeHeldLine(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeldLine {
        precondition(state == .lastChunkHeld, "no size line is held")
        var at = Int(heldBytes)
        precondition(at <= bytes.count, "a held line was asked again without the bytes read before")
        var d = self
        d.state = heldState
        d.holdsLastChunk = false
        if d.isInSizeLine {
            // The line alone first: it may prove an ordinary chunk's, whose data is not this call's to read.
            let rest = UnsafeRawBufferPointer(rebasing: bytes[at...])
            let end = rest.firstIndex(of: LF).map { at + $0 + 1 } ?? bytes.count
            at += try d.consume(UnsafeRawBufferPointer(rebasing: bytes[at..<end]))
            if d.state == .data {
                d.holdsLastChunk = true
                d.heldBytes = 0
                self = d
                return .chunk(lineBytes: at)
            }
        }
        if !d.isInSizeLine { at += try d.consume(UnsafeRawBufferPointer(rebasing: bytes[at...])) }
        if d.isComplete {
            d.heldBytes = 0
            self = d
            return .lastChunk(bytes: at)
        }
        d.heldState = d.state
        d.heldBytes = UInt32(at)
        d.state = .lastChunkHeld
        d.holdsLastChunk = true
        self = d
        return .needMore
    }

    /// How many bytes of the held line (and section) the asks so far have read: a count that grows is the peer's
    /// progress while nothing of the line can move on.
    public var heldBytesRead: Int { state == .lastChunkHeld ? Int(heldBytes) : 0 }

    /// In a chunk-size line (extensions included), where a held line starts.
    var isInSizeLine: Bool {
        switch state {
        case .sizeStart, .size, .sizeWS, .ext, .sizeLF, .extName, .extNameWS, .extValueStart, .extToken, .extQuoted,
             .extQuotedPair, .extValueEnd, .extValueWS: return true
        default: return false
        }
    }

    /// How many leading bytes of `bytes` belong to this body, framing included.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> Int {
        if let failure { throw failure }
        switch state {
        case .complete: return 0
        case .untilClose: return bytes.count
        case .fixed:
            let take = UInt64(bytes.count) < remaining ? bytes.count : Int(remaining)
            remaining -= UInt64(take)
            if remaining == 0 { state = .complete }
            return take
        default:
            do { return try chunked(bytes, payload: { _ in }) } catch { failure = error; throw error }
        }
    }

    /// Like `consume`, and also reports where the payload lies within `bytes`, so a chunked body can be passed on without its
    /// framing (to an HTTP/1.0 caller, which cannot decode chunked).
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, payload: (Range<Int>) -> Void) throws(HTTP1Error) -> Int {
        if let failure { throw failure }
        switch state {
        case .complete, .untilClose, .fixed:
            let n = try consume(bytes)
            if n > 0 { payload(0..<n) }
            return n
        default:
            do { return try chunked(bytes, payload: payload) } catch { failure = error; throw error }
        }
    }

    /// The peer closed: completes an until-close body, throws truncatedBody otherwise.
    public mutating func finishAtEOF() throws(HTTP1Error) {
        switch state {
        case .complete: return
        case .untilClose: state = .complete
        default: throw .truncatedBody
        }
    }

    /// Chunk lines are checked byte by byte (bare LF refused, sizes capped at 15 hex digits); data is skipped in bulk.
    mutating func chunked(_ bytes: UnsafeRawBufferPointer, payload: (Range<Int>) -> Void) throws(HTTP1Error) -> Int {
        let n = bytes.count
        var i = 0
        while i < n {
            if state == .data {
                let avail = UInt64(n - i)
                let take = avail < remaining ? avail : remaining
                if take > 0 { payload(i..<(i + Int(take))) }
                i += Int(take)
                remaining -= take
                if remaining == 0 { state = .dataCR }
                continue
            }
            let c = bytes[i]
            i += 1
            switch state {
            case .sizeStart, .size, .sizeWS, .ext, .sizeLF, .extName, .extNameWS, .extValueStart, .extToken, .extQuoted,
                 .extQuotedPair, .extValueEnd, .extValueWS:
                lineBytes += 1
                if lineBytes > limits.maxChunkLineBytes { throw .invalidChunkFraming }
            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
                trailerBytes += 1
                if trailerBytes > limits.maxTrailerBytes { throw .trailerTooLarge }
            default: break
            }
            switch state {
            case .sizeStart:
                if _slowPath(holdsLastChunk) && c == 0x30 && onlyZeros(bytes, from: i) {
                    // Maybe the last chunk: stop before its line (`takeHeldLine`).
                    lineBytes = 0
                    state = .lastChunkHeld
                    heldState = .sizeStart
                    heldBytes = 0
                    return i - 1
                }
                guard charClass[Int(c)] & CharClass.hex != 0 else { throw .invalidChunkSize }
                remaining = UInt64(hexValue(c)); digits = 1; state = .size
            case .size:
                if charClass[Int(c)] & CharClass.hex != 0 {
                    digits += 1
                    if digits > 15 { throw .invalidChunkSize }
                    remaining = remaining << 4 | UInt64(hexValue(c))
                } else if c == CR { state = .sizeLF }
                else if c == 0x3B { state = .ext }
                else if c == SP || c == HTAB { state = .sizeWS }
                else if c == LF { throw .bareLF }
                else { throw .invalidChunkSize }
            case .sizeWS:
                // BWS is only allowed before an extension's ';'.
                if c == 0x3B { state = .ext }
                else if c != SP && c != HTAB { throw .invalidChunkSize }
            case .ext, .extName, .extNameWS, .extValueStart, .extToken, .extQuoted, .extQuotedPair, .extValueEnd,
                 .extValueWS:
                // Checked to its grammar, not just its bytes: berth forwards an extension as it came, and an origin
                // that reads an unclosed quote or a stray one otherwise would end the line (and the body) elsewhere.
                if c == LF { throw .bareLF }
                state = try extensionStep(c)
            case .sizeLF:
                guard c == LF else { throw .bareCR }
                lineBytes = 0
                state = remaining == 0 ? .trailerLineStart : .data
            case .dataCR:
                if c == LF { throw .bareLF }
                guard c == CR else { throw .invalidChunkFraming }
                state = .dataLF
            case .dataLF:
                guard c == LF else { throw .bareCR }
                state = .sizeStart
            case .trailerLineStart:
                if c == CR { state = .finalLF }
                else if c == LF { throw .bareLF }
                else if c == SP || c == HTAB { throw .obsFold }
                else if isToken(c) { state = .trailerName }
                else { throw .invalidHeaderName }
            case .trailerName:
                if c == COLON { state = .trailerValue }
                else if c == SP || c == HTAB { throw .whitespaceBeforeColon }
                else if !isToken(c) { throw .invalidHeaderName }
            case .trailerValue:
                if c == CR { state = .trailerLF }
                else if c == LF { throw .bareLF }
                else if !isFieldValue(c) { throw .invalidHeaderValue }
            case .trailerLF:
                guard c == LF else { throw .bareCR }
                state = .trailerLineStart
            case .finalLF:
                guard c == LF else { throw .bareCR }
                state = .complete
                return i
            case .lastChunkHeld:
                return i - 1
            case .fixed, .untilClose, .complete, .data:
                break
            }
        }
        return n
    }

    /// The next state of a chunk extension for `c` (not LF): `chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS
    /// ( token / quoted-string ) ] )`, a CR ending it only where a name or a value is whole. Out of line: an
    /// extension is rare, and the size line's common path stays small.
    @inline(never)
    func extensionStep(_ c: UInt8) throws(HTTP1Error) -> State {
        let ws = c == SP || c == HTAB
        // A CR ends the line only right after a whole name or value: BWS is the grammar's before `;` and `=` alone
        // (a size line with trailing whitespace is refused the same way).
        switch state {
        case .ext:
            if ws { return .ext }
            if isToken(c) { return .extName }
        case .extName:
            if isToken(c) { return .extName }
            if ws { return .extNameWS }
            if c == 0x3D { return .extValueStart }
            if c == 0x3B { return .ext }
            if c == CR { return .sizeLF }
        case .extNameWS:
            if ws { return .extNameWS }
            if c == 0x3D { return .extValueStart }
            if c == 0x3B { return .ext }
        case .extValueStart:
            if ws { return .extValueStart }
            if c == DQUOTE { return .extQuoted }
            if isToken(c) { return .extToken }
        case .extToken, .extValueEnd:
            if isToken(c) && state == .extToken { return .extToken }
            if ws { return .extValueWS }
            if c == 0x3B { return .ext }
            if c == CR { return .sizeLF }
        case .extValueWS:
            if ws { return .extValueWS }
            if c == 0x3B { return .ext }
        case .extQuoted:
            // qdtext: HTAB, SP, VCHAR but `"` and `\`, obs-text.
            if c == DQUOTE { return .extValueEnd }
            if c == BACKSLASH { return .extQuotedPair }
            if ws || (c >= 0x21 && c != 0x7F) { return .extQuoted }
        case .extQuotedPair:
            if ws || (c >= 0x21 && c != 0x7F) { return .extQuoted }
        default:
            break
        }
        throw .invalidChunkFraming
    }

    /// Whether a size line's digits from `i` on (after a `0`) are zeros to their end or to the end of `bytes`: the
    /// last chunk, or a size not known yet. A size with leading zeros whose other digits are here goes on unheld.
    /// Out of line: it runs only for a holding decoder at a size line starting with `0`.
    @inline(never)
    func onlyZeros(_ bytes: UnsafeRawBufferPointer, from i: Int) -> Bool {
        var j = i
        while j < bytes.count && bytes[j] == 0x30 { j += 1 }
        return j == bytes.count || charClass[Int(bytes[j])] & CharClass.hex == 0
    }

    @inline(__always) func hexValue(_ c: UInt8) -> UInt8 {
        isDigit(c) ? c &- 0x30 : (c | 0x20) &- 0x61 &+ 10
    }
}
