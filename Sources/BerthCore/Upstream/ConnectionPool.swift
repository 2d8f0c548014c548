// One upstream's pool of connections as a plain value: its idle connections, counts, queue of waiting requests, pause holds and epoch.
import EventLoop

/// One upstream's pool as a plain value. Only `PoolLedger` changes it, so the counts here and the ledger's global count move
/// together; everything else reads. `Conn` and `Waiter` are the shell's objects (tests use small stand-ins).
struct ConnectionPool<Conn: AnyObject, Waiter: AnyObject> {
    /// Whether requests flow or are held, as /stats shows it; read from `holds`.
    enum Mode: Equatable, Sendable {
        case active
        /// Paused by the orchestrator or the freezer; `rejectNew` answers new requests at once instead of holding them.
        case paused(rejectNew: Bool)
    }

    /// An idle connection on the stack, with the times its deadline is computed from.
    struct Idle {
        var conn: Conn
        var since: Nanos
        var openedAt: Nanos
    }

    /// Who holds it paused and how it answers meanwhile: paused exactly while held.
    private(set) var holds = PauseHolds()
    /// Bumped by every resume: connections from an older epoch are never reused.
    private(set) var epoch: UInt64 = 1
    /// Idle connections, most recently used last (reuse takes the last, so the rest can time out).
    private(set) var idle: [Idle] = []
    /// Connections carrying a request; their sessions hold them.
    private(set) var busy = 0
    /// Connect slots handed out as tickets and not yet given back.
    private(set) var connecting = 0
    /// A request waiting for a connection, and whether it must have a fresh one: a retry, whose request a reused
    /// connection already failed, never goes out on another (so it is never handed a released connection).
    struct Queued {
        let waiter: Waiter
        let fresh: Bool
    }

    /// Requests waiting for a connection, in arrival order.
    private(set) var waiters = FIFOQueue<Queued>()
    var maxPerRoute: Int
    var maxPending: Int

    /// An empty active pool.
    init(maxPerRoute: Int, maxPending: Int) {
        self.maxPerRoute = maxPerRoute
        self.maxPending = maxPending
    }

    /// Connections counted against the limits: idle, busy and being opened.
    var open: Int { idle.count + busy + connecting }

    /// Paused in either mode.
    var isPaused: Bool { holds.isHeld }

    /// The mode `holds` set.
    var mode: Mode { holds.isHeld ? .paused(rejectNew: holds.rejectNew) : .active }

    /// Room for one more connection under this pool's own limit.
    var hasRouteRoom: Bool { !isPaused && open < maxPerRoute }

    /// Nothing open, nothing queued: the entry may be forgotten.
    var isEmpty: Bool { open == 0 && waiters.isEmpty }

    /// The idle entry holding `conn`.
    func idleEntry(_ conn: Conn) -> Idle? { idle.first { $0.conn === conn } }

    // MARK: transitions (PoolLedger's only)

    /// What one checkout does to this pool alone; the ledger adds what spans pools.
    enum CheckoutStep {
        /// This idle connection, with the time it went idle (the access log's idle time before reuse).
        case reuse(Conn, idleSince: Nanos)
        /// A slot is reserved (counted in `connecting`).
        case connect
        /// At the route's limit, this oldest idle connection gave its slot to a request that may not reuse it;
        /// the slot is reserved (counted in `connecting`) and the caller closes the connection.
        case replace(Conn)
        /// The route has room but the global limit may not: the ledger decides.
        case connectIfGlobalRoom
        /// Queued.
        case queued
        case reject(ErrorCause)
    }

    /// The pool's half of a checkout, in one access: paused, queue first, reuse, a slot when `globalRoom`.
    mutating func checkoutStep(_ waiter: Waiter, allowReuse: Bool, globalRoom: Bool) -> CheckoutStep {
        if holds.isHeld {
            return holds.rejectNew ? .reject(.upstreamPaused) : queue(waiter, fresh: !allowReuse)
        }
        // Queued requests go first: a newcomer may neither take an idle connection nor a slot ahead of them.
        guard waiters.isEmpty else { return queue(waiter, fresh: !allowReuse) }
        // `removeLast` after an empty test, not `popLast`: the Array's own is inlined, where `popLast` was the
        // generic collection's, a call (27 instructions per request against ~6 in line).
        if allowReuse, !idle.isEmpty {
            let last = idle.removeLast()
            busy += 1
            return .reuse(last.conn, idleSince: last.since)
        }
        guard open < maxPerRoute else {
            // A request that may not reuse (a retry, a CONNECT) would otherwise wait behind idle connections it
            // cannot use, which only their idle timeout frees.
            if !allowReuse, let oldest = removeOldestIdle() {
                connecting += 1
                return .replace(oldest)
            }
            return queue(waiter, fresh: !allowReuse)
        }
        guard globalRoom else { return .connectIfGlobalRoom }
        connecting += 1
        return .connect
    }

