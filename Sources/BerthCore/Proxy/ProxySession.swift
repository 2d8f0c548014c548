// One caller connection, its hub: the events, the heads, and the relay's turns they feed (other phases in its + files).
import Glibc
import HTTP1
import EventLoop

/// A caller connection and its current exchange. Requests are answered one at a time, in order (pipelining included).
final class ProxySession: ChannelDelegate {
    /// Strong and `let`: the worker outlives its sessions, and a strong `let` is read borrowed, with no reference
    /// count (an unowned(unsafe) one was retained and released around each use, ~10 pairs per request). The cycle
    /// it makes lasts until `close()` takes the session out of the worker's table.
    let worker: Worker
    /// The worker's pool manager (its `let`), held here too: a method call through `worker.manager`, two strong
    /// `let`s deep, still retained and released the manager around each call; one level deep it is borrowed.
    let manager: PoolManager
    let caller: Channel
    /// Where the session is, what it holds there, and what its caller timer runs to: the one state (pure; this
    /// class carries out its verdicts).
    var machine = SessionMachine()
    var parser: RequestHeadParser
    var responseParser: ResponseHeadParser
    var exchange = Exchange()
    /// A retry waits here for the session's action loop (`drive()`): it starts once the relay that asked for it has
    /// returned, never inside it.
    var retryPending = false
    /// Opens this session's upstream connections (made at the first connect, kept for the next ones).
    var connector: Connector?
    /// The route of the previous request (Host value or absolute-form scheme and authority, as sent): callers send
    /// request after request to one upstream, so the parse, allowlist check and pool lookup are done once per change.
    var route = RouteCache()
    /// The caller's connection ends with a reset, not a FIN: a response was cut where its framing cannot show it.
    var resetsCaller = false
    /// How deep `relayHeld` has re-entered the relay in this event (a bound: see there).
    var heldDepth = 0
    /// Whether `parseHeads` is running further up the stack. A request it starts may be answered before that start
    /// returns (a connect refused inside connect(2): a loop to berth itself, a multicast address), and the answer's
    /// `drive()` then must not parse the next head from in there: the running loop does, under its budget. Parsed
    /// from inside, each pipelined request took a stack level, and a read of thousands of them overflowed the stack.
    var parsingHeads = false
    /// How many heads one event may start before the session yields to the rest of the loop (memcached's nreqs).
    static let headsPerEvent = 16
    /// Bytes a closing session may still read and drop from its caller (`lingerOrClose`; more while its answer is in
    /// flight, `lingered`); 0: it closes at once.
    var lingerLeft = 0
    /// The linger reads the rest of a request body behind an early answer: no byte budget ends it, only the
    /// caller's FIN, a silence of `lingerGap` or the linger's end (a client that reads only once its body is
    /// written: `lingered`).
    var lingerDrainsBody = false
    /// When a linger over a body ends whatever the caller sends (`SessionMachine.lingerEnds`); 0 for other lingers.
    var lingerEnds: Nanos = 0
    /// When it last became idle (connected, or an exchange ended with the caller kept): for logs and tests.
    var idleSince: Nanos = 0
    /// Bytes of the unfinished request head read so far, counted in `worker.headBytes` against --head-memory.
    var headHeld = 0
    /// Its places in the worker's lists of idle callers and unfinished heads (`SessionList`).
    var links = SessionLinks()
    /// An ended answer still partly in the caller's output: its access line and its cut (ProxySession+HeldTail.swift).
    var tail = OwedTail()

    init(worker: Worker, fd: CInt) {
        self.worker = worker
        self.manager = worker.manager
        self.caller = Channel(base: worker.base, fd: fd)
        self.parser = RequestHeadParser(limits: worker.settings.limits)
        self.responseParser = ResponseHeadParser(limits: worker.settings.limits)
        caller.delegate = self
    }

    /// Starts reading the first request.
    func start() {
        // Nagle exists only on TCP: on a Unix-socket caller the call would fail, once per connection.
        if worker.listener?.address.family != .unix { Socket.setNoDelay(caller.fd) }
        caller.startReading()
        idleSince = worker.now
        worker.sessionIdles(self)
        apply(machine.started(idleTimeout: worker.settings.callerIdleTimeout))
    }

    /// Carries out the machine's verdict on the caller's timer.
    @inline(__always)
    func apply(_ timer: SessionMachine.Timer) {
        switch timer {
        case .arm(let after): caller.setTimeout(after, now: worker.now)
        case .clear: caller.clearTimeout()
        case .keep: break
        }
    }

