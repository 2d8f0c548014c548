// A CONNECT or Upgrade tunnel: bytes flow both ways untouched, with backpressure and a relayed half-close per direction, and one idle timeout.
import EventLoop

/// Hears once that a tunnel is over.
protocol TunnelOwner: AnyObject {
    /// The tunnel ended. `flushCaller`: both directions finished, or the upstream side failed, so the caller gets
    /// what is left before its connection closes; otherwise the caller failed or the tunnel idled out, and the
    /// caller's connection is closed at once. `resetCaller`: the upstream failed before it finished sending, so
    /// what it sent ends with a reset, not the FIN of a side that finished.
    func tunnelEnded(flushCaller: Bool, resetCaller: Bool)
}

/// Two channels relayed to each other until both directions are done, either side fails, or the tunnel is silent
/// for `idleTimeout`. The session hands both over and is not called again until `tunnelEnded`; the tunnel owns the
/// peer socket and closes it.
///
/// A FIN is relayed, not taken as the end: when one side stops sending (`shutdown(SHUT_WR)`, or a close whose other
/// half is still reading), the other side gets the bytes still buffered and then a FIN of its own, and the opposite
/// direction carries on. A caller that sends its request and half-closes still gets the whole answer (HAProxy and
/// nginx's stream module relay it the same way).
final class Tunnel: ChannelDelegate {
    let caller: Channel
    let peer: Channel
    private let highWater: Int
    private let idleTimeout: Nanos
    /// Unowned: the session owns the tunnel and outlives it.
    private unowned(unsafe) let owner: TunnelOwner
    private var ended = false
    /// caller → peer and peer → caller.
    private var up = Flow.open
    private var down = Flow.open
    /// Bytes still queued toward each side (berth's buffer and the kernel's) at a timeout that found some, since
    /// the last read. The next timeout ends the tunnel only if none of them left: a slow reader taking what is
    /// queued for it is not silence, though reading stops above high water and nothing else re-arms the timer.
    private var queuedAtTimeout: (caller: Int, peer: Int)?

    /// Where one direction stands: open; its source sent FIN, which waits for the destination's output to drain;
    /// or the destination was shut for writing.
    private enum Flow { case open, finishing, done }

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
        // A caller that already half-closed (callerEnded stopped reading it) reads its FIN again here and is relayed.
        caller.startReading()
        // Bytes that arrived early on either side belong to the tunnel.
        caller.moveAllInput(to: peer)
        peer.moveAllInput(to: caller)
        guard peer.flush(), caller.flush() else { return false }
        armIdle()
        return true
    }

    func channelReadable(_ ch: Channel) {
        let other = ch === caller ? peer : caller
        switch ch.read() {
        case .data: break
        case .wouldBlock: return
        case .eof: return sourceEnded(ch)
        case .failed: return end(failed: ch)
        }
        ch.moveAllInput(to: other)
        guard other.flush() else { return end(failed: other) }
        if other.pendingOutput > highWater { ch.stopReading() }
        // Traffic either way keeps the tunnel alive.
        armIdle()
    }

    func channelWritable(_ ch: Channel) {
        if ch.writeError != 0 { return end(failed: ch) }
        // The side that drained may take more: let the other side send again, unless it already sent its FIN.
        let source = ch === caller ? peer : caller
        if flow(from: source) == .open { source.startReading() }
        finishIfDrained(ch)
    }

    func channelTimedOut(_ ch: Channel) {
        let queued = (caller: queued(toward: caller), peer: queued(toward: peer))
        let moved = queuedAtTimeout.map { queued.caller < $0.caller || queued.peer < $0.peer } ?? true
        if queued.caller + queued.peer > 0 && moved {
            // Something waits to be taken, and either this is the first look or some left since the last one: look
            // again after another idle period. Silent for all of it, the tunnel ends then.
            queuedAtTimeout = queued
            return caller.setTimeout(idleTimeout)
        }
        end(failed: caller, timedOut: true)
    }

    /// Bytes on their way to `ch` that it has not taken yet: berth's buffer and the kernel's send queue.
    private func queued(toward ch: Channel) -> Int { ch.pendingOutput + Socket.queuedToSend(ch.fd) }

    /// A read moved bytes: the idle timeout starts again from now.
    private func armIdle() {
        queuedAtTimeout = nil
        caller.setTimeout(idleTimeout)
    }

    /// `ch` sent FIN: no more reads from it; the other side gets a FIN once what it still has to send has left.
    private func sourceEnded(_ ch: Channel) {
        ch.stopReading()
        let other = ch === caller ? peer : caller
        ch.moveAllInput(to: other)
        if ch === caller { up = .finishing } else { down = .finishing }
        guard other.flush() else { return end(failed: other) }
        armIdle()
        finishIfDrained(other)
    }

    /// Relays a pending FIN to `dest` once its output is empty; ends the tunnel when both directions are done.
    private func finishIfDrained(_ dest: Channel) {
        guard !ended, dest.pendingOutput == 0 else { return }
        if dest === peer, up == .finishing {
            up = .done
            peer.shutdownWrite()
        } else if dest === caller, down == .finishing {
            down = .done
            caller.shutdownWrite()
        }
        if up == .done && down == .done { end(failed: nil) }
    }

    /// The direction whose source is `ch`.
    private func flow(from ch: Channel) -> Flow { ch === caller ? up : down }

    /// Over: both directions done (`failed` nil), or `failed` broke (an error), or the tunnel idled out (`timedOut`,
    /// `failed` the caller). A side that broke before its FIN did not finish what it sends: the other side is reset
    /// once it has what is left, as item 162's drain cut does, since a FIN there passed a cut for an end (an
    /// HTTP/1.0 answer, an upload; rev21). A side that sent its FIN finished that direction, which ends as it was.
    private func end(failed: Channel?, timedOut: Bool = false) {
        guard !ended else { return }
        ended = true
        if failed === caller && !timedOut && up == .open { resetsPeer = true }
        close()
        owner.tunnelEnded(flushCaller: failed !== caller, resetCaller: failed === peer && down == .open)
    }

    /// Berth cuts the tunnel (the drain ran out): the peer gets a reset, not the FIN of a side that finished.
    var resetsPeer = false

    /// Closes the peer side (what it still has to send goes first, if the kernel takes it now), or resets it.
    func close() {
        ended = true
        if resetsPeer { return peer.close(reset: true) }
        _ = peer.flush()
        peer.close()
    }
}
