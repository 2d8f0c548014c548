// The exchange relay as a pure machine: from where both messages stand and what is buffered on each side, the next step.
import HTTP1
import EventLoop

/// The byte queues the relay reads and moves bytes between: `Channel` in the proxy, `MemoryChannel` in tests. The
/// machine (`Exchange.nextStep`) only reads them; the driver (`RelayDriver`) changes them.
protocol RelayChannel: AnyObject {
    var pendingInput: Int { get }
    var pendingOutput: Int { get }
    var reading: Bool { get }
    func inputChunk() -> UnsafeRawBufferPointer?
    /// All buffered input as one run (a copy when it spans blocks); nil when there is none.
    func inputPulledUp() -> UnsafeRawBufferPointer?
    func drainInput(_ n: Int)
    func moveInput(_ n: Int, to other: Self)
    func copyInput(_ n: Int, to queue: ByteQueue) -> Bool
    func write(_ bytes: UnsafeRawBufferPointer)
    func writeInPlace(_ serialize: (_ reserve: (Int) -> UnsafeMutableRawPointer?) -> Int) -> Bool
    func flush() -> Bool
    func startReading()
    func stopReading()
    func setTimeout(_ nanos: Nanos, now: Nanos)
    func clearTimeout()
}

extension Channel: RelayChannel {}

/// One thing for the relay's driver to do. The first group moves bytes and the machine asks again; the rest end the
/// relay's turn and go to the session (`RelayOutcome`). Steps are as coarse as the common case allows: a head is
/// taken from the input and written in one step, and a body run's move carries its flush, so a plain exchange takes
/// few turns of the loop.
enum RelayStep: Equatable {
    /// Move `n` buffered caller bytes (request body, framing included) to the upstream; `flush` after the last run
    /// that is buffered.
    case sendBody(Int, flush: Bool)
    /// Drop `n` bytes of upstream input: part of a head the parser has taken in, or an interim head not forwarded.
    case consumeResponse(Int)
    /// Drop the `consumed` head bytes, write the interim (1xx) head the parser holds, flush it (a caller waiting
    /// for 100 Continue sends nothing until it sees it), and reset the parser for the next head.
    case forwardInterim(consumed: Int)
    /// Drop the `consumed` head bytes and write the final head the parser holds; when `reframed`, its framing fields
    /// change with the body's (`Exchange.reframe`: Transfer-Encoding dropped, or chunked added).
    case writeHead(consumed: Int, keepAlive: Bool, reframed: Bool)
    /// Move `n` upstream bytes (response body, framing included) to the caller; `flush` after the last buffered run.
    case relayBody(Int, flush: Bool)
    /// Copy the next run of a chunked body to the caller without its framing (an HTTP/1.0 caller).
    case relayDechunked
    /// Move `n` upstream bytes of a close-delimited body to the caller as one chunk, and flush (`Reframe.chunk`).
    case relayChunk(Int)
    /// The `n` buffered bytes of a chunked body's last chunk and trailer section (fields, then the empty line) go to
    /// the caller, the fields rewritten as a head's are (`TrailerFields`); the response is then complete.
    case relayTrailer(Int)
    /// The upstream's clean close ended a close-delimited body: what is buffered goes out, then the last chunk when
    /// the body is re-framed, and the response is complete.
    case endUntilClose
    case flushUpstream
    case flushCaller
    /// Start or stop reading the caller (the upstream's output against high water, or pipelined input held).
    case readCaller(Bool)
    /// Start or stop reading the upstream (the caller's output against high water).
    case readUpstream(Bool)
    /// The whole response went out; `extraBytes` when the upstream sent more than the message.
    case finished(extraBytes: Bool)
    /// The upstream failed the exchange with this cause.
    case failed(ErrorCause)
    case invalidResponse(RelayFault)
    /// The caller's chunked request body broke its framing.
    case invalidRequestBody(HTTP1Error)
    /// Send the request again on a fresh connection.
    case retry(RetryReason)
    /// A 101 for an upgrading request (its `consumed` head bytes dropped): the exchange becomes a tunnel.
    case upgrade(consumed: Int)
    /// Nothing to do until the next event.
    case wait
}

/// Why the relay refuses a response. Steps and outcomes carry plain values only (no strings), so the driver's loop
/// copies and destroys nothing; the text is made when berth answers.
enum RelayFault: Equatable {
    case head(HTTP1Error)
    case chunkedBody(HTTP1Error)
    case refused(ResponsePlan.Refusal)