    /// Queues `waiter` unless the queue is at max-pending; `fresh` when only a new connection will do (a retry).
    mutating func queue(_ waiter: Waiter, fresh: Bool) -> CheckoutStep {
        guard waiters.count < maxPending else { return .reject(.queueFull) }
        waiters.append(Queued(waiter: waiter, fresh: fresh))
        return .queued
    }

    /// What one release does to this pool: closed (its slot free), handed to the first waiter, or pooled.
    enum ReleaseStep {
        case close
        case handOff(Waiter)
        /// Closed, its slot reserved for the first waiter, which must have a fresh connection (counted in
        /// `connecting`): the waiter gets a connect ticket, never the released connection.
        case replace(Waiter)
        case pooled
    }

    /// The pool's half of a release, in one access.
    mutating func releaseStep(_ conn: Conn, close: Bool, openedAt: Nanos, now: Nanos) -> ReleaseStep {
        precondition(busy > 0, "a busy connection was released that the pool never handed out")
        if close {
            busy -= 1
            return .close
        }
        if let first = waiters.popFirst() {
            guard first.fresh else { return .handOff(first.waiter) }
            busy -= 1
            connecting += 1
            return .replace(first.waiter)
        }
        busy -= 1
        idle.append(Idle(conn: conn, since: now, openedAt: openedAt))
        return .pooled
    }

    mutating func removeIdle(_ conn: Conn) -> Bool {
        guard let i = idle.firstIndex(where: { $0.conn === conn }) else { return false }
        idle.remove(at: i)
        return true
    }

    mutating func removeOldestIdle() -> Conn? {
        idle.isEmpty ? nil : idle.removeFirst().conn
    }

    /// Removes the idle connections idle for at least `idleFor` (all when nil).
    mutating func removeIdle(idleFor: Nanos?, now: Nanos) -> [Conn] {
        guard let idleFor else {
            defer { idle.removeAll() }
            return idle.map(\.conn)
        }
        let out = idle.filter { now - $0.since >= idleFor }.map(\.conn)
        idle.removeAll { now - $0.since >= idleFor }
        return out
    }

    mutating func reserveConnect() { connecting += 1 }

    mutating func connectEnded(asBusy: Bool) {
        precondition(connecting > 0, "a connect slot was given back that was never handed out")
        connecting -= 1
        if asBusy { busy += 1 }
    }

    mutating func endBusy() {
        precondition(busy > 0, "a busy connection was released that the pool never handed out")
        busy -= 1
    }

    mutating func dequeue() -> Queued? { waiters.popFirst() }

    mutating func removeWaiter(_ w: Waiter) -> Bool { waiters.remove { $0.waiter === w } }

    /// `source` pauses (PauseHolds.pause); true when its mode and hold apply.
    mutating func pause(by source: PauseSource, rejectNew: Bool, hold: Nanos?) -> Bool {
        holds.pause(by: source, rejectNew: rejectNew, hold: hold)
    }

    /// `source` lets go (PauseHolds.resume); true when the pool resumes now, with a new epoch.
    mutating func resume(by source: PauseSource) -> Bool {
        guard holds.resume(by: source) else { return false }
        bumpEpoch()
        return true
    }

    /// A new epoch: connections of older ones are never reused.
    mutating func bumpEpoch() { epoch += 1 }

    /// A paused sibling's holds (PauseHolds.inherit).
    mutating func inheritHolds(_ sibling: PauseHolds) { holds.inherit(sibling) }

    /// When an idle connection must close: the earliest of its idle timeout, the limit its server's keep-alive hint
    /// set (`hinted`, `.max` for none) and its maximum age, with the reason.
    static func idleDeadline(since: Nanos, openedAt: Nanos, idleTimeout: Nanos, hinted: Nanos = .max, maxAge: Nanos) -> (at: Nanos, reason: CloseReason) {
        let byHint = hinted < idleTimeout
        let idleAt = since + (byHint ? hinted : idleTimeout)
        let ageAt = openedAt + maxAge
        guard idleAt <= ageAt else { return (ageAt, .maxAge) }
        return (idleAt, byHint ? .keepAliveHint : .idleTimeout)
    }
}
