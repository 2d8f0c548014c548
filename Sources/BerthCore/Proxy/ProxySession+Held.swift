// The relay's work the machine leaves to the session: a response head's deadline, and a request's held last chunk.
import HTTP1
import EventLoop

extension ProxySession {
    /// The relay waits, maybe with a response head not whole yet, or with a chunked request body stopped before its
    /// last chunk. The head gets its deadline (`response-head-timeout` from the first turn that found it partial)
    /// and the upstream's timer is kept within it, however the head drips. The request's last chunk goes once its
    /// whole trailer section is in, rewritten (the fields no trailer may carry left out), so an origin never sees a
    /// last chunk the caller did not finish; a size with leading zeros split across reads goes on as an ordinary
    /// chunk. The held bytes restart the socket timeout as they arrive, within `header-timeout` in all. Each relay
    /// turn started here moves bytes, and a second held line needs a second block boundary in the buffered input;
    /// past a few the rest waits for the next loop turn (a read is scheduled), so nothing recurses deeply. Out of
    /// line: most exchanges never come here.
    @inline(never)
    func relayHeld() {
        if responseParser.hasPartialHead && exchange.headDeadline == 0 {
            exchange.headDeadline = worker.now + worker.settings.responseHeadTimeout
        }
        // A partial head's deadline, or a held trailer section's (set by the relay machine).
        if exchange.headDeadline != 0 {
            _ = machine.state.withRelayedChannel { up in
                if up.reading { up.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now) }
            }
        }
        guard case .chunked(var decoder) = exchange.requestBody, decoder.isHoldingLastChunk,
              let all = caller.inputPulledUp() else { return }
        guard heldDepth < 4 else { return caller.scheduleRead() }
        let read = decoder.heldBytesRead
        let step: RelayStep?
        do {
            switch try decoder.takeHeldLine(all) {
            case .needMore:
                // Kept: the next ask goes on where this one stopped.
                exchange.requestBody = .chunked(decoder)
                if decoder.heldBytesRead > read { heldLineGrew() }
                return
            case .chunk(let line):
                exchange.trailerDeadline = 0
                exchange.requestBody = .chunked(decoder)
                step = .sendBody(line, flush: true)
            case .lastChunk(let n):
                exchange.trailerDeadline = 0
                guard sendRequestTrailer(n) else { return }
                exchange.requestBody = .done
                step = nil
            }
        } catch {
            step = .invalidRequestBody(error)
        }
        heldDepth += 1
        relay(from: step)
        heldDepth -= 1
    }

    /// The caller's held line (and section) took more bytes: progress, as body bytes are (the socket timeout is the
    /// longest silence in either direction; a section dripped under it was cut as a stalled body), so the upstream's
    /// timer starts again, within the held section's own bound. That bound is `header-timeout` from the first
    /// bytes: a trailer section is a header section the caller sends, and the caller's head has the same one (as
    /// the upstream's trailer section has the upstream's head's, `response-head-timeout`). HAProxy and nginx bound
    /// a request's trailer only per silence (`timeout client`, `client_body_timeout`).
    private func heldLineGrew() {
        if exchange.trailerDeadline == 0 { exchange.trailerDeadline = worker.now + worker.settings.headerTimeout }
        _ = machine.state.withRelayedChannel { up in
            if up.reading { up.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now) }
        }
    }

    /// The request's last chunk and trailer section, the first `n` buffered caller bytes, go to the upstream
    /// rewritten, and into the replay copy as they went, so that a replay sends the same bytes. False when there is
    /// no upstream to send them to.
    private func sendRequestTrailer(_ n: Int) -> Bool {
        guard let up = machine.state.connection?.channel, let all = caller.inputPulledUp() else { return false }
        var copy: ReplayBuffer?
        if case .holding(let c) = exchange.replay { copy = c }
        let limit = worker.replay.limit
        var sent = 0
        var kept = true
        TrailerFields.rewrite(UnsafeRawBufferPointer(rebasing: all[..<n]), renamingBerthError: false) { piece in
            up.write(piece)
            sent += piece.count
            if let copy, kept { kept = copy.count + piece.count <= limit && copy.bytes.append(piece) }
        }
        caller.drainInput(n)
        exchange.requestBodyBytes += UInt64(sent)
        exchange.upstreamUnflushed = true
        // The request's end is progress too: the origin's time to answer counts from here, as after a body's last
        // bytes (`sendBody`). Left running, the timer from the body's last chunk cut an origin answering in time.
        if up.reading { up.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now) }
        if copy != nil && !kept {
            exchange.dropReplay(into: worker.replay, because: .bodyTooLarge)
            exchange.pool?.counters.countReplaySkip(.bodyTooLarge)
        }
        return true
    }

    /// The caller's held last chunk and trailer section dripped past `header-timeout` from its first bytes, each
    /// under the socket timeout: the caller gets 408 `header-timeout` (counted in the errors; `header_timeouts`
    /// counts request heads only) and is closed, or with an answer already going out, a cut (`response-truncated`);
    /// the upstream, which never saw the last chunk, is closed mid-body, a cut it cannot take for a whole request.
    func requestTrailerTimedOut() {
        let seconds = Double(worker.settings.headerTimeout) / 1e9
        abortUpstream(reason: .requestIncomplete)
        answer(.headerTimeout, detail: "no whole trailer section from the caller within \(seconds)s of its last chunk (header-timeout)",
               closeAfter: true)
    }

    /// A response head, or a held last chunk's trailer section, dripped past `response-head-timeout` from the turn
    /// that first found it partial, each byte under the socket timeout: the caller gets 504 `read-timeout` (the head
    /// never went out) or, after the head, a cut (no last chunk, counted `response-truncated`); the connection,
    /// mid-message, is closed.
    func responseHeadTimedOut() {
        let seconds = Double(worker.settings.responseHeadTimeout) / 1e9
        let upstream = exchange.key?.description ?? "upstream"
        abortUpstream(reason: .error)
        answer(.readTimeout, detail: "no whole response head from \(upstream) within \(seconds)s of its first byte (response-head-timeout)")
    }
}
