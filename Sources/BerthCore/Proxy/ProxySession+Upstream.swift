// The upstream half of an exchange: send the head, stream both bodies with backpressure, release through the gate, retry once.
import Glibc
import HTTP1
import EventLoop

extension ProxySession {
    /// Sends the current request on the leased connection and starts relaying. The connection is reached through
    /// the lease (a borrow), not copied out of it: a copy would cost a retain and a release per request.
    func send(on lease: consuming UpstreamLease, reused: Bool) {
        let now = worker.now
        lease.conn.leaveIdle(to: self)
        lease.conn.requestsServed += 1
        exchange.reused = reused
        exchange.facts.sent(openedAt: lease.conn.openedAt, epoch: lease.conn.epoch, reused: reused, idleSince: lease.idleSince, now: now)
        machine.relaying(lease)
        // The head goes out from where it lies: the request in the exchange, the Host value in the route cache
        // (both passed inout, no copy) and the channel borrowed from the lease the state now holds.
        let written = machine.state.withRelayedChannel { channel in
            let written = channel.writeInPlace { worker.writeForwardRequest(&exchange.request, host: &route.hostValue, reserve: $0) }
            if written, exchange.retried, case .holding(let copy) = exchange.replay {
                // A replay: the body bytes the stale connection took go out again from the copy; never a third time.
                channel.write(moving: copy.bytes)
                exchange.dropReplay(into: worker.replay, because: nil)
            }
            return written
        } ?? false
        // Out of memory for a head: nothing may follow it on this connection, and the caller gets a closed one.
        guard written else { return close() }
        exchange.sentAt = now
        exchange.upstreamUnflushed = true
        responseParser.reset()
        // The socket timeout runs from the send. A reused connection is already read (idle connections are watched
        // for the server's close), so the relay's flow control would never arm it.
        _ = machine.state.withRelayedChannel { channel in
            if !armDeadPeerCheck(on: channel, reused: reused, now: now) { channel.setTimeout(exchange.socketTimeout, now: now) }
        }
        relay()
    }

