// Carries out the relay machine's steps over two channels, a bounded number per event, and hands the ends to the session.
import HTTP1
import EventLoop

/// How a turn of the relay ended; the session acts on all but `.wait`.
enum RelayOutcome: Equatable {
    /// Nothing more until the next event.
    case wait
    /// The budget for this event is spent with work left: the session continues on the next loop turn.
    case yielded
    /// The whole response went out (`extraBytes`: the upstream sent more than the message).
    case finished(extraBytes: Bool)
    case failed(ErrorCause)
    case invalidResponse(RelayFault)
    case invalidRequestBody(HTTP1Error)
    case retry(RetryReason)
    case upgrade
    /// A write to the caller failed, or found no memory for a head: the session closes.
    case callerFailed
}

/// What the driver reads from its session: the rules for this turn, the head options and the replay store.
protocol RelayHost: RelayRules, AnyObject {
    var forwardOptions: ForwardOptions { get }
    /// The `Keep-Alive: timeout=N` announced to HTTP/1.1 callers (`KeepAliveLine`), 0 for none.
    var keepAliveTail: UInt64 { get }
    var replay: ReplayStore { get }
    /// Writes the response head `parser` holds into `caller`'s output with `forwardOptions` and `keepAliveTail`
    /// (`RelayDriver.writeHead`'s result). The session passes its options in place: read out of a class, as
    /// `forwardOptions` is, they are copied, two arrays retained and released, per head. The parser is inout, though
    /// only read: the driver holds it inout, and passing it on borrowed copied all of it (369 bytes) per head.
    func writeResponseHead<C: RelayChannel>(_ parser: inout ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                            to caller: C) -> Bool
}

extension RelayHost {
    /// The plain way, through a copy of the options: hosts with no hot path (the tests') keep it.
    func writeResponseHead<C: RelayChannel>(_ parser: inout ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                            to caller: C) -> Bool {
        RelayDriver.writeHead(&parser, version: version, keepAlive: keepAlive, options: forwardOptions, keepAliveTail: keepAliveTail, to: caller)
    }
}

/// memcached's drive_machine for one exchange: ask the machine (`Exchange.nextStep`) for a step, carry it out, ask
/// again, at most `stepsPerEvent` times (the worker's `relayStepsPerEvent`). A step never calls the machine back, so
/// nothing recurses. Generic over the channel so that tests drive the same code over in-memory channels
/// (`MemoryChannel`).
enum RelayDriver {
    /// Runs the relay from `first` (a step an event already decided, such as an upstream's end), or from the
    /// machine's next step.
    static func run<C: RelayChannel, H: RelayHost>(_ exchange: inout Exchange, parser: inout ResponseHeadParser, caller: C,
                                                   upstream: C, host: H, from first: RelayStep? = nil) -> RelayOutcome {
        var pending = first
        for _ in 0..<host.stepsPerEvent {
            let step: RelayStep
            if let p = pending {
                step = p
                pending = nil
            } else {
                step = exchange.nextStep(caller: caller, upstream: upstream, parser: &parser, rules: host)
            }
            switch step {
            case .sendBody(let n, let flush):
                if case .holding(let copy) = exchange.replay { keepForReplay(&exchange, n, in: copy, from: caller, replay: host.replay) }
                caller.moveInput(n, to: upstream)
                exchange.requestBodyBytes += UInt64(n)
                // Bytes from the caller are the exchange's progress too: the socket timeout measures the longest
                // silence in either direction, so a slow but steady upload is never cut. Not while berth itself
                // stopped reading the upstream (the caller's idle timeout runs then).
                if upstream.reading { restartTimeout(of: upstream, exchange.upstreamTimeout(now: host.now), now: host.now) }
                if flush && !upstream.flush() { pending = exchange.upstreamWriteFailed() }
            case .consumeResponse(let n):
                upstream.drainInput(n)
            case .writeHead(let consumed, let keepAlive, false):
                upstream.drainInput(consumed)
                guard host.writeResponseHead(&parser, version: exchange.request.version, keepAlive: keepAlive, to: caller) else { return .callerFailed }
            case .relayBody(let n, let flush):
                upstream.moveInput(n, to: caller)
                if flush && !caller.flush() { return .callerFailed }
            case .forwardInterim, .writeHead, .relayDechunked, .relayChunk, .endUntilClose, .relayTrailer:
                if let end = carryOutRare(step, &exchange, parser: &parser, caller: caller, upstream: upstream, host: host) { return end }
            case .flushUpstream:
                // A failed write (here or at `sendBody`) is the peer's reset, most often right behind an answer to a
                // request it would not read to its end (a 413 to an upload, then a close over the unread body). That
                // answer is in the socket ahead of the reset and a read still returns it, so the upstream is read and
                // its read side decides, as for any end: what came first is relayed, then the end (never clean after
                // a failed write: `endedCleanly`). The body still moves into the dead channel's output, so the
                // caller is read only up to high water meanwhile.
                if !upstream.flush() { pending = exchange.upstreamWriteFailed() }
            case .flushCaller:
                guard caller.flush() else { return .callerFailed }
            case .readCaller(let on):
                if on { caller.startReading() } else { caller.stopReading() }
            case .readUpstream(let on):
                if on {
                    upstream.startReading()
                    upstream.setTimeout(exchange.upstreamTimeout(now: host.now), now: host.now)
                    apply(SessionMachine.upstreamFlowing, to: caller, now: host.now)
                } else {
                    // While the upstream waits on the caller, the caller's idle timeout bounds how long that may last.
                    upstream.stopReading()
                    upstream.clearTimeout()
                    apply(SessionMachine.callerBackedUp(idleTimeout: host.callerIdleTimeout), to: caller, now: host.now)
                }
            case .finished(let extra): return .finished(extraBytes: extra)
            case .failed(let cause): return .failed(cause)
            case .invalidResponse(let fault): return .invalidResponse(fault)
            case .invalidRequestBody(let error): return .invalidRequestBody(error)
            case .retry(let reason): return .retry(reason)
            case .upgrade(let consumed):
                upstream.drainInput(consumed)
                return .upgrade
            case .wait: return .wait
            }
        }
        return .yielded
    }

