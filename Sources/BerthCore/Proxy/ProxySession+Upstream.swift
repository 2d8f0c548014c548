// The upstream half of an exchange: send the head on the lease, retry once, and the upstream's timeouts.
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
        // The head goes out from where it lies: the request in the exchange, the Host value in the route cache
        // (both passed inout, no copy) and the channel borrowed from the lease, before the lease moves into the
        // state (so the send's own helpers run before it calls the machine).
        let maxForwards = exchange.maxForwards
        let sent = lease.withChannel { channel -> RelayStep?? in
            let written = channel.writeInPlace { reserve in
                worker.withForwardOptions {
                    ProxySession.serialize(&exchange.request, host: &route.hostValue, options: &$0, maxForwards: maxForwards, reserve: reserve)
                }
            }
            // Out of memory for a head: nothing may follow it on this connection.
            guard written else { return .none }
            if exchange.retried, case .holding(let copy) = exchange.replay {
                // A replay: the body bytes the stale connection took go out again from the copy; never a third time.
                channel.write(moving: copy.bytes)
                exchange.dropReplay(into: worker.replay, because: nil)
            }
            exchange.sentAt = now
            exchange.upstreamUnflushed = true
            responseParser.reset()
            // The socket timeout runs from the send. A reused connection is already read (idle connections are
            // watched for the server's close), so the relay's flow control would never arm it.
            if !armDeadPeerCheck(on: channel, reused: reused, now: now) { channel.setTimeout(exchange.socketTimeout, now: now) }
            return .some(awaitResponse(on: channel))
        }
        machine.relaying(lease)
        // The caller gets a closed connection after a head that could not be written. The lease, now in the state,
        // goes back through the gate as `request-incomplete` (the request did not go out), not as close()'s
        // `caller-aborted`: the caller did not leave.
        guard let next = sent else {
            abortUpstream(reason: .requestIncomplete)
            return close()
        }
        guard let first = next else { return relay() }
        if first != .wait { relay(from: first) }
    }

    /// The relay's first turn when the request leaves it nothing to move, carried out here: no body is due and
    /// nothing is buffered on either side, and the caller's reading and output already stand as the relay's flow
    /// control wants them (`Exchange.nextStep`). Then that turn would only flush the head and read the upstream for
    /// the answer, so the send does both, and the relay starts on the upstream's first readable event. Returns
    /// `.wait` when done; nil when the relay's turn must run (it has more to do); a step to run the turn from (the
    /// one a failed flush leads to, as in `RelayDriver`'s `flushUpstream`).
    private func awaitResponse(on up: Channel) -> RelayStep? {
        guard exchange.requestDone, caller.pendingInput == 0, up.pendingInput == 0, !exchange.callerUnflushed,
              caller.reading != exchange.callerSendingEnded, caller.pendingOutput <= worker.settings.highWater else { return nil }
        exchange.upstreamUnflushed = false
        guard up.flush() else { return exchange.upstreamWriteFailed() }
        if !up.reading {
            up.startReading()
            up.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
            apply(SessionMachine.upstreamFlowing)
        }
        return .wait
    }

    /// The request head's serializer, called with `inout` values: an inout value is the caller's alone for the call,
    /// so it is passed borrowed, where a value read out of a class (the session, the worker) is copied first, each
    /// array in it retained and released, since the callee could change that class.
    @inline(never)
    private static func serialize(_ request: inout RequestHead, host: inout String, options: inout ForwardOptions,
                                  maxForwards: Int, reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        if _slowPath(maxForwards >= 0) { return serializeCountingDown(request, host: host, options: options, maxForwards: maxForwards, reserve: reserve) }
        return HeadSerializer.writeForwardRequest(&request, host: host, options: options, reserve: reserve)
    }

    /// A TRACE or OPTIONS with `Max-Forwards` (`takeMaxForwards`): the caller's line is left out and the decremented
    /// value goes out in its place. Out of line, with its own copy of the options: rare, and never on the hot path.
    @inline(never)
    private static func serializeCountingDown(_ request: RequestHead, host: String, options: ForwardOptions, maxForwards: Int,
                                              reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        var o = options
        o.alsoDrop = o.alsoDrop + ["max-forwards"]
        o.maxForwards = maxForwards
        var r = request
        return HeadSerializer.writeForwardRequest(&r, host: host, options: o, reserve: reserve)
    }

    /// A reused connection died before any response byte (or its peer never acknowledged the request): the request
    /// goes again on a fresh connection, once. The pool is asked by the session's action loop (`drive()`), after the
    /// relay or timeout that found the death has returned, so a retry never runs inside the relay.
    func retry(_ reason: RetryReason) {
        exchange.retry = reason
        exchange.reused = false
        exchange.responseBytes = 0
        // The dead-peer check belonged to the connection that died: left armed, the fresh one's deadline would come
        // from its passed time (1 ns at each body byte) and its acknowledged bytes would be compared with what the
        // dead one had sent before, finding "none acknowledged" on a peer that read the request.
        exchange.deadPeerWatch = false
        exchange.awaitingReset = false
        exchange.upstreamBacklog = 0
        exchange.pool?.counters.countRetry(reason)
        retryPending = true
    }

    /// The upstream took part of the output it had pushed back: it is alive, so the socket timeout starts again
    /// (it measures silence, and a slow reader is not a silent one), and the relay looks at flow control again.
    func upstreamTookBytes() {
        guard let up = machine.state.connection, up.channel.reading else { return }
        up.channel.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
        relay()
    }

    /// The upstream's output drained (or its write failed): the socket timeout restarts and the relay goes on.
    func upstreamDrained() {
        guard let up = machine.state.connection else { return }
        // A failed write ends nothing by itself: the upstream's read side says what it sent before (RelayDriver).
        if up.channel.writeError != 0 { return relay() }
        up.channel.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
        relay()
    }

    func upstreamTimedOut() {
        if _slowPath(exchange.headIsLate(now: worker.now)) { return responseHeadTimedOut() }
        if _slowPath(exchange.trailerIsLate(now: worker.now)) { return requestTrailerTimedOut() }
        if exchange.deadPeerWatch, let up = machine.state.connection, deadPeerTimedOut(up.channel) { return }
        if let up = machine.state.connection, upstreamStillTakes(up.channel) { return }
        // The answer is whole and only the request's tail was waiting to leave (`holdsRequestTail`): the connection
        // closes without it, and the caller, answered, goes on.
        if _slowPath(exchange.responseDone) { return finishExchange(extraBytes: false, givingUp: true) }
        if _slowPath(!exchange.continueSent), let up = machine.state.connection, continuesForCaller(up.channel) { return }
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
        // Never past a held deadline: a held trailer section was cut a socket timeout late while an upload drained.
        channel.setTimeout(exchange.timeoutAfterLook(now: worker.now), now: worker.now)
        return true
    }
}

extension PoolLedger.Lease where Conn == UpstreamConnection {
    /// Lends the leased connection's channel to `body` from the lease, borrowed: read through a lease the session
    /// owns (`send`'s consuming parameter) it was retained and released around the write.
    @inline(__always)
    func withChannel<R>(_ body: (Channel) -> R) -> R {
        body(conn.channel)
    }
}