    // MARK: events
    // Each entry point reads the clock once (worker.tick()) and ends in `drive()`, the session's action loop: it
    // starts a retry and pipelined requests, so finishing an exchange never calls the parser from inside the writer
    // and a retry never asks the pool from inside the relay that ended.

    func channelReadable(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerReadable()
        } else if machine.state.relays(over: channel) {
            upstreamReadable()
        }
        drive()
    }

    func channelWritable(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerDrained()
        } else if machine.state.relays(over: channel) {
            upstreamDrained()
        }
        drive()
    }

    func channelWriteProgress(_ channel: Channel) {
        worker.tick()
        if machine.state.relays(over: channel) { upstreamTookBytes() }
        drive()
    }

    func channelTimedOut(_ channel: Channel) {
        worker.tick()
        if channel === caller {
            callerTimedOut()
        } else if machine.state.relays(over: channel) {
            upstreamTimedOut()
        }
        drive()
    }

    /// The session's action loop, run as each event returns: a pending retry goes back to the pool, then the heads
    /// already buffered start, up to a budget (the rest wait for the next loop turn). A retry happens at most once
    /// per request, and each pass either starts one or parses heads under their own budget, so the loop is bounded.
    @inline(__always)
    func drive() {
        // Most events: no retry, and at most the buffered heads to start (the loop below only when a retry is asked).
        if _fastPath(!retryPending) {
            guard machine.awaitingHead, caller.pendingInput > 0 else { return }
            parseHeads()
            guard retryPending else { return }
        }
        driveRetries()
    }

    /// `drive()`'s loop once a retry is pending: the retry goes back to the pool, then heads start, in turns.
    @inline(never)
    private func driveRetries() {
        for _ in 0..<ProxySession.headsPerEvent {
            if retryPending {
                retryPending = false
                acquire(allowReuse: false)
                continue
            }
            guard machine.awaitingHead, caller.pendingInput > 0 else { return }
            parseHeads()
            guard retryPending else { return }
        }
        // Spent on retries and heads: a readable event on the next loop turn goes on (its drive() starts the retry).
        caller.yieldRead()
    }

    // MARK: caller side

    private func callerReadable() {
        // A yield from `parseHeads` re-activates the read event with heads already buffered: past the pipelining hold
        // nothing more is read on top of them, or a caller sending faster than its heads are answered grows the input
        // by a read per 16 heads. (Between heads only: every such event starts heads, so it cannot spin. In the other
        // states the exchange's own flow control decides whether the caller is read.)
        let heldBack = machine.awaitingHead && caller.pendingInput > worker.settings.maxPipelinedInput
        switch heldBack ? .wouldBlock : caller.read() {
        case .data:
            break
        case .wouldBlock:
            if caller.pendingInput == 0 { return }
        case .eof:
            return callerEnded()
        case .failed:
            return _slowPath(exchange.holdingTail) ? callerResetDuringTail() : callerLeft()
        }
        switch machine.phase {
        case .idle, .readingHead:
            parseHeads()
        case .exchanging:
            relay()
        case .routing, .acquiring, .connecting, .ending:
            holdPipelinedInput()
        case .closing:
            lingered()
        case .tunnel, .closed:
            caller.discardInput()
        }
    }

    /// Parses the buffered heads, starting an exchange on each whole one, until one is in flight or the event's budget is spent.
    func parseHeads() {
        // Re-entered from an answer given inside a request's start: the loop below, still running, goes on instead.
        guard !parsingHeads else { return }
        parsingHeads = true
        defer { parsingHeads = false }
        var budget = ProxySession.headsPerEvent
        while machine.awaitingHead {
            // berth's own answers obey the relay's flow control: a caller that does not read them is not read, nor
            // are its buffered heads started, until its output drains (`callerDrained`); the idle timeout that
            // runs meanwhile closes a caller that never reads. Nor while the last answer's tail waits (`OwedTail`).
            guard !tail.owed, caller.pendingOutput <= worker.settings.highWater else { return caller.stopReading() }
            guard budget > 0 else {
                // Many pipelined requests answered at once (errors, say): let the other connections run first (after
                // the next poll: re-activated at once, this one ran again before any other socket was read, adv2).
                caller.yieldRead()
                return
            }
            guard let chunk = caller.inputChunk() else { return }
            apply(machine.headBytes(now: worker.now, headerTimeout: worker.settings.headerTimeout))
            let result: HeadParseResult
            do {
                result = try parser.parse(chunk)
            } catch {
                caller.discardInput()
                releaseHeadBytes()
                worker.counters[.badRequests] &+= 1
                // The byte stream has no trustworthy boundary any more: answer, then close.
                return answer(.badRequest, status: error.status, detail: error.detail, closeAfter: true)
            }
            switch result {
            case .needMore:
                caller.drainInput(chunk.count)
                // Empty lines at a drain begin no request. The parser keeps what it read of a head: counted, and past
                // the worker's share of --head-memory the caller holding the most is answered (this one maybe: loop ends).
                if _slowPath(worker.isShuttingDown) && closedWithNoRequestAtDrain() { return }
                headHeld &+= chunk.count
                worker.headBytes &+= chunk.count
                worker.headGrew(self)
                if _slowPath(worker.headBytes > worker.settings.headMemory) { worker.shedHeadMemory() }
            case .complete(let consumed):
                caller.drainInput(consumed)
                if _slowPath(headHeld != 0) { releaseHeadBytes() }
                budget -= 1
                apply(machine.headComplete())
                beginExchange()
            }
        }
    }

    // MARK: the relay's turns
    // The relay runs here, where the events come in: on the send of a request that leaves it bytes to move
    // (`+Upstream`), and on each of the upstream's and the caller's events while exchanging. Its ends go on from here
    // (the finish below, an answer, a retry, a tunnel).

    /// One turn of the relay (RelayDriver over the caller and the leased connection), then what its end asks.
    func relay(from first: RelayStep? = nil) {
        // No turn while berth waits for a crossed request's reset (`awaitReset`): a turn reads the upstream again.
        if _slowPath(exchange.awaitingReset) { return }
        let turn = machine.state.withRelayedChannel { upstream in
            RelayDriver.run(&exchange, parser: &responseParser, caller: caller, upstream: upstream, host: self, from: first)
        }
        guard let outcome = turn else { return }
        switch outcome {
        case .wait:
            // Maybe a head not whole yet, a response's held trailer section (its deadline set), or a request's held
            // last chunk: work the machine leaves to the session.
            if _slowPath((exchange.responseBytes > 0 && !exchange.responseHeadSent) || exchange.headDeadline != 0
                         || (caller.pendingInput > 0 && exchange.requestBody.isFramedAndOpen)) { relayHeld() }
        case .yielded:
            // A readable event on the next loop turn picks the relay up where the budget stopped it.
            guard let up = machine.state.connection?.channel else { break }
            // Without reading more on top of a backlog: a flood of small heads (1xx) moves a few dozen per turn while
            // a read brings thousands, so the input would grow without bound and never empty for the flow control
            // (which looks only when nothing is left to move) to stop the upstream. A caller backed up is what that
            // flow control would find; otherwise the relay reads again once it has caught up.
            let highWater = worker.settings.highWater
            if caller.pendingOutput > highWater {
                up.stopReading()
                up.clearTimeout()
                apply(SessionMachine.callerBackedUp(idleTimeout: worker.settings.callerIdleTimeout))
            } else if up.pendingInput > highWater {
                up.stopReading()
            }
            up.yieldRead()
        case .finished(let extra):
            finishExchange(extraBytes: extra)
        case .failed(let cause):
            abortUpstream(reason: .error)
            answer(cause, detail: "\(exchange.key?.description ?? "upstream") closed or reset the connection before the response ended")
        case .invalidResponse(let fault):
            abortUpstream(reason: .error)
            answer(.invalidResponse, detail: fault.detail)
        case .invalidRequestBody(let error):
            abortUpstream(reason: .requestIncomplete)
            exchange.callerKeepAlive = false
            answer(.badRequest, detail: "invalid chunked request body: \(error.detail)")
        case .retry(let reason):
            abortUpstream(reason: .error, rerouting: true)
            retry(reason)
        case .upgrade:
            startUpgrade()
        case .callerFailed:
            callerLeft()
        }
    }

    /// The upstream's bytes (or its end) arrived: counted, then handed to a relay turn.
    func upstreamReadable() {
        // The read borrows the channel from the lease (no retain on the connection or the channel), and the relay
        // runs after that borrow ends.
        var ended: RelayStep?
        var eof: (channel: ObjectIdentifier, left: Int)?
        let relaying = machine.state.withRelayedChannel { channel in
            // A yielded relay's continuation while the caller is backed up: move what is buffered, read nothing more.
            guard channel.reading else { return }
            switch channel.read() {
            case .data(let n):
                if exchange.responseBytes == 0 {
                    exchange.firstByteAt = worker.now
                    exchange.pool?.counters.observe(.timeToFirstByte, exchange.firstByteAt - exchange.sentAt)
                    exchange.deadPeerWatch = false
                }
                exchange.responseBytes += UInt64(n)
                channel.setTimeout(exchange.socketTimeout, now: worker.now)
            case .wouldBlock:
                // Nothing new from the upstream: the read a yielded relay scheduled. Its work left may be on either
                // side (a request body's runs, unflushed output), and the machine looks at both.
                break
            case .eof:
                eof = (ObjectIdentifier(channel), channel.pendingInput)
            case .failed:
                // Bytes a yielded relay left came before the reset and go first, as before a FIN (below); the
                // channel keeps the failure (`endedCleanly`), so the end that follows is never a clean one.
                if channel.pendingInput > 0 {
                    eof = (ObjectIdentifier(channel), channel.pendingInput)
                } else {
                    ended = exchange.upstreamEnded(policy: exchange.replayPolicy, clean: false)
                }
            }
        }
        guard relaying != nil else { return }
        if let eof {
            // Bytes a yielded relay left came before the FIN, and go first: a flood of 1xx heads, its final answer
            // and a close, read at once, are a whole response. The FIN is read again on a later turn; a turn that
            // moved nothing (no progress to wait for) ends the exchange now.
            if eof.left > 0 {
                relay()
                let stalled = machine.state.withRelayedChannel { ObjectIdentifier($0) == eof.channel && $0.pendingInput == eof.left }
                guard stalled == true else { return }
            }
            let clean = machine.state.withRelayedChannel { $0.endedCleanly } ?? false
            // nil: berth waits for the reset of the request this FIN crossed (`closedUnread`), the relay stopped.
            guard let step = closedUnread(exchange.upstreamEnded(policy: exchange.replayPolicy, clean: clean), clean: clean) else { return }
            ended = step
        }
        relay(from: ended)
    }

    /// The response ended: the connection goes through the release gate (once the request's tail left berth, unless
    /// `givingUp` on it: `holdsRequestTail`), and the caller gets its next turn.
    func finishExchange(extraBytes: Bool, givingUp: Bool = false) {
        if _slowPath(exchange.requestBodyBytes > 0 && !givingUp), holdsRequestTail() { return }
        guard let lease = machine.takeLease() else { return }
        lease.conn.channel.clearTimeout()
        // Bytes behind an answer that ended where a full read did may still be in the kernel, and so may a FIN that came
        // with it where the connection is taken again before the loop polls it (reliability 135): one more read finds
        // them before another request (a pipelined one, in this very turn) takes them for its answer or crosses it.
        var extra = extraBytes
        if _slowPath(lease.conn.channel.lastReadFilled || takenAgainThisTurn) && !extra && !lease.conn.channel.endSeen {
            // A reset found there ends the connection (`endSeen`) but is no byte behind the answer.
            extra = lease.conn.channel.holdsMoreThanRead() && lease.conn.channel.readError == 0
        }
        // Bytes after the end of the response are a protocol error: that connection is never reused. Nor is one whose
        // end showed before the relay finished the bytes ahead of it (a FIN read after them, as in `upstreamReadable`,
        // or a failed write after an answer sent before a reset): it would take the next request and reset it.
        let keepAlive = exchange.responseKeepAlive && !lease.conn.channel.endSeen
        let facts = ReleaseFacts(
            responseComplete: exchange.responseDone, requestComplete: exchange.requestDone && !peerStillTaking(lease.conn.channel),
            keepAlive: keepAlive, failure: extra ? .error : nil, requestsServed: lease.conn.requestsServed, openedAt: lease.conn.openedAt,
            epoch: lease.conn.epoch, keepAliveTimeout: exchange.upstreamKeepAliveTimeout)
        if extra { worker.counters[.responsesWithExtraBytes] &+= 1 }
        // An HTTP/1.0 answer to an HTTP/1.0 request (berth forwards the caller's version) says nothing of the server:
        // Go's net/http answers in the request's version. Only one to an HTTP/1.1 request shows it lacks HTTP/1.1.
        if !exchange.upstreamSpokeHTTP10 || exchange.request.version != .http10 {
            lease.conn.pool.answersHTTP10 = exchange.upstreamSpokeHTTP10
        }
        manager.release(lease, facts: facts, now: worker.now)
        endExchange(keepCaller: exchange.callerKeepAlive)
    }
}
