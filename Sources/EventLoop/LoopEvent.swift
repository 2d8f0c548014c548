// One libevent `struct event` with its context box; freeing it releases the box exactly once.
import Glibc
internal import CLibevent

/// An I/O, timer or signal event on a loop.
package final class LoopEvent {
    private var ev: OpaquePointer?
    private var box: Unmanaged<EventBox>?
    /// Where a freed event's box goes: released after the running callback, if any (`RetiredBoxes`).
    private let retired: RetiredBoxes

    /// An I/O event on `fd` (flags EV_READ/EV_WRITE/EV_PERSIST) or, with fd -1 and flags 0, a timer.
    init(base: EventBase, fd: CInt, flags: Int16, handler: EventHandler, tag: EventTag) {
        let box = Unmanaged.passRetained(EventBox(handler: handler, tag: tag, retired: base.retired))
        self.box = box
        self.retired = base.retired
        self.ev = event_new(base.raw, fd, flags, eventTrampoline, box.toOpaque())
        precondition(ev != nil, "event_new failed")
    }

    /// A timer: it fires once per `add(after:)`.
    package convenience init(timerOn base: EventBase, handler: EventHandler, tag: EventTag) {
        self.init(base: base, fd: -1, flags: 0, handler: handler, tag: tag)
    }

    /// A signal event, persistent.
    init(base: EventBase, signal: CInt, handler: EventHandler) {
        let box = Unmanaged.passRetained(EventBox(handler: handler, tag: .signal, retired: base.retired))
        self.box = box
        self.retired = base.retired
        self.ev = berth_evsignal_new(base.raw, signal, eventTrampoline, box.toOpaque())
        precondition(ev != nil, "evsignal_new failed")
    }

    /// Sets the libevent priority (0 runs first); only while the event is not active.
    package func setPriority(_ p: Int32) {
        if let ev { event_priority_set(ev, p) }
    }

    /// Registers the event with no timeout.
    @inline(__always)
    package func add() {
        if let ev { event_add(ev, nil) }
    }

    /// Registers the event (or re-arms a timer) to fire after `nanos`.
    package func add(after nanos: Nanos) {
        guard let ev else { return }
        let clamped = max(nanos, 0)
        var tv = timeval(tv_sec: Int(clamped / 1_000_000_000), tv_usec: Int((clamped % 1_000_000_000) / 1000))
        event_add(ev, &tv)
    }

    /// Whether the event is registered for its descriptor's readiness (EV_READ or EV_WRITE), active or not.
    package var waitsForReadiness: Bool {
        guard let ev else { return false }
        return berth_event_pending(ev, Int16(EV_READ | EV_WRITE)) != 0
    }

    /// Makes the event run in this loop iteration, once, without waiting for a poll.
    package func activate() {
        if let ev { event_active(ev, Int32(EV_TIMEOUT), 0) }
    }

    /// Unregisters the event; it can be added again.
    @inline(__always)
    package func remove() {
        if let ev { event_del(ev) }
    }

    /// Frees the C event and releases the box (after the running callback, when called inside one); safe to call
    /// twice, the second call does nothing.
    package func free() {
        if let ev {
            event_free(ev)
            self.ev = nil
        }
        if let box {
            self.box = nil
            retired.retire(box)
        }
    }

    deinit {
        assert(ev == nil, "LoopEvent dropped without free(): its context box would leak")
    }
}
