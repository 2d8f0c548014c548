// The pure state of one upstream's pool: idle stack, counts, FIFO of waiting requests, pause mode and epoch. No I/O.

/// Pool bookkeeping for one upstream. The shell owns the sockets; this decides what happens to them.
struct PoolState {
    /// Whether requests flow or are held.
    enum Mode: Equatable, Sendable {
        case active
        /// Paused by the orchestrator; `rejectNew` answers new requests at once instead of holding them.
        case paused(rejectNew: Bool)
    }

    /// An idle connection in the stack.
    struct Idle: Equatable, Sendable {
        var id: Int
        var since: Nanos
        var openedAt: Nanos
    }

    /// What a request that wants a connection should do.
    enum Checkout: Equatable, Sendable {
        /// Use this idle connection (most recently used first, so the rest can time out).
        case reuse(Int)
        /// Open a new connection; its slot is reserved.
        case connect
        /// Join the queue with `enqueue`.
        case wait
        /// Answer with this cause.
        case reject(ErrorCause)
    }

    /// What became of a released connection.
    enum Release: Equatable, Sendable {
        /// Back on the idle stack.
        case pooled
        /// Handed straight to the first waiter.
        case handOff(waiter: Int)
        /// Must be closed for this reason; the slot is free.
        case close(CloseReason)
    }

    private(set) var mode: Mode = .active
    /// Bumped by every resume: connections from an older epoch are never reused.
    private(set) var epoch: UInt64 = 1
    /// Idle connections, most recently used last.
    private(set) var idle: [Idle] = []
    private(set) var busy = 0
    private(set) var connecting = 0
    private(set) var waiters = FIFOQueue<Int>()
    var maxPerRoute: Int
    var maxPending: Int

    /// An empty active pool.
    init(maxPerRoute: Int, maxPending: Int) {
        self.maxPerRoute = maxPerRoute
        self.maxPending = maxPending
    }

    /// Connections counted against the limits: idle, busy and being opened.
    var open: Int { idle.count + busy + connecting }

    var isPaused: Bool { mode != .active }

    /// A request wants a connection; `globalRoom` says whether the cross-upstream limit allows one more.
    /// `allowReuse` is false for a retry, which must go to a fresh connection.
    mutating func checkout(globalRoom: Bool, allowReuse: Bool = true) -> Checkout {
        if case .paused(let rejectNew) = mode {
            if rejectNew { return .reject(.upstreamPaused) }
            return waiters.count < maxPending ? .wait : .reject(.queueFull)
        }
        if allowReuse, waiters.isEmpty, let last = idle.popLast() {
            busy += 1
            return .reuse(last.id)
        }
        if waiters.isEmpty && open < maxPerRoute && globalRoom {
            connecting += 1
            return .connect
        }
        return waiters.count < maxPending ? .wait : .reject(.queueFull)
    }

    /// Queues a request after `.wait`.
    mutating func enqueue(_ waiter: Int) {
        waiters.append(waiter)
    }

    /// Drops a waiter that timed out or went away; false when it was not queued.
    @discardableResult
    mutating func removeWaiter(_ waiter: Int) -> Bool {
        waiters.remove(waiter)
    }

    /// A connect reserved by `.connect` succeeded: the connection is busy with its request.
    mutating func connected() {
        connecting -= 1
        busy += 1
    }

    /// A connect reserved by `.connect` failed: its slot is free.
    mutating func connectFailed() {
        connecting -= 1
    }

    /// Reserves a slot for a connection opened ahead of demand; false when the limits say no.
    mutating func reservePrewarm(globalRoom: Bool) -> Bool {
        guard !isPaused, open < maxPerRoute, globalRoom else { return false }
        connecting += 1
        return true
    }

    /// A prewarmed connection finished connecting: it joins the idle stack (or serves the first waiter).
    mutating func prewarmed(id: Int, now: Nanos) -> Release {
        connecting -= 1
        busy += 1
        return release(id: id, verdict: nil, openedAt: now, now: now)
    }

    /// A busy connection's exchange ended; `verdict` is the release gate's answer.
    mutating func release(id: Int, verdict: CloseReason?, openedAt: Nanos, now: Nanos) -> Release {
        busy -= 1
        if let reason = verdict { return .close(reason) }
        if let waiter = waiters.popFirst() {
            busy += 1
            return .handOff(waiter: waiter)
        }
        idle.append(Idle(id: id, since: now, openedAt: openedAt))
        return .pooled
    }

    /// An idle connection closed (peer close, timeout, eviction); false if it was not idle here.
    @discardableResult
    mutating func removeIdle(_ id: Int) -> Bool {
        guard let i = idle.firstIndex(where: { $0.id == id }) else { return false }
        idle.remove(at: i)
        return true
    }

    /// After a slot freed: the first waiter that may now open a connection, its slot reserved.
    mutating func admitWaiter(globalRoom: Bool) -> Int? {
        guard !isPaused, globalRoom, open < maxPerRoute, let waiter = waiters.popFirst() else { return nil }
        connecting += 1
        return waiter
    }

    /// The least recently used idle connection, to close when another upstream needs the global slot.
    mutating func takeOldestIdle() -> Int? {
        guard !idle.isEmpty else { return nil }
        return idle.removeFirst().id
    }

    /// When an idle connection must close: the earlier of its idle timeout and its maximum age, with the reason.
    static func idleDeadline(_ entry: Idle, idleTimeout: Nanos, maxAge: Nanos) -> (at: Nanos, reason: CloseReason) {
        let idleAt = entry.since + idleTimeout
        let ageAt = entry.openedAt + maxAge
        return idleAt <= ageAt ? (idleAt, .idleTimeout) : (ageAt, .maxAge)
    }

    /// The idle entry for `id`.
    func idleEntry(_ id: Int) -> Idle? { idle.first { $0.id == id } }

    /// Pauses: returns the idle connections, which the shell closes before answering.
    mutating func pause(rejectNew: Bool) -> [Int] {
        mode = .paused(rejectNew: rejectNew)
        let ids = idle.map(\.id)
        idle.removeAll()
        return ids
    }

    /// Empties the queue without resuming (pause with mode=reject answers held requests at once).
    mutating func resumeHeldForReject() -> [Int] {
        var held: [Int] = []
        while let w = waiters.popFirst() { held.append(w) }
        return held
    }

    /// Resumes with a new epoch; returns the held requests in arrival order, for the shell to check out again.
    mutating func resume() -> [Int] {
        epoch += 1
        mode = .active
        var held: [Int] = []
        while let w = waiters.popFirst() { held.append(w) }
        return held
    }

    /// Removes idle connections idle for at least `idleFor` (all when nil); returns them for closing.
    mutating func evict(idleFor: Nanos?, now: Nanos) -> [Int] {
        guard let idleFor else {
            let ids = idle.map(\.id)
            idle.removeAll()
            return ids
        }
        let out = idle.filter { now - $0.since >= idleFor }.map(\.id)
        idle.removeAll { now - $0.since >= idleFor }
        return out
    }
}
