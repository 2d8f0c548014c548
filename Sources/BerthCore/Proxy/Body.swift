// Where a relayed body stands, each framing with its own data, and how many buffered bytes belong to it.
import HTTP1

/// A body being relayed. Each case carries what it needs, as Pingora's BodyMode does: the bytes still due, the
/// chunked decoder, nothing for until-close; `.done` once the message has ended. Pure: the session moves the bytes.
enum Body: Sendable {
    case length(remaining: UInt64)
    case chunked(BodyDecoder)
    /// Ends when the upstream closes (responses only).
    case untilClose
    case done

    /// The body a head announced; `limits` is read only for a chunked one, which with `holdingLastChunk` stops
    /// before its last chunk (`BodyDecoder.holdsLastChunk`).
    init(_ framing: BodyFraming, limits: @autoclosure () -> HTTP1Limits, holdingLastChunk: Bool = false) {
        switch framing {
        case .none: self = .done
        case .contentLength(let n): self = n == 0 ? .done : .length(remaining: n)
        case .chunked:
            var decoder = BodyDecoder(framing: .chunked, limits: limits())
            decoder.holdsLastChunk = holdingLastChunk
            self = .chunked(decoder)
        case .untilClose: self = .untilClose
        }
    }

    /// The message has ended; later bytes belong to the next one.
    var isDone: Bool {
        if case .done = self { return true }
        return false
    }

    /// A Content-Length or chunked body with bytes still due. For a request body this is `!isDone` (a request is
    /// never until-close: beginExchange refuses it), and it is cheaper: the payload cases are told apart by the
    /// enum's tag alone, while telling `.done` from `.untilClose` reads the whole payload area.
    var isFramedAndOpen: Bool {
        switch self {
        case .length, .chunked: return true
        case .untilClose, .done: return false
        }
    }

    /// How many of the `available` buffered bytes belong to this body, as they are (framing included), moving its
    /// state on. Only chunked framing reads bytes: `first` gives the first contiguous run of them, and the answer
    /// is then at most that run's length (the caller moves what it was told and asks again).
    mutating func advance(available: Int, first: () -> UnsafeRawBufferPointer?) throws(HTTP1Error) -> Int {
        switch self {
        case .length(let remaining):
            let n = UInt64(available) < remaining ? available : Int(remaining)
            self = remaining == UInt64(n) ? .done : .length(remaining: remaining - UInt64(n))
            return n
        case .chunked(var decoder):
            guard let run = first() else { return 0 }
            let n = try decoder.consume(run)
            self = decoder.isComplete ? .done : .chunked(decoder)
            return n
        case .untilClose:
            return available
        case .done:
            return 0
        }
    }

    /// Whether `available` buffered bytes settle this body: they hold the rest of it, or they break its framing (a
    /// dry run: this body does not move on). Either way a caller's FIN is no abort: the request goes on, and a broken
    /// body gets its 400 when the relay reaches the fault, as without the FIN. Only a chunked body reads them, all at
    /// once from `whole` (the input pulled into one run: a rare path, a caller's FIN with its body still buffered).
    func isSettled(byBuffered available: Int, whole: () -> UnsafeRawBufferPointer?) -> Bool {
        switch self {
        case .length(let remaining):
            return UInt64(available) >= remaining
        case .chunked(var decoder):
            guard available > 0, let all = whole() else { return false }
            var at = 0
            while at < all.count && !decoder.isComplete {
                let rest = UnsafeRawBufferPointer(rebasing: all[at...])
                do {
                    if decoder.isHoldingLastChunk {
                        // A held last chunk settles the body once its whole section is in.
                        switch try decoder.takeHeldLine(rest) {
                        case .needMore: return false
                        case .chunk(let line): at += line
                        case .lastChunk: return true
                        }
                        continue
                    }
                    let n = try decoder.consume(rest)
                    guard n > 0 || decoder.isHoldingLastChunk else { return false }
                    at += n
                } catch {
                    return true
                }
            }
            return decoder.isComplete
        case .untilClose:
            return false
        case .done:
            return true
        }
    }

    /// Like `advance` over one run, for a caller that cannot take chunked framing: the payload's ranges within
    /// `run` go to `payload`, the framing is left behind. Returns how many bytes of `run` were used.
    mutating func advanceDechunking(_ run: UnsafeRawBufferPointer, payload: (Range<Int>) -> Void) throws(HTTP1Error) -> Int {
        switch self {
        case .chunked(var decoder):
            let n = try decoder.consume(run, payload: payload)
            self = decoder.isComplete ? .done : .chunked(decoder)
            return n
        default:
            let n = try advance(available: run.count) { run }
            if n > 0 { payload(0..<n) }
            return n
        }
    }
}

/// How far the response has come.
enum ResponseProgress: Sendable {
    /// No final head forwarded yet (interim 1xx heads may have been).
    case awaitingHead
    /// The response-head parser holds a whole head whose bytes have left the input; the relay decides on it next.
    case headReady
    /// The head went out; the body is relayed as `body` says. With `reframed`, its framing changes for the caller
    /// (`Reframe`, told by the body's own framing: a chunked body can only lose its chunks, a close-delimited one only
    /// gain them). A Bool rather than the `Reframe` itself: it keeps this enum's layout, and with it the cost of the
    /// relay's per-step match, as it was.
    case streaming(Body, reframed: Bool)
    /// The whole response went out.
    case complete
}

/// How berth changes a response body's framing on its way to the caller. Both changes are for framings the caller
/// cannot take or that could not show a cut: the common case forwards the bytes as they came.
enum Reframe: UInt8, Sendable {
    /// The body's bytes go through as they came, framing included.
    case asIs
    /// A chunked body goes to an HTTP/1.0 caller as its payload only, ended by closing.
    case dechunk
    /// A close-delimited body goes to an HTTP/1.1 caller as chunks, so that a cut shows as a missing last chunk
    /// (and the caller's connection keeps a boundary to continue after), as nginx does.
    case chunk
}
