// The dead-peer check of a request sent on a reused connection: a timer, one TCP_INFO look when it fires, a retry.
import EventLoop

extension ProxySession {
    /// Arms the check at send on a reused connection: the channel's one deadline comes early (the dead-peer
    /// timeout), and the first response byte moves it back to the socket timeout without a system call. Fresh
    /// connections just completed a handshake, so their peer is known to be there. A socket timeout not above the
    /// dead-peer timeout (a destination's, or a `Berth-Socket-Timeout`) has no early look: the look is made when
    /// the socket timeout fires instead (`deadPeerAt` 0), if that is not sooner than `DeadPeer.soonestLook`, since
    /// before it a live peer's kernel may not have acknowledged yet. Without it a vanished peer was a 504 after two
    /// timeouts.
    @inline(__always)
    func armDeadPeerCheck(on channel: Channel, reused: Bool, now: Nanos) -> Bool {
        let after = worker.settings.deadPeerTimeout
        guard reused, after > 0 else { return false }
        let early = after < exchange.socketTimeout
        guard early || exchange.socketTimeout >= DeadPeer.soonestLook else { return false }
        exchange.deadPeerWatch = true
        exchange.deadPeerAt = early ? now + after : 0
        exchange.sentBefore = channel.bytesHandedToKernel
        // The head is all the channel holds here: written by `send`, not flushed yet.
        exchange.sentHead = UInt64(channel.pendingOutput)
        exchange.ackedAtLook = 0
        exchange.headLeftAtLook = false
        if case .off = exchange.replay, !exchange.requestDone, exchange.replayPolicy != .unread, worker.settings.deadPeerRetry, let pool = exchange.pool {
            takeReplayCopy(pool)
        }
        channel.setTimeout(early ? after : exchange.socketTimeout, now: now)
        return true
    }

    /// The channel's deadline fired while the check is armed (at the dead-peer timeout, or at the socket timeout if
    /// request bytes moved it): one look at the kernel's counts. True when it handled the timeout.
    func deadPeerTimedOut(_ channel: Channel) -> Bool {
        if exchange.awaitingReset {
            resetWaitEnded(channel)
            return true
        }
        let view = channel.ackView()
        // An ACK still on its way back, or lost and not yet asked for again by a retransmission, cannot be told from
        // none: an early look comes again when it could be back (before the socket timeout, else at it); one at the
        // socket timeout keeps the usual rules (a 504).
        if let view {
            let due = DeadPeer.judgeableAt(view, sentAt: exchange.sentAt, now: worker.now)
            if due - worker.now > Exchange.lateSlack {
                let end = exchange.sentAt + exchange.socketTimeout
                guard exchange.deadPeerAt != 0, end - worker.now > Exchange.lateSlack else {
                    exchange.deadPeerWatch = false
                    return false
                }
                exchange.deadPeerAt = due < end ? due : 0
                channel.setTimeout((due < end ? due : end) - worker.now, now: worker.now)
                return true
            }
        }
        exchange.deadPeerWatch = false
        let handed = channel.bytesHandedToKernel
        switch DeadPeer.judge(view, sentBefore: exchange.sentBefore, headBytes: exchange.sentHead, handed: handed,
                              lastLook: exchange.ackedAtLook, headLeftAtLastLook: exchange.headLeftAtLook) {
        case .unacknowledged:
            deadPeerFound(what: "none of the request")
            return true
        case .headPartly(stalled: true):
            deadPeerFound(what: "only part of the request head, then nothing more")
            return true
        case .headPartly(stalled: false) where lookAgain(channel, view: view, handed: handed):
            return true
        case .acknowledged, .unknown, .headPartly:
            // A live peer that is slow to answer: the rest of the socket timeout, as for any request (a look made at
            // the socket timeout itself has none left).
            guard exchange.deadPeerAt != 0 else { return false }
            let rest = exchange.sentAt + exchange.socketTimeout - worker.now
            guard rest > 0 else { return false }
            channel.setTimeout(min(rest, exchange.timeoutAfterLook(now: worker.now)), now: worker.now)
            return true
        }
    }

