// Work posted to run once the running callback has returned: deferred closes and hand-offs between sessions (nginx's posted events).
internal import CLibevent

/// What posts work besides closes (PoolManager's hand-offs and drain notices): drained by `PostedEvents` on the turn
/// after the post.
package protocol PostedRunner: AnyObject {
    /// Runs up to `budget` posted items, oldest first, including those posted meanwhile.
    func runPosted(budget: Int)
    /// Items posted and not run yet: left by the budget, or posted by a runner that ran after this one's turn.
    var hasPosted: Bool { get }
}

/// One urgent event per loop that runs what was posted during a callback, once that callback has returned.
///
/// Closes: channels already taken out of service (closed, no owner, so no callbacks) whose events and sockets are
/// freed only once the current callback has returned. A close of an idle loopback connection costs ~13 µs of kernel
/// time, mostly the peer's side of the RST processed on this CPU, and freeing its read event is an epoll_ctl; /pause
/// of 1,000 connections spent 14 ms on them before it could answer. The connections leave the pool at once, so
/// nothing can reuse them; only the system calls wait.
///
/// Runners: a connection or slot freed by one session goes to a waiting one on this event, never inside the call that
/// freed it, so no session's code runs on another's stack (a release that handed over inline ran the waiter's send,
/// relay and, for a Unix upstream, its whole connect inside the releasing session's callback).
///
/// Neither waits past the running callback: the event is made active at the urgent priority (0), and libevent stops
/// a lower-priority queue as soon as a higher-priority event becomes active, so posted work runs before any other
/// session's callback. Closes run first: the connections left the global count at once, and a slot they freed must
/// not be connected into while the old socket is still open.
package final class PostedEvents: EventHandler {
    private var pending: [(channel: Channel, reset: Bool)] = []
    private var runners: [PostedRunner] = []
    private var event: LoopEvent!
    /// The event is active or armed: a post needs no C call.
    private var scheduled = false
    /// The loop's passes; the turn runs as part of the pass that activated it (`LoopPass.heldOver`).
    private let pass: LoopPass
    /// The pass count when the event was activated; `Int.min` when it was armed as a timer instead, which fires
    /// behind the idle reads the poll found (libevent activates timers after the I/O of the same poll).
    private var activatedIn = Int.min
    /// Hand-offs per turn: each may send a request or start a connect (tens of µs), so a few hundred waiters freed
    /// at once (a /resume, the end of a freeze) let the loop poll its sockets between batches.
    package static let budget = 128

    package init(base: EventBase) {
        pass = base.pass
        event = LoopEvent(timerOn: base, handler: self, tag: .timer)
        event.setPriority(0)
    }

    /// Adds a runner, for good: `post()` then makes it run on the next turn.
    package func add(_ runner: PostedRunner) {
        runners.append(runner)
    }

    /// Makes the runners run once the running callback has returned.
    @inline(__always)
    package func post() {
        guard !scheduled else { return }
        scheduled = true
        activatedIn = pass.count
        event.activate()
    }

    /// Queues `channel` (already marked closed) for release; `reset` sends RST instead of FIN. Its fd number stays
    /// taken until then, so it cannot be handed to a new socket while still queued.
    package func close(_ channel: Channel, reset: Bool) {
        pending.append((channel, reset))
        post()
    }

    /// How many sockets wait to be closed (tests).
    package var queuedCloses: Int { pending.count }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        pass.heldOver = activatedIn
        activatedIn = Int.min
        runTurn(budget: PostedEvents.budget)
        pass.heldOver = Int.min
    }

    /// Runs what is posted: every queued close, then each runner up to `budget` items. What is left, or posted by
    /// the work itself to a runner whose part of this turn is over, runs on the next turn, after the loop has polled
    /// its sockets (a timer due at once).
    package func runTurn(budget: Int) {
        closeQueued()
        for r in runners { r.runPosted(budget: budget) }
        if !pending.isEmpty || runners.contains(where: { $0.hasPosted }) {
            event.add(after: 0)
        } else {
            scheduled = false
        }
    }

    /// Closes everything queued now.
    package func closeQueued() {
        let list = pending
        pending.removeAll(keepingCapacity: true)
        for (channel, reset) in list { channel.release(reset: reset) }
    }

    /// Runs everything posted and frees the event (teardown).
    package func free() {
        runTurn(budget: .max)
        closeQueued()
        event.free()
    }
}
