// One pooled upstream connection; while idle it watches its own socket, because a readable idle connection is a dead one.
import EventLoop

/// An upstream connection and what the release gate needs to know about it.
final class UpstreamConnection: ChannelDelegate {
    let channel: Channel
    /// Strong, so the pool outlives its connections by construction: the close of a forgotten pool's last connection
    /// drops the manager's reference while the connection's own code still reads it. No cycle: pools hold no connections.
    let pool: Upstream
    /// The pool epoch it was opened in.
    let epoch: UInt64
    let openedAt: Nanos
    var requestsServed = 0
    /// How long it may stay idle by its server's last `Keep-Alive: timeout=N` (`KeepAliveHint`); `.max` when the
    /// server announced none.
    var hintedIdle: Nanos = .max

    init(channel: Channel, pool: Upstream, epoch: UInt64, openedAt: Nanos) {
        self.channel = channel
        self.pool = pool
        self.epoch = epoch
        self.openedAt = openedAt
    }

    /// Starts the idle watch: EV_READ stays registered and the timer runs to the idle deadline.
    func enterIdle(deadlineIn: Nanos, now: Nanos) {
        channel.delegate = self
        // A relay that yielded this connection's turn may have ended from another event before the yield ran; its
        // readable event, delivered here, would be taken for the peer's close and end a live connection (rev19).
        channel.cancelYield()
        channel.setUrgentReads(true)
        channel.startReading()
        channel.setTimeout(deadlineIn, now: now)
        channel.noteIdle()
    }

    /// Ends the idle watch; the new owner takes the channel's events.
    func leaveIdle(to owner: ChannelDelegate) {
        channel.setUrgentReads(false)
        channel.clearTimeout()
        channel.delegate = owner
    }

    func channelReadable(_ channel: Channel) {
        // On TLS, readable bytes may be a record that carries no data (a session ticket the server sends after the
        // handshake, a KeyUpdate): OpenSSL takes it and the connection stays idle. Anything else, as on a plain
        // socket, is the end: application data, close_notify (read as EOF) or a reset. So is part of a record:
        // it may be the start of a response, whose rest would then answer the next request (nginx drops an idle
        // upstream connection at any byte, tickets included).
        if channel.isTLS, channel.read() == .wouldBlock, !channel.tlsHoldsPartialRecord { return }
        // nginx's keepalive close handler and Pingora's idle_poll reach the same verdict: data or EOF on an idle
        // connection means it cannot be reused.
        pool.manager.idleConnectionEnded(self, reason: .peerClosedIdle)
    }

    func channelWritable(_ channel: Channel) {}

    func channelTimedOut(_ channel: Channel) {
        pool.manager.idleConnectionExpired(self)
    }
}