    /// The steps most exchanges never take (interim heads, bodies whose framing changes), out of line: the loop
    /// stays small enough for the optimizer to inline the machine's `nextStep` into it, which it weighs against the
    /// loop's size. Returns the outcome that ends the turn, or nil to go on.
    @inline(never)
    private static func carryOutRare<C: RelayChannel, H: RelayHost>(_ step: RelayStep, _ exchange: inout Exchange, parser: inout ResponseHeadParser,
                                                                    caller: C, upstream: C, host: H) -> RelayOutcome? {
        switch step {
        case .forwardInterim(let consumed):
            upstream.drainInput(consumed)
            // berth answered the expectation itself (`continuesForCaller`): the origin's late 100 would be a second
            // answer to it, and the caller, already sending, gets only the final one (nginx and HAProxy, answering
            // the expectation themselves, never relay one). Other 1xx (103) still go.
            if exchange.continueSent && parser.head.status == 100 {
                parser.reset()
                return nil
            }
            // The origin answered the expectation: berth's own 100 would be a second answer (`continuesForCaller`).
            if parser.head.status == 100 { exchange.continueRelayed = true }
            guard host.writeResponseHead(&parser, version: exchange.request.version, keepAlive: true, to: caller), caller.flush() else {
                return .callerFailed
            }
            parser.reset()
        case .writeHead(let consumed, let keepAlive, _):
            upstream.drainInput(consumed)
            var o = host.forwardOptions
            if exchange.reframe == .dechunk { o.dropTransferEncoding = true } else { o.addChunked = true }
            guard writeHead(&parser, version: exchange.request.version, keepAlive: keepAlive, options: o, keepAliveTail: host.keepAliveTail, to: caller) else { return .callerFailed }
        case .relayDechunked:
            do {
                try exchange.relayDechunked(from: upstream, to: caller)
            } catch {
                return .invalidResponse(.chunkedBody(error))
            }
        case .relayChunk(let n):
            exchange.relayChunk(n, from: upstream, to: caller)
            guard caller.flush() else { return .callerFailed }
        case .relayTrailer(let n):
            if let all = upstream.inputPulledUp() {
                TrailerFields.write(UnsafeRawBufferPointer(rebasing: all[..<n]), to: caller)
            }
            upstream.drainInput(n)
        case .endUntilClose:
            exchange.endUntilClose(from: upstream, to: caller)
        default:
            preconditionFailure("\(step) is not a rare step")
        }
        return nil
    }