    /// Part of the head is acknowledged, and the peer may still be taking it (more since the last look, or its end
    /// sent since): another look one dead-peer timeout and a round trip on, if the early check was armed and the socket timeout
    /// leaves room for it. False when there is none to make (today's rules go on: a look at the socket timeout has
    /// no earlier one to compare with). What this look saw is kept for the next: the bytes acknowledged, and whether
    /// the head's end had certainly left (never certain on TLS, whose records outgrow the head's plaintext).
    private func lookAgain(_ channel: Channel, view: TCPAckView?, handed: UInt64) -> Bool {
        let after = worker.settings.deadPeerTimeout
        guard let view, exchange.deadPeerAt != 0, exchange.sentAt + exchange.socketTimeout - worker.now > after else { return false }
        exchange.ackedAtLook = view.bytesAcked
        exchange.headLeftAtLook = !channel.isTLS
            && DeadPeer.headLeft(view, sentBefore: exchange.sentBefore, headBytes: exchange.sentHead, handed: handed)
        // A round trip more than the timeout, as for the first look: bytes acknowledged since may still be on their
        // way back.
        let next = after + DeadPeer.roundTrip(view)
        guard exchange.sentAt + exchange.socketTimeout - worker.now > next else { return false }
        exchange.deadPeerWatch = true
        exchange.deadPeerAt = worker.now + next
        channel.setTimeout(next, now: worker.now)
        return true
    }

    /// The reused connection ended before any response byte, and the relay's rules (`upstreamEnded`) fail the request
    /// as `upstream-reset`: if the end was a FIN that acknowledged none of the request and the peer's kernel then
    /// reset it, the server closed before it arrived (`DeadPeer.crossedClose`), so it goes again whatever its method,
    /// once, by the dead-peer rules (counted as a `dead-peer` retry). Without it every keep-alive client's POST met a
    /// 502 now and then, where an origin's idle close crossed it (clients). A FIN whose reset has not come yet (off
    /// loopback it comes a round trip after the request) is waited for (`awaitReset`): nil then, the relay stopped.
    func closedUnread(_ step: RelayStep, clean: Bool) -> RelayStep? {
        guard case .failed(.upstreamReset) = step, exchange.deadPeerWatch, let up = machine.state.connection else { return step }
        // A wait under way: this is the FIN read again (a relay turn read the upstream); the wait goes on.
        if exchange.awaitingReset { return awaitReset(up.channel) }
        let view = up.channel.ackView()
        guard let crossed = DeadPeer.crossedClose(view, sentBefore: exchange.sentBefore, clean: clean),
              deadPeerRetry == .retry else { return step }
        switch crossed {
        case .reset: return .retry(.deadPeer)
        case .awaitReset:
            guard let view else { return step }
            let until = exchange.sentAt + DeadPeer.resetWait(view, deadPeerTimeout: worker.settings.deadPeerTimeout)
            guard until - worker.now > Exchange.lateSlack else { return step }
            exchange.awaitingReset = true
            exchange.deadPeerAt = until
            return awaitReset(up.channel)
        }
    }

    /// While berth waits for a crossed request's reset, neither side is read: the upstream's end would be read again
    /// and again, and the caller's bytes would start relay turns (which read the upstream again: such a turn comes
    /// back here). Only the upstream's timer runs, to the wait's end (`deadPeerAt`, so the relay's own re-arming
    /// keeps it).
    private func awaitReset(_ channel: Channel) -> RelayStep? {
        channel.stopReading()
        caller.stopReading()
        channel.setTimeout(exchange.upstreamTimeout(now: worker.now), now: worker.now)
        return nil
    }

