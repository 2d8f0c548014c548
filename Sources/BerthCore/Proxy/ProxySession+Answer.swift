// The one path by which berth answers a request itself, how an exchange ends on the caller side, and the teardown.
import HTTP1
import EventLoop

extension ProxySession {
    /// The most a lingering session reads before it closes, once its answer is acknowledged (nginx: a buffer a turn).
    static let lingerBytes = 64 * 1024

    /// berth answers the current request with `cause` (its status unless `status` says otherwise). Every answer
    /// of berth's own goes through here and is counted here, once: in the worker's errors and, once routed, the
    /// upstream's failures. `closeAfter` when the caller's byte stream cannot be trusted any more.
    func answer(_ cause: ErrorCause, status: Int? = nil, detail: String, closeAfter: Bool = false) {
        if case .closed = machine.phase { return }
        if exchange.responseHeadSent { return cutResponse(cause) }
        // A CONNECT or Upgrade that berth answers did not become a tunnel: the caller may already be sending the
        // tunnel's bytes, which must never be read as requests (HAProxy closes too). So the connection closes.
        // Until a head is read (a bad one, one too slow) `exchange.request` is the last request's, and none of its
        // facts applies: the answer is a whole one, and those answers close anyway.
        let headRead = !machine.awaitingHead
        let closeAfter = closeAfter || (headRead && (needsFreshConnection || exchange.request.isUpgrade))
        // A head cut short is never parsed further: it no longer counts against --head-memory, and a closing
        // session drops what the parser copied of it now rather than after its linger (up to 2 s).
        if !headRead {
            releaseHeadBytes()
            if closeAfter { parser = RequestHeadParser(limits: worker.settings.limits) }
        }
        exchange.errorCause = cause
        exchange.pool?.counters.countFailure(cause)
        worker.counters.countFailure(cause)
        // The caller's byte stream stays usable only if its whole request body was read.
        let keep = !closeAfter && exchange.callerKeepAlive && exchange.requestDone && !worker.isShuttingDown
        ErrorResponse.write(status: status ?? cause.status, cause: cause, detail: detail, keepAlive: keep,
                            keepAliveTail: headRead && exchange.request.version == .http11 ? worker.settings.keepAliveTail : 0,
                            http10Caller: headRead && exchange.request.version == .http10,
                            headOnly: headRead && exchange.request.method == .head, into: caller)
        if closeAfter {
            // A head that was read is a request, and gets its line (a refused CONNECT, say); a head that never
            // completed (bad bytes, a header timeout) has no request to describe.
            if headRead {
                _ = caller.flush()
                logAnswerEnd()
            }
            return closeAfterFlush()
        }
        endExchange(keepCaller: keep)
    }

    /// Part of the upstream's response is out and the rest will not come (a reset, a timeout, broken framing, a
    /// close-delimited body without its clean end): berth cannot answer, only make the cut impossible to miss. A
    /// chunked body shows it by its missing last chunk, so what was relayed is flushed and the connection ends with
    /// a FIN. No other framing can (Content-Length already sent, a close-delimited or de-chunked body to an
    /// HTTP/1.0 caller): that connection is reset, once its buffered bytes went to the socket (under the idle
    /// timeout, as any close after output). Bytes still in the kernel's send queue at the reset may be lost with it:
    /// the response is incomplete either way, and the reset is what tells the caller. Counted as
    /// `response-truncated`, unless the caller's own bytes broke the exchange (its chunked request body).
    func cutResponse(_ cause: ErrorCause) {
        let counted = cause == .badRequest ? cause : ErrorCause.responseTruncated
        exchange.errorCause = counted
        exchange.pool?.counters.countFailure(counted)
        worker.counters.countFailure(counted)
        worker.accessLog(self)
        giveBackReplay()
        resetsCaller = !exchange.callerFramingShowsCut
        closeAfterFlush()
    }

