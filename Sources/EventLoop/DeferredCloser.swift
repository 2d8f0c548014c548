// Closes sockets right after the running callback returns, so an admin answer is not held up by a thousand closes.
internal import CLibevent

/// Channels already taken out of service (closed, no owner, so no callbacks) whose events and sockets are freed
/// only once the current callback has returned. A close of an idle loopback connection costs ~13 µs of kernel time,
/// mostly the peer's side of the RST processed on this CPU, and freeing its read event is an epoll_ctl; /pause of
/// 1,000 connections spent 14 ms on them before it could answer. The connections leave the pool at once, so nothing
/// can reuse them; only the system calls wait, and not past the running callback: the event is made active at the
/// urgent priority (0), and libevent stops a lower-priority queue as soon as a higher-priority event becomes active,
/// so the closes run before any other session's callback. The connections left the global count at once; had another
/// session run first, it could have opened new sockets into those slots while the old ones were still open.
package final class DeferredCloser: EventHandler {
    private var pending: [(channel: Channel, reset: Bool)] = []
    private var event: LoopEvent!

    package init(base: EventBase) {
        event = LoopEvent(timerOn: base, handler: self, tag: .timer)
        event.setPriority(0)
    }

    /// Queues `channel` (already marked closed) for release; `reset` sends RST instead of FIN. Its fd number stays
    /// taken until then, so it cannot be handed to a new socket while still queued.
    package func close(_ channel: Channel, reset: Bool) {
        pending.append((channel, reset))
        if pending.count == 1 { event.activate() }
    }

    /// How many sockets wait to be closed (tests).
    package var queued: Int { pending.count }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        closeQueued()
    }

    /// Closes everything queued now.
    package func closeQueued() {
        let list = pending
        pending.removeAll(keepingCapacity: true)
        for (channel, reset) in list { channel.release(reset: reset) }
    }

    /// Closes what is queued and frees the event (teardown).
    package func free() {
        closeQueued()
        event.free()
    }
}
