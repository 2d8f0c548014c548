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
/// relay's turn and go to the session (`RelayOutcome`).
enum RelayStep: Equatable {
    /// Move `n` buffered caller bytes (request body, framing included) to the upstream.
    case sendBody(Int)
    /// Drop `n` bytes of upstream input that the response-head parser has taken in.
    case consumeResponse(Int)
    /// Write the interim (1xx) head the parser holds, flush it (a caller waiting for 100 Continue sends nothing
    /// until it sees it), and reset the parser for the next head.
    case forwardInterim
    /// Write the final head the parser holds.
    case writeHead(keepAlive: Bool, dropTransferEncoding: Bool)
    /// Move `n` upstream bytes (response body, framing included) to the caller.
    case relayBody(Int)
    /// Copy the next run of a chunked body to the caller without its framing (an HTTP/1.0 caller).
    case relayDechunked
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
    case invalidResponse(String)
    case invalidRequestBody(String)
    /// Send the request again on a fresh connection.
    case retry(RetryReason)
    /// A 101 for an upgrading request: the exchange becomes a tunnel.
    case upgrade
    /// Nothing to do until the next event.
    case wait
}

/// The numbers the relay's rules read, taken from the worker's settings for each turn.
struct RelayRules {
    /// Output buffered toward one side above which the other side is no longer read.
    var highWater: Int
    /// Caller bytes of later requests held before the caller is no longer read.
    var maxPipelinedInput: Int
    var limits: HTTP1Limits
    var shuttingDown: Bool
    /// How long berth waits for a caller that stopped reading.
    var callerIdleTimeout: Nanos
    /// The loop's time for this turn.
    var now: Nanos
}

extension Exchange {
    /// The next step of the relay. The request body goes first (what the caller sent leaves before anything is read
    /// back), then flow control, then the response's head and body; the response's end is noticed only after its
    /// bytes were flushed to the caller. Pure but for the buffers' reads: the driver carries the step out and asks
    /// again, so the machine never calls itself.
    mutating func nextStep<C: RelayChannel>(caller: C, upstream: C, parser: inout ResponseHeadParser,
                                            rules: RelayRules) -> RelayStep {
        if !requestBody.isDone {
            let avail = caller.pendingInput
            if avail > 0 {
                do {
                    let n = try requestBody.advance(available: avail, first: caller.inputChunk)
                    if n > 0 {
                        upstreamUnflushed = true
                        return .sendBody(n)
                    }
                } catch {
                    return .invalidRequestBody("invalid chunked request body: \(error)")
                }
            }
        }
        // A caller that ended its sending side is never read again: the socket would only say so again.
        let readCaller = !callerSendingEnded
            && (requestBody.isDone ? caller.pendingInput <= rules.maxPipelinedInput : upstream.pendingOutput <= rules.highWater)
        if readCaller != caller.reading { return .readCaller(readCaller) }
        if upstreamUnflushed {
            upstreamUnflushed = false
            return .flushUpstream
        }
        while true {
            switch response {
            case .awaitingHead:
                guard let chunk = upstream.inputChunk() else { break }
                do {
                    switch try parser.parse(chunk) {
                    case .needMore:
                        return .consumeResponse(chunk.count)
                    case .complete(let consumed):
                        response = .headReady
                        return .consumeResponse(consumed)
                    }
                } catch {
                    return .invalidResponse("response head: \(error)")
                }
            case .headReady:
                let head = parser.head
                let plan = ResponsePlan.plan(
                    status: head.status, framing: head.framing(requestMethod: request.method), version: request.version,
                    isUpgrade: request.isUpgrade, requestDone: requestBody.isDone, callerKeepAlive: callerKeepAlive,
                    shuttingDown: rules.shuttingDown)
                switch plan {
                case .upgrade:
                    return .upgrade
                case .invalid(let detail):
                    return .invalidResponse(detail)
                case .interim(let forward):
                    response = .awaitingHead
                    if forward { return .forwardInterim }
                    parser.reset()
                    continue
                case .final(let f):
                    return finalHead(f, head: head, upstream: upstream, limits: rules.limits)
                }
            case .streaming(var body, let dechunk):
                guard upstream.pendingInput > 0 else { break }
                if dechunk {
                    callerUnflushed = true
                    return .relayDechunked
                }
                let n: Int
                do {
                    n = try body.advance(available: upstream.pendingInput, first: upstream.inputChunk)
                } catch {
                    return .invalidResponse("chunked body: \(error)")
                }
                response = body.isDone ? .complete : .streaming(body, dechunk: false)
                guard n > 0 else { break }
                callerUnflushed = true
                return .relayBody(n)
            case .complete:
                break
            }
            break
        }
        if callerUnflushed {
            callerUnflushed = false
            return .flushCaller
        }
        if case .complete = response { return .finished(extraBytes: upstream.pendingInput > 0) }
        // The caller reads slower than the upstream sends: stop reading the upstream until the caller catches up.
        let readUpstream = caller.pendingOutput <= rules.highWater
        if readUpstream != upstream.reading { return .readUpstream(readUpstream) }
        return .wait
    }

    /// A final head arrived: record what it says and send it, unless the chunked body that came with it is already
    /// broken (then a clean 502 can still be answered; once the head is out, all berth can do is cut).
    private mutating func finalHead<C: RelayChannel>(_ f: ResponsePlan.Final, head: ResponseHead, upstream: C,
                                                     limits: HTTP1Limits) -> RelayStep {
        responseStatus = head.status
        responseKeepAlive = head.keepAlive
        callerKeepAlive = f.callerKeepAlive
        if f.framing == .chunked, let chunk = upstream.inputChunk() {
            var probe = BodyDecoder(framing: .chunked, limits: limits)
            do {
                _ = try probe.consume(chunk)
            } catch {
                return .invalidResponse("chunked body: \(error)")
            }
        }
        let body = Body(f.framing, limits: limits)
        response = body.isDone ? .complete : .streaming(body, dechunk: f.dechunk)
        callerUnflushed = true
        return .writeHead(keepAlive: f.callerKeepAlive, dropTransferEncoding: f.dechunk)
    }

    /// The upstream connection ended (EOF, reset or a failed write) before the response did: the step that follows,
    /// or nil when an until-close body has just completed and the relay goes on to flush and finish it.
    mutating func upstreamEnded(policy: ReplayPolicy) -> RelayStep? {
        switch onUpstreamEnd(policy: policy) {
        case .finishUntilClose:
            response = .complete
            responseKeepAlive = false
            return nil
        case .retry(let reason):
            return .retry(reason)
        case .fail(let cause):
            return .failed(cause)
        }
    }
}