    /// The session ends now, at a timer, whatever it was doing: the drain timeout (`Worker`'s wake timer, its request
    /// gone to the upstream) or a caller that took nothing of its answer for the caller idle timeout. A caller still
    /// owed part of a response must see the cut, as for any other: a response under way is cut as an upstream's reset
    /// cuts it (`cutResponse`: a reset unless the caller's framing shows it), and a caller still owed the rest of an
    /// answer berth holds (a slow reader's) is reset too. A clean FIN there let an HTTP/1.0 client that read on take
    /// a close-delimited or de-chunked body cut short for a whole one (adv3). `upstream` is why a connection still
    /// leased closes. A session owed nothing, or a tunnel, closes as before. A session already closing after a cut
    /// (its head out, its end never relayed) made that cut once (`cutResponse` counted it, logged it and chose how
    /// the caller sees it): cut again, it moved from closing to closing, which traps (rev20).
    func closeCuttingAnswer(upstream: CloseReason) {
        if case .tunnel = machine.phase { return close() }
        if exchange.responseHeadSent && !exchange.responseDone {
            if machine.phase != .closing {
                abortUpstream(reason: upstream)
                cutResponse(upstream == .shutdown ? .shuttingDown : .responseTruncated)
            }
        } else if caller.pendingOutput > 0 {
            // Its answer is whole in berth, only the caller's copy is cut: `close()` says so (`tailCut`).
            resetsCaller = true
        }
        close()
    }

    /// The exchange is over on the caller side: wait for the next request, or close. Once logged, a kept caller's
    /// exchange is cleared for what comes next. The next head, if already buffered, is started by `drive()` when the
    /// current event returns, not from here.
    func endExchange(keepCaller: Bool) {
        giveBackReplay()
        let flushed = caller.flush()
        logAnswerEnd()
        guard flushed else { return close() }
        // During a drain an answer that went out keep-alive (its head left before the drain began) cannot say it is
        // the last: a request already pipelined behind it is served too, and its answer, made in the drain, carries
        // `Connection: close` (HAProxy at a soft stop does the same). With none buffered the caller closes now.
        if keepCaller && (!worker.isShuttingDown || owesPipelined) {
            exchange.reset()
            // The caller may idle for the idle timeout now: a large head's buffers go back (`HeadBuffers`), so an
            // idle caller holds a few KiB whatever heads it sent (outside head-memory, which counts unfinished ones).
            // Nothing reads either head until the next one is parsed into it.
            exchange.request.shedIfLarge()
            responseParser.shedIfLarge()
            apply(machine.nextRequest(idleTimeout: worker.settings.callerIdleTimeout))
            idleSince = worker.now
            worker.sessionIdles(self)
            caller.startReading()
        } else {
            closeAfterFlush()
        }
    }

    /// Whether the caller has sent more than berth has answered: a pipelined request, already buffered, that a drain
    /// serves (its answer saying close) rather than ending the connection after an answer that said keep-alive.
    var owesPipelined: Bool { caller.pendingInput > 0 }

    /// At a drain, a caller whose bytes since its last request are all read and are empty lines (a stray CRLF after a
    /// request, which RFC 9112 2.2 lets a server skip) has begun no request: it closes as an idle caller does. Taken
    /// for a pipelined request (`owesPipelined`), they held the drain until `header-timeout` and drew a 408 nobody
    /// asked for (review11). True when it closed.
    func closedWithNoRequestAtDrain() -> Bool {
        guard machine.awaitingHead, !machine.isIdle, caller.pendingInput == 0, parser.hasNoRequestYet else { return false }
        releaseHeadBytes()
        parser.reset()
        apply(machine.noHeadBegun(idleTimeout: worker.settings.callerIdleTimeout))
        closeAfterFlush()
        return true
    }

    /// The exchange is over: its replay copy, if any, goes back to the worker's store for the next request.
    @inline(__always)
    func giveBackReplay() {
        if case .holding = exchange.replay { exchange.dropReplay(into: worker.replay, because: nil) }
    }