    /// One turn of the relay (RelayDriver over the caller and the leased connection), then what its end asks.
    func relay(from first: RelayStep? = nil) {
        let turn = machine.state.withRelayedChannel { upstream in
            RelayDriver.run(&exchange, parser: &responseParser, caller: caller, upstream: upstream, host: self, from: first)
        }
        guard let outcome = turn else { return }
        switch outcome {
        case .wait:
            break
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
            up.scheduleRead()
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
            answer(.badRequest, detail: "invalid chunked request body: \(error)")
        case .retry(let reason):
            abortUpstream(reason: .error, rerouting: true)
            retry(reason)
        case .upgrade:
            startUpgrade()
        case .callerFailed:
            close()
        }
    }

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
                ended = exchange.upstreamEnded(policy: exchange.replayPolicy, clean: false)
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
            ended = exchange.upstreamEnded(policy: exchange.replayPolicy, clean: clean)
        }
        relay(from: ended)
    }

    /// The response ended: the connection goes through the release gate, and the caller gets its next turn.
    func finishExchange(extraBytes: Bool) {
        guard let lease = machine.takeLease() else { return }
        lease.conn.channel.clearTimeout()
        // An answer that ended where a full read did may have bytes behind it still in the kernel: they are looked
        // for (one more read) before the connection can take another request (a pipelined one, in this very turn),
        // which would take them for its answer.
        var extra = extraBytes
        if _slowPath(lease.conn.channel.lastReadFilled) && !extra { extra = lease.conn.channel.holdsMoreThanRead() }
        // Bytes after the end of the response are a protocol error: that connection is never reused. Nor is one whose
        // end showed before the relay finished the bytes that came ahead of it (a FIN read after them, as in
        // `upstreamReadable`, or a failed write after an answer the peer sent before its reset): pooled, it would
        // take the next request (a pipelined one, in this very turn) and reset it.
        let keepAlive = exchange.responseKeepAlive && !lease.conn.channel.endSeen
        let facts = ReleaseFacts(
            responseComplete: exchange.responseDone, requestComplete: exchange.requestDone, keepAlive: keepAlive,
            failure: extra ? .error : nil, requestsServed: lease.conn.requestsServed, openedAt: lease.conn.openedAt,
            epoch: lease.conn.epoch, keepAliveTimeout: exchange.upstreamKeepAliveTimeout)
        if extra { worker.counters[.responsesWithExtraBytes] &+= 1 }
        manager.release(lease, facts: facts, now: worker.now)
        endExchange(keepCaller: exchange.callerKeepAlive)
    }

    /// A reused connection died before any response byte (or its peer never acknowledged the request): the request
    /// goes again on a fresh connection, once. The pool is asked by the session's action loop (`drive()`), after the
    /// relay or timeout that found the death has returned, so a retry never runs inside the relay.
    func retry(_ reason: RetryReason) {
        exchange.retry = reason
        exchange.reused = false
        exchange.responseBytes = 0
        exchange.pool?.counters.countRetry(reason)
        retryPending = true
    }

    func upstreamTimedOut() {
        if exchange.deadPeerWatch, let up = machine.state.connection, deadPeerTimedOut(up.channel) { return }
        if let up = machine.state.connection, upstreamStillTakes(up.channel) { return }
        let seconds = Double(exchange.socketTimeout) / 1e9
        let upstream = exchange.key?.description ?? "upstream"
        abortUpstream(reason: .error)
        // The timer measures silence both ways while a request body is due: name the side that went quiet too.
        let detail = exchange.requestDone ? "no data from \(upstream) for \(seconds)s"
            : "the request body stalled: nothing from the caller, and no data from \(upstream), for \(seconds)s"
        answer(.readTimeout, detail: detail)
    }

    /// At the socket timeout: whether the upstream is still taking bytes berth sent it (what berth wrote and it has
    /// not acknowledged shrank since the last look), so the silence is not its own and the timeout starts again.
    /// Bytes handed to the kernel at once raise no write event, so they are looked at here, on this rare path
    /// rather than at every write. The first look has nothing to compare with, so it gives one more whole timeout
    /// to show progress in (a shorter look would cut an upstream that reads in bursts): a truly silent upstream
    /// with bytes still queued to it times out after two timeouts, one with nothing queued after one. Progress is
    /// the acknowledged bytes, not the ACKs themselves: a frozen container's kernel still answers window probes.
    private func upstreamStillTakes(_ channel: Channel) -> Bool {
        let backlog = channel.unacknowledgedOutput
        let last = exchange.upstreamBacklog
        exchange.upstreamBacklog = backlog
        guard backlog > 0, last == 0 || backlog < last else { return false }
        channel.setTimeout(exchange.socketTimeout, now: worker.now)
        return true
    }

    /// The upstream took part of the output it had pushed back: it is alive, so the socket timeout starts again
    /// (it measures silence, and a slow reader is not a silent one), and the relay looks at flow control again.
    func upstreamTookBytes() {
        guard let up = machine.state.connection, up.channel.reading else { return }
        up.channel.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
        relay()
    }

    func upstreamDrained() {
        guard let up = machine.state.connection else { return }
        // A failed write ends nothing by itself: the upstream's read side says what it sent before (RelayDriver).
        if up.channel.writeError != 0 { return relay() }
        up.channel.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
        relay()
    }
}

extension ProxySession: RelayHost {
    var highWater: Int { worker.settings.highWater }
    var maxPipelinedInput: Int { worker.settings.maxPipelinedInput }
    var limits: HTTP1Limits { worker.settings.limits }
    var shuttingDown: Bool { worker.isShuttingDown }
    var callerIdleTimeout: Nanos { worker.settings.callerIdleTimeout }
    var now: Nanos { worker.now }
    var stepsPerEvent: Int { worker.settings.relayStepsPerEvent }
    var forwardOptions: ForwardOptions { worker.settings.forward }
    var keepAliveTail: UInt64 { worker.settings.keepAliveTail }
    var replay: ReplayStore { worker.replay }
    func writeResponseHead<C: RelayChannel>(_ parser: borrowing ResponseHeadParser, version: HTTPVersion, keepAlive: Bool,
                                            to caller: C) -> Bool {
        worker.writeForwardResponse(parser, version: version, keepAlive: keepAlive, to: caller)
    }
}