    /// The answer's detail.
    var detail: String {
        switch self {
        case .head(let e): return "response head: \(e.detail)"
        case .chunkedBody(let e): return "chunked body: \(e.detail)"
        case .refused(let r): return r.detail
        }
    }
}

/// The numbers the relay's rules read, from the session's settings; a rule asks for one only when it needs it.
protocol RelayRules {
    /// Output buffered toward one side above which the other side is no longer read.
    var highWater: Int { get }
    /// Caller bytes of later requests held before the caller is no longer read.
    var maxPipelinedInput: Int { get }
    var limits: HTTP1Limits { get }
    var shuttingDown: Bool { get }
    /// How long berth waits for a caller that stopped reading.
    var callerIdleTimeout: Nanos { get }
    /// The loop's time for this turn.
    var now: Nanos { get }
    /// How long a response head, or a held last chunk's trailer section, may take from the turn that found it partial.
    var responseHeadTimeout: Nanos { get }
    /// Steps one turn of the relay may take before it yields.
    var stepsPerEvent: Int { get }
}

extension Exchange {
    /// The next step of the relay. The request body goes first (what the caller sent leaves before anything is read
    /// back), then the response's head and body, then the caller's flush; the response's end is noticed only after
    /// its bytes were flushed, and flow control is judged only when nothing is left to move. Pure but for the
    /// buffers' reads: the driver carries the step out and asks again, so the machine never calls itself.
    @inline(__always)
    mutating func nextStep<C: RelayChannel, R: RelayRules>(caller: C, upstream: C, parser: inout ResponseHeadParser,
                                                           rules: R) -> RelayStep {
        if requestBody.isFramedAndOpen {
            let avail = caller.pendingInput
            if avail > 0 {
                do {
                    let n = try requestBody.advance(available: avail, first: caller.inputChunk)
                    if n > 0 {
                        // One flush after the last buffered run: a body in many chains leaves in one send.
                        let last = n == avail || !requestBody.isFramedAndOpen
                        upstreamUnflushed = !last
                        return .sendBody(n, flush: last)
                    }
                } catch {
                    return .invalidRequestBody(error)
                }
            }
        }
        if upstreamUnflushed {
            upstreamUnflushed = false
            return .flushUpstream
        }
        switch response {
        case .awaitingHead:
            guard let chunk = upstream.inputChunk() else { break }
            do {
                switch try parser.parse(chunk) {
                case .needMore:
                    return .consumeResponse(chunk.count)
                case .complete(let consumed):
                    if consumed == chunk.count && upstream.pendingInput > consumed {
                        // The body starts in the next chain: drop the head first, so the chunked probe can see it.
                        response = .headReady
                        return .consumeResponse(consumed)
                    }
                    return decideHead(&parser, consumed: consumed, rest: UnsafeRawBufferPointer(rebasing: chunk[consumed...]),
                                      rules: rules)
                }
            } catch {
                return .invalidResponse(.head(error))
            }
        case .headReady:
            return decideHead(&parser, consumed: 0, rest: upstream.inputChunk() ?? UnsafeRawBufferPointer(start: nil, count: 0),
                              rules: rules)
        case .streaming(var body, let reframed):
            let avail = upstream.pendingInput
            guard avail > 0 else { break }
            if _slowPath(reframed) { return reframedStep(available: avail) }
            let n: Int
            do {
                n = try body.advance(available: avail, first: upstream.inputChunk)
            } catch {
                return .invalidResponse(.chunkedBody(error))
            }
            response = body.isDone ? .complete : .streaming(body, reframed: false)
            if n > 0 {
                let last = n == avail || body.isDone
                callerUnflushed = !last
                return .relayBody(n, flush: last)
            }
            // Nothing moved: a body stopped before its last chunk, or one waiting for more bytes.
            if let step = heldLastChunkStep(upstream: upstream, rules: rules, callerOutput: caller.pendingOutput) { return step }
        case .complete:
            break
        }
        if callerUnflushed {
            callerUnflushed = false
            return .flushCaller
        }
        if case .complete = response { return .finished(extraBytes: upstream.pendingInput > 0) }
        // Flow control: the caller as `readsCaller` says; the upstream while the caller keeps up with it.
        let readCaller = readsCaller(callerPending: caller.pendingInput, upstreamOutput: upstream.pendingOutput, rules: rules)
        if readCaller != caller.reading { return .readCaller(readCaller) }
        let readUpstream = caller.pendingOutput <= rules.highWater
        if readUpstream != upstream.reading { return .readUpstream(readUpstream) }
        return .wait
    }

