// Closes sockets right after the running callback returns, so an admin answer is not held up by a thousand closes.
import Glibc
internal import CLibevent

/// Sockets already taken out of service (no events, no owner) whose close(2) waits until the current callback has
/// returned. A close of an idle loopback connection costs ~13 µs of kernel time, mostly the peer's side of the RST
/// processed on this CPU; /pause of 1,000 connections spent 14 ms on them before it could answer. The connections
/// leave the pool at once, so nothing can reuse them; only the system call waits, and not past this loop iteration:
/// the event is made active, not timed, so it runs before the loop polls again.
final class DeferredCloser: EventHandler {
    private var pending: [(fd: CInt, reset: Bool)] = []
    private var event: LoopEvent!

    init(base: OpaquePointer) {
        event = LoopEvent(base: base, fd: -1, flags: 0, handler: self, tag: .timer)
    }

    /// Queues `fd` for closing; `reset` sends RST instead of FIN. The fd number stays taken until then, so it cannot
    /// be handed to a new socket while still queued.
    func close(_ fd: CInt, reset: Bool) {
        pending.append((fd, reset))
        if pending.count == 1 { event.activate() }
    }

    /// How many sockets wait to be closed (tests).
    var queued: Int { pending.count }

    func handleEvent(_ tag: EventTag, what: Int16) {
        closeQueued()
    }

    /// Closes everything queued now.
    func closeQueued() {
        let list = pending
        pending.removeAll(keepingCapacity: true)
        for (fd, reset) in list {
            if reset { Socket.setLingerReset(fd) }
            Glibc.close(fd)
        }
    }

    /// Closes what is queued and frees the event (teardown).
    func free() {
        closeQueued()
        event.free()
    }
}
