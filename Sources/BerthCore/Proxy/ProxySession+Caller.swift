// The caller's side off the common path (its FIN, timer, drain, input held while a request waits), and idle/queued.
import Glibc
import HTTP1
import EventLoop

extension ProxySession {
    /// Stops reading a caller that sends ahead more than berth buffers; reading resumes with the next head, or when
    /// the relay starts. Until then a request body still due has nowhere to go but the input, so the input counts as
    /// the upstream's output: a body streamed while its request waits (a pause may hold it for hours) stays under
    /// high water instead of filling memory.
    func holdPipelinedInput() {
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
    func callerEnded() {
        switch machine.phase {
        case .routing, .acquiring, .connecting, .exchanging:
            guard exchange.requestDone || exchange.requestBody.isSettled(byBuffered: caller.pendingInput, whole: caller.inputPulledUp) else {
                return callerLeft()
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

    /// The caller reset its connection while its exchange, answered and its request whole, waits for the request's
    /// tail to leave berth (`holdsRequestTail`). That upload is berth's to deliver whatever the caller does after its
    /// answer: closed now, the session aborted the upstream with the tail still in berth, and the origin read the body
    /// cut short (rev19; a FIN, `callerEnded`, already waited). Nothing more is read or kept for the caller; the
    /// wait's end (the tail gone, or given up on) releases the connection and closes the session.
    func callerResetDuringTail() {
        caller.stopReading()
        exchange.callerKeepAlive = false
        exchange.callerSendingEnded = true
    }

    /// The caller reset its connection, or its write failed, or its FIN cut its request: the session closes. An
    /// exchange under way (routed, queued, connecting, relaying) that had not been answered yet gets its access
    /// line now, saying `caller-aborted` with what was relayed so far, and /stats counts it once as the line says
    /// (nginx logs 499; HAProxy a `CD` termination state). Before, such a request left no line and no count.
    func callerLeft() {
        switch machine.phase {
        case .routing, .acquiring, .connecting, .exchanging:
            guard exchange.errorCause == nil, !exchange.responseDone else { break }
            exchange.errorCause = .callerAborted
            exchange.pool?.counters.countFailure(.callerAborted)
            worker.counters.countFailure(.callerAborted)
            worker.accessLog(self)
        default:
            break
        }
        close()
    }

    /// The caller's one timer fired: the machine says what it means (a header timeout, idle, an acquire timeout).
    func callerTimedOut() {
        switch machine.timedOut(now: worker.now) {
        case .headerTimeout:
            // Slowloris: a head that dribbles in is cut off, whatever its pace.
            worker.counters[.headerTimeouts] &+= 1
            let seconds = Double(worker.settings.headerTimeout) / 1e9
            answer(.headerTimeout, detail: "no whole request head within \(seconds)s of its first byte (header-timeout)", closeAfter: true)
        case .close:
            // Idle between requests, or a caller that stopped reading what berth has for it: the upstream is aborted,
            // and an answer the caller was still owed is cut visibly.
            closeCuttingAnswer(upstream: .callerAborted)
        case .acquireTimedOut(let waited):
            acquireTimedOut(waited: waited)
        case .ignore:
            break
        }
    }

    /// The caller's output drained: a closing session closes, an exchange relays on, a session between heads reads.
    func callerDrained() {
        // The write failed (the caller reset): what berth holds for it never leaves, and nothing else would see it
        // before the caller idle timeout, whose close this is, made now. The relay waits for the output to drain,
        // which the failure does not change, and a session owing a tail with a head buffered reads nothing
        // (`parseHeads`): the caller's slot, the upstream's connection and the line were held until then (rev22).
        // An upload berth still owes the origin goes on, as at a reset read (`callerResetDuringTail`). The caller
        // left as at a reset read (`callerLeft`): an answer still being relayed is `caller-aborted`, and only one
        // berth holds whole, whose tail is cut, `response-truncated` (`close()`'s `tailCut`); the timeout's own
        // close said `response-truncated` for both (rev23).
        if _slowPath(caller.writeError != 0) {
            guard exchange.holdingTail else { return callerLeft() }
            callerResetDuringTail()
        }
        // An owed answer's tail is all in the kernel now.
        if _slowPath(tail.owed) { tailLeft() }
        switch machine.phase {
        case .closing:
            lingerOrClose()
        case .exchanging:
            // The relay reads the upstream again once the caller's output is under high water.
            relay()
        case .idle, .readingHead:
            // Answers backed up past high water stopped the reading (`parseHeads`); `drive()` starts the buffered heads.
            caller.startReading()
            worker.sessionIdles(self)
        default:
            break
        }
    }
}

extension ProxySession {
    /// Whether the session is between requests, so shutdown may close it at once.
    var isIdle: Bool { machine.isIdle }

    /// Whether its request waits in a pool's queue (for a connection, or held by a pause).
    var isQueued: Bool { machine.queuedSince != nil }
}