    /// The wait for the reset is over: a connection gone since is the reset of a request its server never read, and
    /// the request goes again (by the dead-peer rules, asked again: the body sent may have grown); still only a FIN,
    /// the server may be reading it (a half-close), and it is answered 502 `upstream-reset`, as before.
    func resetWaitEnded(_ channel: Channel) {
        exchange.awaitingReset = false
        let reset = DeadPeer.crossedClose(channel.ackView(), sentBefore: exchange.sentBefore, clean: true) == .reset
        // The caller is read again as the relay (or the retry's routing) wants it.
        caller.startReading()
        relay(from: reset && deadPeerRetry == .retry ? .retry(.deadPeer) : .failed(.upstreamReset))
    }

    /// Whether the released connection may take a request before the loop polls it (its idle watch only armed): a
    /// pipelined request is buffered, or one waits for a connection (a hand-off). Rare: keep-alive pays nothing.
    var takenAgainThisTurn: Bool { caller.pendingInput > 0 || manager.ledger.waiting > 0 }

    /// Whether the peer has yet to acknowledge request bytes as the exchange ends. A server may answer an upload
    /// before it reads the body (an early answer) and read it afterwards, so the body's tail can still wait in berth's
    /// kernel for the server's window. Pooled, such a connection put the next request behind it, and the dead-peer
    /// check (which takes every earlier byte as acknowledged) found that request unacknowledged, took the live server
    /// for dead and reset the connection, cutting the upload its caller had been answered for (adv1). It is released
    /// as incomplete instead: closed with a FIN behind those bytes. One ioctl, for requests with a body only.
    func peerStillTaking(_ channel: Channel) -> Bool {
        exchange.requestBodyBytes > 0 && channel.unacknowledgedOutput > 0
    }

    /// Whether the exchange waits, its answer whole, for the request's tail to leave berth: an early answer can end
    /// while the body's last bytes are still in the channel's own output (the kernel had no room for them), and the
    /// close `peerStillTaking` asks for drops that output, so the origin read a body cut short (rev18; before 136 the
    /// pooled connection's write event sent it). The upstream is no longer read (its end would fire at every turn);
    /// its drain (`upstreamDrained`) or failure runs the relay, which ends the exchange again, and its socket timeout
    /// (armed as the wait starts: a caller that backed up had it cleared) gives up on a peer that stopped taking
    /// bytes (`upstreamTimedOut`). Only for requests with a body, at the end.
    func holdsRequestTail() -> Bool {
        guard exchange.requestDone, let up = machine.state.connection else { return false }
        let channel = up.channel
        guard channel.pendingOutput > 0, channel.writeError == 0, !channel.endSeen else { return false }
        if !exchange.holdingTail {
            exchange.holdingTail = true
            channel.stopReading()
            channel.setTimeout(exchange.socketTimeout, now: worker.now)
        }
        return true
    }

    /// The dead-peer rules for the request now: whether it may go again.
    private var deadPeerRetry: DeadPeerAction {
        var held: Int? = nil
        if case .holding(let copy) = exchange.replay { held = copy.count }
        return DeadPeer.action(retryEnabled: worker.settings.deadPeerRetry, retried: exchange.retried,
                               bodyBytesSent: exchange.requestBodyBytes, replayHeld: held)
    }

    /// The peer never acknowledged the request (or only part of its head, and then went silent): the connection is
    /// reset (it is dead, and nothing of it is worth a FIN), and the request goes again on a fresh connection or is
    /// answered 502 dead-peer. `what` the peer acknowledged, for the detail.
    private func deadPeerFound(what: String) {
        abortUpstream(reason: .deadPeer, rerouting: true)
        switch deadPeerRetry {
        case .retry:
            retry(.deadPeer)
        case .fail(let why):
            let upstream = exchange.key?.description ?? "upstream"
            answer(.deadPeer, detail: "\(upstream) acknowledged \(what) on a reused connection; not sent again: \(why.rawValue)")
        }
    }
}