    /// The step for a chunked body stopped before a size line starting with `0`: `relayTrailer` once the last chunk
    /// and its whole trailer section are buffered, the line alone (`relayBody`) when it is an ordinary chunk's size
    /// with leading zeros, a fault when the bytes break the framing or its bounds (16 KiB of trailer, so the wait is
    /// bounded too), nil while they are still arriving (the flow control then reads on). Nothing of the last chunk
    /// goes out before all of it is in: a cut inside it shows as a missing last chunk. Nothing reaches the caller
    /// while the section arrives, as while a head does, so it gets the head's deadline (`headDeadline`, from the
    /// turn that first found it partial; the session keeps the upstream's timer within it): a section dripped under
    /// the socket timeout is cut there, not after up to 16 KiB of timeouts. Only while the upstream is read: behind
    /// a caller backed up past high water (a slow download's end) the deadline starts once the caller caught up,
    /// and as nothing goes out during the hold, the caller stays caught up until the section is in.
    @inline(never)
    private mutating func heldLastChunkStep<C: RelayChannel, R: RelayRules>(upstream: C, rules: R, callerOutput: Int) -> RelayStep? {
        guard case .streaming(.chunked(var decoder), _) = response, decoder.isHoldingLastChunk,
              let all = upstream.inputPulledUp() else { return nil }
        do {
            switch try decoder.takeHeldLine(all) {
            case .needMore:
                // Kept: the next ask goes on where this one stopped.
                response = .streaming(.chunked(decoder), reframed: false)
                if headDeadline == 0 && callerOutput <= rules.highWater { headDeadline = rules.now + rules.responseHeadTimeout }
                return nil
            case .chunk(let line):
                headDeadline = 0
                response = .streaming(.chunked(decoder), reframed: false)
                callerUnflushed = true
                return .relayBody(line, flush: false)
            case .lastChunk(let n):
                headDeadline = 0
                response = .complete
                callerUnflushed = true
                return .relayTrailer(n)
            }
        } catch {
            return .invalidResponse(.chunkedBody(error))
        }
    }

    /// The step for a body whose framing changes on the way (`Reframe`); out of line, off the common path.
    @inline(never)
    private mutating func reframedStep(available: Int) -> RelayStep {
        if reframe == .chunk { return .relayChunk(available) }
        callerUnflushed = true
        return .relayDechunked
    }

    /// Whether the caller may be read: while the upstream takes what it sends (`upstreamOutput` under high water)
    /// and, after a whole request, while its pipelined bytes are under the hold. A caller that ended its sending side
    /// is never read again, as its socket would only say so again. The session asks the same before it relays, with
    /// no upstream output yet.
    @inline(__always)
    func readsCaller<R: RelayRules>(callerPending: Int, upstreamOutput: Int, rules: R) -> Bool {
        !callerSendingEnded
            && (requestBody.isFramedAndOpen ? upstreamOutput <= rules.highWater : callerPending <= rules.maxPipelinedInput)
    }