    /// Copies the next `n` body bytes into the replay copy, or drops the copy once the body outgrows the buffer.
    /// Out of line, as every path that most requests never take, to keep the loop's frame small.
    @inline(never)
    private static func keepForReplay<C: RelayChannel>(_ exchange: inout Exchange, _ n: Int, in copy: ReplayBuffer, from caller: C,
                                                       replay: ReplayStore) {
        if copy.count + n > replay.limit || !caller.copyInput(n, to: copy.bytes) {
            exchange.dropReplay(into: replay, because: .bodyTooLarge)
            exchange.pool?.counters.countReplaySkip(.bodyTooLarge)
        }
    }

    /// Serialises the response head the parser holds straight into the caller's output, for a caller of `version`;
    /// false when it could not (the caller is closed, or there was no memory): then the session must close rather
    /// than send a body without its head. The relay's heads and an upgrade's 101 both go out through here.
    @inline(__always)
    static func writeHead<C: RelayChannel>(_ parser: inout ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                           options: borrowing ForwardOptions, keepAliveTail: UInt64 = 0, to caller: C) -> Bool {
        caller.writeInPlace {
            HeadSerializer.writeForwardResponse(&parser, callerVersion: version, keepAlive: keepAlive, options: options,
                                                keepAliveTail: keepAliveTail, reserve: $0)
        }
    }

    /// Starts `upstream`'s socket timeout again (request body bytes are progress). Out of line: a body-carrying
    /// request's path, kept out of the loop's frame so the machine's step stays inlined in it.
    @inline(never)
    static func restartTimeout<C: RelayChannel>(of upstream: C, _ timeout: Nanos, now: Nanos) {
        upstream.setTimeout(timeout, now: now)
    }

    /// Carries out a verdict on the caller's timer.
    @inline(__always)
    static func apply<C: RelayChannel>(_ timer: SessionMachine.Timer, to caller: C, now: Nanos) {
        switch timer {
        case .arm(let after): caller.setTimeout(after, now: now)
        case .clear: caller.clearTimeout()
        case .keep: break
        }
    }
}

extension Exchange {
    /// Carries out `.relayDechunked`: one run of the chunked body goes to `caller` as payload only, its framing left
    /// behind (a rare path, for HTTP/1.0 callers: the payload bytes are copied).
    @inline(never)
    mutating func relayDechunked<C: RelayChannel>(from upstream: C, to caller: C) throws(HTTP1Error) {
        guard case .streaming(var body, let reframed) = response, let run = upstream.inputChunk() else { return }
        let n = try body.advanceDechunking(run) { range in caller.write(UnsafeRawBufferPointer(rebasing: run[range])) }
        upstream.drainInput(n)
        response = body.isDone ? .complete : .streaming(body, reframed: reframed)
    }

    /// Carries out `.relayChunk`: `n` bytes of a close-delimited body go to `caller` as one chunk, moved, not
    /// copied, between a size line and its CRLF.
    @inline(never)
    func relayChunk<C: RelayChannel>(_ n: Int, from upstream: C, to caller: C) {
        Exchange.writeChunkSize(n, to: caller)
        upstream.moveInput(n, to: caller)
        caller.write(Exchange.bytes(of: "\r\n"))
    }

    /// Carries out `.endUntilClose`: the upstream closed cleanly, so its buffered bytes are the body's last, and a
    /// re-framed body gets its last chunk. Neither connection's end is in doubt: the upstream's is closed, and the
    /// caller's keeps the boundary its framing gives it (`ResponsePlan`).
    @inline(never)
    mutating func endUntilClose<C: RelayChannel>(from upstream: C, to caller: C) {
        guard case .streaming(_, let reframed) = response else { return }
        let n = upstream.pendingInput
        if reframed {
            if n > 0 { relayChunk(n, from: upstream, to: caller) }
            caller.write(Exchange.bytes(of: "0\r\n\r\n"))
        } else if n > 0 {
            upstream.moveInput(n, to: caller)
        }
        response = .complete
        responseKeepAlive = false
        callerUnflushed = true
    }

    /// A literal's bytes in place (the chunk's CRLF, the last chunk with no trailer section).
    @inline(__always)
    static func bytes(of s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    /// Writes a chunk's size line (`hex CRLF`) from a stack buffer: no allocation, even on this rare path.
    static func writeChunkSize<C: RelayChannel>(_ n: Int, to caller: C) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 18) { buf in
            var i = 16
            var v = UInt64(n)
            repeat {
                i -= 1
                let d = UInt8(truncatingIfNeeded: v & 0xf)
                buf[i] = d < 10 ? d &+ 48 : d &+ 87
                v >>= 4
            } while v != 0
            buf[16] = 13
            buf[17] = 10
            caller.write(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buf[i..<18])))
        }
    }
}