    /// Closes once the output has left, lingering first if the caller may still be sending (`linger`).
    func closeAfterFlush() {
        caller.stopReading()
        // The caller may have bytes berth never read: ones buffered, the rest of a head it answered (a bad one, a
        // header timeout) or of a body it did not wait for. Not after its FIN (all it sent was read), nor before a
        // reset, nor between requests (an idle close, a drain).
        var mayBeSending = caller.pendingInput > 0
        var bodyComing = false
        switch machine.phase {
        case .readingHead: mayBeSending = true
        case .idle: break
        default:
            bodyComing = !exchange.requestDone
            mayBeSending = mayBeSending || bodyComing
        }
        lingerLeft = mayBeSending && !resetsCaller && !exchange.callerSendingEnded ? ProxySession.lingerBytes : 0
        // The long linger over a body (`lingerGap`, up to 30 s) is for an upload behind an early answer; a caller whose
        // own pace or bytes drew the answer (a header or trailer timeout, a broken body) gets the short one.
        let callersFault = exchange.errorCause == .headerTimeout || exchange.errorCause == .badRequest
        lingerDrainsBody = bodyComing && lingerLeft > 0 && !callersFault
        // A failed flush leaves nothing worth waiting for.
        let left = caller.pendingOutput > 0 && caller.flush() && caller.pendingOutput > 0
        if !left { tailLeft() }
        switch machine.closing(outputPending: left, idleTimeout: worker.settings.callerIdleTimeout) {
        case .now: lingerOrClose()
        case .afterFlush(let timer): apply(timer)
        }
    }

    /// The closing session's output has left: it closes, or lingers first when the caller may still be sending.
    /// A close over unread input sends a reset, and a reset can destroy berth's last answer in the caller's kernel
    /// before it is read; so, as nginx's lingering close, the sending side is shut (the caller reads the answer and
    /// a FIN) and what the caller still sends is read and dropped, until its FIN, `lingerBytes`, or the linger timer.
    /// An answer still in the kernel's send queue (a large one the caller has not read yet) dies with that reset
    /// too, and the caller's next bytes draw one even after a clean close: so the session also lingers while its
    /// answer is in flight, whatever it read (nginx lingers only on unread input, and loses such an answer).
    func lingerOrClose() {
        guard caller.pendingOutput == 0 else { return close() }
        if lingerLeft == 0 && !resetsCaller && !exchange.callerSendingEnded && Socket.queuedToSend(caller.fd) > 0 {
            lingerLeft = ProxySession.lingerBytes
        }
        guard lingerLeft > 0 else { return close() }
        caller.shutdownWrite()
        caller.discardInput()
        let idle = worker.settings.callerIdleTimeout
        if lingerDrainsBody { lingerEnds = SessionMachine.lingerEnds(now: worker.now, idleTimeout: idle) }
        apply(SessionMachine.lingering(idleTimeout: idle, overBody: lingerDrainsBody))
        caller.startReading()
        worker.sessionLingers(self)
    }

    /// Whether the session only lingers: its last answer has left, and it reads and drops what its caller still sends.
    var isLingering: Bool { machine.phase == .closing && lingerLeft > 0 && caller.pendingOutput == 0 }

    /// Whether ending the linger now would reset away an answer still in flight: its caller has kept sending while it
    /// lingered (the rest of an upload behind an early answer) and the kernel still holds some of the answer. Such a
    /// session does not give way at the caller limit (review9) for the linger's first `lingerLimit` (2 s, every
    /// linger's bound before linger2): a linger over a body lasts up to 30 s, and callers that neither read nor stop
    /// sending would hold every slot that long.
    var lingerGuardsAnswer: Bool {
        lingerLeft < ProxySession.lingerBytes && Socket.queuedToSend(caller.fd) > 0
            && SessionMachine.lingerGuards(now: worker.now, ends: lingerEnds, idleTimeout: worker.settings.callerIdleTimeout)
    }

    /// Whether the session is idle as nginx's "reusable" connections are: no request in progress (none yet, or
    /// between requests), nothing of the next one buffered and nothing of the last answer still to send.
    var isReclaimable: Bool { machine.isIdle && caller.pendingInput == 0 && caller.pendingOutput == 0 }