    /// A whole head is in the parser (its `consumed` bytes still in the input, `rest` the bytes after them): what
    /// it means (`ResponsePlan`) and the step that carries it out. A final head is sent unless the chunked body that
    /// came with it is already broken; then a clean 502 can still be answered, while once the head is out all berth
    /// can do is cut.
    private mutating func decideHead<R: RelayRules>(_ parser: inout ResponseHeadParser, consumed: Int,
                                                    rest: UnsafeRawBufferPointer, rules: R) -> RelayStep {
        let framing = ResponseHeadParser.framing(of: &parser, requestMethod: request.method)
        // The head's own codings matter only to a close-delimited body (whether it may be chunked), and whether a
        // chunked body to an HTTP/1.0 caller names others (de-chunked, they would be lost): looked up then only.
        var codings = false, otherCodings = false, namesChunked = false
        if _slowPath(framing == .untilClose || (framing == .chunked && request.version == .http10)) {
            (codings, otherCodings, namesChunked) = Self.codingFacts(&parser, framing: framing)
        }
        let plan = ResponsePlan.plan(
            status: parser.head.status, framing: framing,
            version: request.version, isUpgrade: request.isUpgrade, requestDone: requestBody.isDone,
            callerKeepAlive: callerKeepAlive, shuttingDown: rules.shuttingDown, hasTransferEncoding: codings,
            hasOtherCoding: otherCodings, namesChunked: namesChunked)
        switch plan {
        case .upgrade:
            return .upgrade(consumed: consumed)
        case .invalid(let refusal):
            return .invalidResponse(.refused(refusal))
        case .interim(let forward):
            response = .awaitingHead
            // The next head has a deadline of its own.
            headDeadline = 0
            if forward { return .forwardInterim(consumed: consumed) }
            parser.reset()
            return .consumeResponse(consumed)
        case .final(let f):
            headDeadline = 0
            responseStatus = parser.head.status
            upstreamKeepAliveTimeout = parser.head.keepAliveTimeout
            upstreamSpokeHTTP10 = parser.head.version == .http10
            // An HTTP/1.0 answer to a chunked request: its server may have read the chunks as requests of its own,
            // whose answers come next on this connection, to whoever is sent on it next (reliability item 112).
            responseKeepAlive = parser.head.keepAlive && !(upstreamSpokeHTTP10 && request.framing == .chunked)
            callerKeepAlive = f.callerKeepAlive
            if f.framing == .chunked && rest.count > 0 {
                var probe = BodyDecoder(framing: .chunked, limits: rules.limits)
                do {
                    _ = try probe.consume(rest)
                } catch {
                    return .invalidResponse(.chunkedBody(error))
                }
            }
            let reframed = f.reframe != .asIs
            // The last chunk is held (for its section's rewrite, and so a cut in it shows) only where the body goes
            // through as it came; a de-chunked one shows a cut by the caller's reset.
            let body = Body(f.framing, limits: rules.limits, holdingLastChunk: !reframed)
            response = body.isDone ? .complete : .streaming(body, reframed: reframed)
            callerUnflushed = true
            return .writeHead(consumed: consumed, keepAlive: f.callerKeepAlive, reframed: reframed)
        }
    }

    /// `decideHead`'s coding facts for a close-delimited body (`codings`: it names Transfer-Encoding; `namesChunked`)
    /// or a chunked one (`otherCodings`: it names codings besides chunked). Out of line, the parser `inout`: the
    /// lookups take the head's fields as values, and with them in `decideHead` every response's head was copied
    /// whole (176 bytes) there, up front.
    @inline(never)
    private static func codingFacts(_ parser: inout ResponseHeadParser, framing: BodyFraming) -> (Bool, Bool, Bool) {
        if framing == .chunked { return (false, ResponsePlan.namesOtherCoding(parser.head.headers), false) }
        let codings = parser.head.headers.firstIndex(named: "transfer-encoding") != nil
        return (codings, false, codings && ResponsePlan.namesChunked(parser.head.headers))
    }

    /// A write to the upstream failed: the step after it, which reads the upstream (its read side decides, see
    /// `RelayDriver`'s `flushUpstream`). Out of line, as every rare path of the driver's loop.
    @inline(never)
    func upstreamWriteFailed() -> RelayStep {
        .readUpstream(true)
    }

    /// The upstream connection ended (EOF or reset, as a read found it; after a failed write, the read that follows)
    /// before the response did: the step that follows,
    /// under the upstream's replay `policy`. Pure: the driver carries it out. `clean` when it was an orderly close (a
    /// FIN, and over TLS a close_notify), the only end that completes a close-delimited body (`endUntilClose`); a
    /// reset, a failed write or a TLS close without close_notify cuts it. A request is sent again (`retry`) only on
    /// a fresh connection, once, when the connection it went out on was a reused one that ended before any response
    /// byte: with today's rule only bodiless idempotent or keyed requests, with `unread` any request whose whole body
    /// is in the replay copy. Anything else `failed`. Out of line: once per connection end, and the driver's loop
    /// that calls it must stay small enough for `nextStep` to be inlined into it.
    @inline(never)
    func upstreamEnded(policy: ReplayPolicy, clean: Bool) -> RelayStep {
        if case .streaming(.untilClose, _) = response { return clean ? .endUntilClose : .failed(.upstreamReset) }
        guard !retried, reused, responseBytes == 0 else { return .failed(.upstreamReset) }
        if requestBodyBytes == 0 {
            if request.method.isIdempotent { return .retry(.idempotent) }
            if request.headers.firstIndex(named: "idempotency-key") != nil { return .retry(.idempotencyKey) }
        }
        guard policy == .unread else { return .failed(.upstreamReset) }
        switch replay {
        case .holding(let copy) where UInt64(copy.count) == requestBodyBytes:
            return .retry(.unread)
        case .off where requestBodyBytes == 0 && requestDone:
            // Nothing of a body to keep: a bodiless request of any method goes again.
            return .retry(.unread)
        default:
            return .failed(.upstreamReset)
        }
    }
}
