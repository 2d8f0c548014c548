// One caller connection: reads request heads, routes each to its upstream pool, and relays the exchange in order.
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
    /// How many heads one event may start before the session yields to the rest of the loop (memcached's nreqs).
    static let headsPerEvent = 16
    /// Bytes a closing session may still read and drop from its caller (`lingerOrClose`); 0: it closes at once.
    var lingerLeft = 0
    /// The most a lingering session reads before it closes anyway (nginx reads up to its buffer's worth per turn).
    static let lingerBytes = 64 * 1024

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
        caller.scheduleRead()
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
            return close()
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

    /// Stops reading a caller that sends ahead more than berth buffers; reading resumes with the next head, or when
    /// the relay starts. Until then a request body still due has nowhere to go but the input, so the input counts as
    /// the upstream's output: a body streamed while its request waits (a pause may hold it for hours) stays under
    /// high water instead of filling memory.
    private func holdPipelinedInput() {
        let pending = caller.pendingInput
        if !exchange.readsCaller(callerPending: pending, upstreamOutput: pending, rules: self) { caller.stopReading() }
    }

    /// The caller closed its sending side. After a whole request that is no abort (HAProxy answers it too): the
    /// response still goes out, then the connection closes. A request whose body is all in berth's input, not yet
    /// relayed (it waits in a queue or for its connect), is whole too, and so is one whose buffered body is broken
    /// (the relay answers its 400, as without the FIN). Mid-head or mid-body it is: the upstream
    /// connection cannot be trusted to be at a message boundary, and close() aborts it. Requests pipelined before
    /// the FIN are answered too, in order (nginx and HAProxy do): the connection stays up while input is buffered,
    /// and the FIN, read again once they are answered (a socket reads its end every time), closes it.
    private func callerEnded() {
        switch machine.phase {
        case .routing, .acquiring, .connecting, .exchanging:
            guard exchange.requestDone || exchange.requestBody.isSettled(byBuffered: caller.pendingInput, whole: caller.inputPulledUp) else {
                return close()
            }
            // Only the last request says the connection closes; one with requests behind it keeps it for them.
            if exchange.requestDone && caller.pendingInput == 0 { exchange.callerKeepAlive = false }
            exchange.callerSendingEnded = true
            caller.stopReading()
        case .idle, .readingHead:
            // Heads still buffered (a budget spent) go first: `drive()` starts them, and the FIN read on the next turn
            // comes back here. A head cut by the FIN is left with nothing buffered, and closes unanswered.
            if caller.pendingInput == 0 { close() }
        default:
            close()
        }
    }

    /// Parses as many heads as the buffered input holds, starting an exchange on each complete one, until one
    /// is in flight or the budget for this event is spent.
    func parseHeads() {
        var budget = ProxySession.headsPerEvent
        while machine.awaitingHead {
            // berth's own answers obey the relay's flow control: a caller that does not read them is not read, nor
            // are its buffered heads started, until its output drains (`callerDrained`); the idle timeout that
            // runs meanwhile closes a caller that never reads.
            guard caller.pendingOutput <= worker.settings.highWater else { return caller.stopReading() }
            guard budget > 0 else {
                // Many pipelined requests answered at once (errors, say): let the other connections run first.
                caller.scheduleRead()
                return
            }
            guard let chunk = caller.inputChunk() else { return }
            apply(machine.headBytes(now: worker.now, headerTimeout: worker.settings.headerTimeout))
            let result: HeadParseResult
            do {
                result = try parser.parse(chunk)
            } catch {
                caller.discardInput()
                worker.counters[.badRequests] &+= 1
                // The byte stream has no trustworthy boundary any more: answer, then close.
                return answer(.badRequest, status: error.status, detail: "\(error)", closeAfter: true)
            }
            switch result {
            case .needMore:
                caller.drainInput(chunk.count)
            case .complete(let consumed):
                caller.drainInput(consumed)
                budget -= 1
                apply(machine.headComplete())
                beginExchange()
            }
        }
    }

    private func callerTimedOut() {
        switch machine.timedOut(now: worker.now) {
        case .headerTimeout:
            // Slowloris: a head that dribbles in is cut off, whatever its pace.
            worker.counters[.headerTimeouts] &+= 1
            answer(.headerTimeout, detail: "request head not received in time", closeAfter: true)
        case .close:
            // Idle between requests, or a caller that stopped reading what berth has for it (close() aborts the upstream).
            close()
        case .acquireTimedOut(let waited):
            acquireTimedOut(waited: waited)
        case .ignore:
            break
        }
    }

    private func callerDrained() {
        switch machine.phase {
        case .closing:
            lingerOrClose()
        case .exchanging:
            // The relay reads the upstream again once the caller's output is under high water.
            relay()
        case .idle, .readingHead:
            // Answers backed up past high water stopped the reading (`parseHeads`); `drive()` starts the buffered heads.
            caller.startReading()
        default:
            break
        }
    }

    /// Tears the session down: what its one state holds (a queue place, a connect slot, a lease, a tunnel) is given
    /// back or closed, once.
    func close() {
        let was = machine.close()
        if case .closed = was.phase { return }
        connector?.free()
        connector = nil
        retryPending = false
        switch consume was {
        case .queued(_, let pool):
            manager.cancelWait(pool, waiter: self)
        case .connecting(let ticket):
            manager.connectFailed(ticket)
        case .tunnelConnecting(let ticket):
            manager.connectFailed(ticket)
        case .relaying(let lease):
            release(lease, failure: .callerAborted)
        case .tunnel(let t, let lease):
            t.close()
            manager.tunnelEnded(lease)
        default:
            // Nothing held: idle, reading a head, routing, ending, closing.
            break
        }
        giveBackReplay()
        caller.close(reset: resetsCaller)
        worker.sessionEnded(self)
    }

    /// Whether the session is between requests, so shutdown may close it at once.
    var isIdle: Bool { machine.isIdle }

    /// Whether its request waits in a pool's queue (for a connection, or held by a pause).
    var isQueued: Bool { machine.queuedSince != nil }
}
