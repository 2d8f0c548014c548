// Finds where a body ends (Content-Length, chunked with trailers, until-close) without copying or decoding it.

/// Finds where a body ends without touching its payload, so bytes are forwarded as they came.
public struct BodyDecoder: Sendable {
    enum State: UInt8, Sendable {
        case fixed, untilClose, complete
        case sizeStart, size, sizeWS, ext, sizeLF, data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        /// Stopped before a trailer section with fields (`holdsTrailers`): its bytes are the caller's to take.
        case trailerHeld
    }

    var state: State
    /// Stop before a trailer section that has fields, so the relay can take it whole and rewrite it (a response's
    /// trailer: `Berth-Error` renamed as in a head). A section with no field (`0 CRLF CRLF`) goes through as it is.
    /// Next to `state`, in its padding: the decoder (and the relay's `Body`) keep their size.
    public var holdsTrailers = false
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

    /// Whether the decoder stopped before a trailer section with fields (`holdsTrailers`); it consumes nothing more
    /// until `releaseTrailer`.
    public var holdsTrailer: Bool { state == .trailerHeld }

    /// Goes on past a held trailer section: the next bytes are its field lines, checked as any trailer's.
    public mutating func releaseTrailer() {
        precondition(state == .trailerHeld, "no trailer is held")
        holdsTrailers = false
        state = .trailerLineStart
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
            case .sizeStart, .size, .sizeWS, .ext, .sizeLF:
                lineBytes += 1
                if lineBytes > limits.maxChunkLineBytes { throw .invalidChunkFraming }
            case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
                trailerBytes += 1
                if trailerBytes > limits.maxTrailerBytes { throw .trailerTooLarge }
            default: break
            }
            switch state {
            case .sizeStart:
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
            case .ext:
                if c == CR { state = .sizeLF }
                else if c == LF { throw .bareLF }
                else if !isFieldValue(c) { throw .invalidChunkFraming }
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
                if _slowPath(holdsTrailers) && c != CR && trailerBytes == 1 {
                    // The section's first byte starts a field: stop before it.
                    trailerBytes = 0
                    state = .trailerHeld
                    return i - 1
                }
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
            case .trailerHeld:
                return i - 1
            case .fixed, .untilClose, .complete, .data:
                break
            }
        }
        return n
    }

    @inline(__always) func hexValue(_ c: UInt8) -> UInt8 {
        isDigit(c) ? c &- 0x30 : (c | 0x20) &- 0x61 &+ 10
    }
}