    /// Closes an idle session for a new caller at the limit (`Worker.closeOldestIdle`), with a FIN, unless its caller
    /// has sent bytes berth has not read yet: those are a request under way, which is never cut for this. True when
    /// it closed.
    func closeIdle() -> Bool {
        guard isReclaimable, Socket.queuedToRead(caller.fd) == 0 else { return false }
        close()
        return true
    }

    /// Ends the linger early, for a new caller at the limit (`Worker.accept`): what the caller sent so far is read and
    /// dropped first, so the close is a FIN over an empty receive queue, not a reset.
    func endLinger() {
        _ = caller.read()
        caller.discardInput()
        close()
    }

    /// A lingering session read more of its caller's bytes (all its input: each read is dropped): they are dropped,
    /// and past the budget the session closes, unless its answer is still in flight, or the bytes are the rest of a
    /// request body behind an early answer (`lingerDrainsBody`): a close then would reset the answer away, in the
    /// kernel or in a client that reads only once its body is written, so the reading goes on, each read giving it
    /// another `lingerGap` up to the linger's end (`lingerEnds`). A read before the answer left (a turn scheduled
    /// earlier) is only dropped.
    func lingered() {
        let n = caller.pendingInput
        caller.discardInput()
        guard caller.pendingOutput == 0 else { return }
        // More of the body: another gap before the silence that ends the linger (within its end).
        if lingerEnds != 0 && n > 0 {
            apply(SessionMachine.lingeredOverBody(now: worker.now, ends: lingerEnds, idleTimeout: worker.settings.callerIdleTimeout))
        }
        lingerLeft -= n
        guard lingerLeft <= 0 else { return }
        guard lingerDrainsBody || Socket.queuedToSend(caller.fd) > 0 else { return close() }
        lingerLeft = 1  // still lingering (`isLingering`): the next read checks again
    }

    /// Gives a lease back after a failed or abandoned exchange: it closes with `failure` as the gate's reason.
    func release(_ lease: consuming UpstreamLease, failure: CloseReason) {
        let up = lease.conn
        up.channel.clearTimeout()
        let facts = ReleaseFacts(responseComplete: false, requestComplete: exchange.requestDone, keepAlive: false, failure: failure,
                                 requestsServed: up.requestsServed, openedAt: up.openedAt, epoch: up.epoch)
        // A fresh read: close() also comes from the worker's drain timer and shutdown, outside any session event.
        manager.release(lease, facts: facts, now: MonotonicClock.now())
    }

    /// Closes the current upstream connection, if relaying, through the gate with `reason`; with `rerouting` the
    /// request goes back to routing (a retry), else the exchange is ending (berth answers it).
    func abortUpstream(reason: CloseReason, rerouting: Bool = false) {
        guard let lease = machine.takeLease(rerouting: rerouting) else { return }
        release(lease, failure: reason)
    }

    /// The drain ran out with this session's request gone out or its tunnel open: berth cuts it. A tunnel is reset
    /// both ways, since a FIN is what a peer that finished sends (a close-delimited answer inside it looked whole, and
    /// the origin read the upload as ended); a response is cut as `closeCuttingAnswer` says.
    func cutAtDrainEnd() {
        guard let t = machine.state.tunnel else { return closeCuttingAnswer(upstream: .shutdown) }
        t.resetsPeer = true
        resetsCaller = true
        close()
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
        releaseHeadBytes()
        // Closed mid-response (the drain ran out, the caller stopped reading for the idle timeout): as in
        // `cutResponse`, a body whose framing cannot show the cut is reset, or an HTTP/1.0 caller takes the FIN for
        // its close-delimited body's end (adv4). So is a close that drops bytes berth still held for the caller, the
        // tail of an answer whose upstream had finished: a FIN after them would pass for the end.
        if case .streaming = exchange.response, !exchange.callerFramingShowsCut { resetsCaller = true }
        if caller.pendingOutput > 0 { resetsCaller = true }
        tailCut()
        caller.close(reset: resetsCaller)
        worker.sessionEnded(self)
    }
}
