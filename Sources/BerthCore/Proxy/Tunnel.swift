// A CONNECT or Upgrade tunnel: bytes flow both ways untouched, with backpressure per direction and one idle timeout.
import EventLoop

/// Hears once that a tunnel is over.
protocol TunnelOwner: AnyObject {
    /// The tunnel ended; `peerClosedFirst` when the upstream side ended it (the caller then gets what is left
    /// before its connection closes), otherwise the caller went or the tunnel idled out.
    func tunnelEnded(peerClosedFirst: Bool)
}

/// Two channels relayed to each other until either ends or both are idle for `idleTimeout`. The session hands
/// both over and is not called again until `tunnelEnded`; the tunnel owns the peer socket and closes it.
final class Tunnel: ChannelDelegate {
    let caller: Channel
    let peer: Channel
    private let highWater: Int
    private let idleTimeout: Nanos
    /// Unowned: the session owns the tunnel and outlives it.
    private unowned(unsafe) let owner: TunnelOwner
    private var ended = false

    init(caller: Channel, peer: Channel, highWater: Int, idleTimeout: Nanos, owner: TunnelOwner) {
        self.caller = caller
        self.peer = peer
        self.highWater = highWater
        self.idleTimeout = idleTimeout
        self.owner = owner
    }

    /// Takes both channels' events and relays what arrived early on either side; false when a write failed at once.
    func start() -> Bool {
        caller.delegate = self
        peer.delegate = self
        peer.startReading()
        caller.startReading()
        // Bytes that arrived early on either side belong to the tunnel.
        caller.moveAllInput(to: peer)
        peer.moveAllInput(to: caller)
        guard peer.flush(), caller.flush() else { return false }
        caller.setTimeout(idleTimeout)
        return true
    }

    func channelReadable(_ ch: Channel) {
        let other = ch === caller ? peer : caller
        switch ch.read() {
        case .data: break
        case .wouldBlock: return
        case .eof, .failed: return sideClosed(ch)
        }
        ch.moveAllInput(to: other)
        guard other.flush() else { return end(peerClosedFirst: false) }
        if other.pendingOutput > highWater { ch.stopReading() }
        // Traffic either way keeps the tunnel alive.
        caller.setTimeout(idleTimeout)
    }

    func channelWritable(_ ch: Channel) {
        if ch.writeError != 0 { return end(peerClosedFirst: false) }
        // The side that drained may take more: let the other side send again.
        (ch === caller ? peer : caller).startReading()
    }

    func channelTimedOut(_ ch: Channel) {
        end(peerClosedFirst: false)
    }

    /// One side closed: the other gets what is left, then the tunnel ends.
    private func sideClosed(_ ch: Channel) {
        let other = ch === caller ? peer : caller
        ch.moveAllInput(to: other)
        _ = other.flush()
        end(peerClosedFirst: ch === peer)
    }

    private func end(peerClosedFirst: Bool) {
        guard !ended else { return }
        ended = true
        close()
        owner.tunnelEnded(peerClosedFirst: peerClosedFirst)
    }

    /// Closes the peer side (what it still has to send goes first, if the kernel takes it now).
    func close() {
        ended = true
        _ = peer.flush()
        peer.close()
    }
}
