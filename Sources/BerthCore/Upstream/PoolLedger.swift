// The ledger: every pool of one worker as one plain value, with the global count and the decisions that span pools.
import EventLoop

/// A reserved connect slot. Only `PoolLedger` makes one and only `PoolLedger` takes one back, through a consuming call
/// (`connected` or `connectFailed`), so a slot cannot be given back twice: the compiler refuses the second use. A
/// ticket dropped without being given back traps in debug builds.
struct ConnectTicket: ~Copyable {
    /// The pool the slot belongs to.
    let slot: PoolSlot
    /// The pool's epoch when the slot was reserved: a connect that straddles a pause and resume stays in the old one.
    let epoch: UInt64

    fileprivate init(slot: PoolSlot, epoch: UInt64) {
        self.slot = slot
        self.epoch = epoch
    }

    /// Ends the ticket without running its deinit; PoolLedger's give-back calls are the only callers.
    fileprivate consuming func redeem() -> (slot: PoolSlot, epoch: UInt64) {
        let out = (slot, epoch)
        discard self
        return out
    }

    deinit {
        assertionFailure("a connect slot was dropped without being given back to its pool")
    }
}

/// A pool's place in its `PoolLedger`.
struct PoolSlot: Hashable, Sendable {
    let index: Int
}

/// The pools of one worker. Every count that a limit reads (per pool and in total) changes only here, in the same
/// call, so `open = idle + busy + connecting` holds per pool and across pools by construction.
struct PoolLedger<Conn: AnyObject, Waiter: AnyObject> {
    typealias Pool = ConnectionPool<Conn, Waiter>

    /// A busy connection, held by the request it serves; given back exactly once through `release` or `detach`. A
    /// lease dropped without being given back (its busy count would never come down) traps in debug builds; release
    /// builds have no deinit, so giving one back costs nothing.
    struct Lease: ~Copyable {
        let conn: Conn
        let slot: PoolSlot
        /// When the connection went idle, if it came off the idle stack (0 otherwise), for the request that reuses it.
        var idleSince: Nanos = 0

        #if DEBUG
        /// Set by `redeem`, the give-back calls' only way out.
        private var given = false
        #endif

        fileprivate init(conn: Conn, slot: PoolSlot, idleSince: Nanos = 0) {
            self.conn = conn
            self.slot = slot
            self.idleSince = idleSince
        }

        /// Ends the lease for its connection; `release` and `detach` are the only callers.
        fileprivate consuming func redeem() -> Conn {
            #if DEBUG
            given = true
            #endif
            return conn
        }

        #if DEBUG
        deinit {
            assert(given, "a lease was dropped without being given back to its pool")
        }
        #endif
    }

    /// A waiter that may now open a connection, with the slot reserved for it.
    struct Admission: ~Copyable {
        let waiter: Waiter
        let ticket: ConnectTicket

        /// Gives up the admission for its ticket, which the waiter takes.
        consuming func intoTicket() -> ConnectTicket { ticket }
    }

    /// What a request that wants a connection does now.
    enum Checkout: ~Copyable {
        /// Use this idle connection.
        case reuse(Lease)
        /// Open a new connection into the reserved slot. At the global limit, `evicted` is another upstream's
        /// least recently used idle connection that gave up its slot: the caller closes it.
        case connect(ConnectTicket, evicted: Conn?)
        /// Queued; the pool hands over a connection or a slot later.
        case wait
        /// Answer with this cause.
        case reject(ErrorCause)
    }

    /// What became of a released connection.
    enum Release: ~Copyable {
        /// Back on the idle stack (the caller starts its idle watch).
        case pooled(Conn)
        /// Handed straight to the first waiter, still busy.
        case handOff(Waiter, Lease)
        /// Must be closed for this reason (`evicted`: the slot is needed), its slot going to the first waiter as a
        /// connect ticket: a retry, which a released (reused) connection must never carry.
        case replace(CloseReason, Conn, Admission)
        /// Must be closed for this reason; its slot is free.
        case close(CloseReason, Conn)
    }

    private var slots: [Pool?] = []
    private var freeSlots: [Int] = []
    /// Connections open or being opened across all pools, for --max-total.
    private(set) var open = 0
    /// Requests queued across all pools: a freed global slot looks for a waiter elsewhere only when there is one.
    private(set) var waiting = 0
    var maxTotal: Int

    /// An empty ledger under a global limit.
    init(maxTotal: Int) {
        self.maxTotal = maxTotal
    }

    /// The state of the pool in `slot`.
    subscript(slot: PoolSlot) -> Pool { slots[slot.index]! }

    /// The epoch of `slot`'s pool, read in place (the release path asks on every request; a copy of the whole
    /// state would retain its arrays).
    func epoch(_ slot: PoolSlot) -> UInt64 { slots[slot.index]!.epoch }

    /// Whether `slot`'s pool is paused, read in place.
    func isPaused(_ slot: PoolSlot) -> Bool { slots[slot.index]!.isPaused }

    /// Busy and connecting connections of `slot`'s pool, read in place.
    func inFlight(_ slot: PoolSlot) -> Int { slots[slot.index]!.busy + slots[slot.index]!.connecting }

    /// What /stats counts of `slot`'s pool, read in place: a copy of each unlisted pool's state was an eighth of it.
    func reading(_ slot: PoolSlot) -> PoolReading { slots[slot.index]!.reading }

    /// Every pool in use, with its slot.
    var pools: some Sequence<(slot: PoolSlot, pool: Pool)> {
        slots.enumerated().lazy.compactMap { i, p in p.map { (PoolSlot(index: i), $0) } }
    }

    private var globalRoom: Bool { open < maxTotal }

    // MARK: pools

    /// A new, empty, active pool.
    mutating func add(maxPerRoute: Int, maxPending: Int) -> PoolSlot {
        let pool = Pool(maxPerRoute: maxPerRoute, maxPending: maxPending)
        if let i = freeSlots.popLast() {
            slots[i] = pool
            return PoolSlot(index: i)
        }
        slots.append(pool)
        return PoolSlot(index: slots.count - 1)
    }

    /// Drops an empty pool; false (and nothing changes) while it has connections or waiters.
    mutating func remove(_ s: PoolSlot) -> Bool {
        guard slots[s.index]!.isEmpty else { return false }
        slots[s.index] = nil
        freeSlots.append(s.index)
        return true
    }

    /// New per-route limits (a reload): what is open stays, later decisions use them.
    mutating func setLimits(_ s: PoolSlot, maxPerRoute: Int, maxPending: Int) {
        slots[s.index]!.maxPerRoute = maxPerRoute
        slots[s.index]!.maxPending = maxPending
    }

    // MARK: checkout

    /// A request wants a connection from `s`; `allowReuse` is false for a retry, which must go to a fresh one.
    mutating func checkout(_ s: PoolSlot, waiter: Waiter, allowReuse: Bool) -> Checkout {
        switch slots[s.index]!.checkoutStep(waiter, allowReuse: allowReuse, globalRoom: globalRoom) {
        case .reuse(let conn, let since):
            return .reuse(Lease(conn: conn, slot: s, idleSince: since))
        case .connect:
            open += 1
            return .connect(ConnectTicket(slot: s, epoch: slots[s.index]!.epoch), evicted: nil)
        case .replace(let oldest):
            // One idle connection out, one connect in: the counts that limits read stay as they were.
            return .connect(ConnectTicket(slot: s, epoch: slots[s.index]!.epoch), evicted: oldest)
        case .connectIfGlobalRoom:
            // At the global limit, another upstream's least recently used idle connection gives up its slot, as
            // HttpClient's pool does; without one, the request waits for any slot to free.
            guard let victim = takeLeastRecentlyUsedIdle(except: s) else { return queue(s, waiter, fresh: !allowReuse) }
            return .connect(reserve(s), evicted: victim)
        case .queued:
            waiting += 1
            return .wait
        case .reject(let cause):
            return .reject(cause)
        }
    }

    private mutating func queue(_ s: PoolSlot, _ waiter: Waiter, fresh: Bool) -> Checkout {
        guard case .queued = slots[s.index]!.queue(waiter, fresh: fresh) else { return .reject(.queueFull) }
        waiting += 1
        return .wait
    }

    private mutating func reserve(_ s: PoolSlot) -> ConnectTicket {
        slots[s.index]!.reserveConnect()
        open += 1
        return ConnectTicket(slot: s, epoch: slots[s.index]!.epoch)
    }

    private mutating func takeLeastRecentlyUsedIdle(except s: PoolSlot) -> Conn? {
        var victim: (index: Int, since: Nanos)?
        for (i, p) in slots.enumerated() where i != s.index {
            guard let oldest = p?.idle.first else { continue }
            if victim == nil || oldest.since < victim!.since { victim = (i, oldest.since) }
        }
        guard let v = victim, let conn = slots[v.index]!.removeOldestIdle() else { return nil }
        open -= 1
        return conn
    }

    /// A queued request gave up (timeout or caller gone); false when it was not queued.
    @discardableResult
    mutating func cancelWait(_ s: PoolSlot, waiter: Waiter) -> Bool {
        guard slots[s.index]!.removeWaiter(waiter) else { return false }
        waiting -= 1
        return true
    }

    // MARK: connect slots

    /// The connect for `ticket` succeeded: the connection is busy with its request.
    mutating func connected(_ ticket: consuming ConnectTicket, conn: Conn) -> Lease {
        let (s, _) = ticket.redeem()
        slots[s.index]!.connectEnded(asBusy: true)
        return Lease(conn: conn, slot: s)
    }

    /// The connect for `ticket` failed, or its request went away: the slot is free.
    mutating func connectFailed(_ ticket: consuming ConnectTicket) {
        let (s, _) = ticket.redeem()
        slots[s.index]!.connectEnded(asBusy: false)
        open -= 1
    }

    /// A slot for a connection opened ahead of demand, when the limits allow one.
    mutating func reservePrewarm(_ s: PoolSlot) -> ConnectTicket? {
        guard slots[s.index]!.hasRouteRoom, globalRoom else { return nil }
        return reserve(s)
    }

    /// A prewarmed connection is up: idle, handed to the first waiter, or closed when a pause or resume overtook it or
    /// the pool is `forgetting` (marked to go when empty, it takes no new idle connection).
    mutating func prewarmed(_ ticket: consuming ConnectTicket, conn: Conn, forgetting: Bool = false, now: Nanos) -> Release {
        let epoch = ticket.epoch
        let lease = connected(ticket, conn: conn)
        let pool = slots[lease.slot.index]!
        let stale: CloseReason? = forgetting ? .evicted : pool.isPaused ? .paused : (epoch != pool.epoch ? .staleEpoch : nil)
        return release(lease, verdict: stale, openedAt: now, now: now)
    }

    // MARK: busy connections

    /// A busy connection's exchange ended; `verdict` is the release gate's answer.
    mutating func release(_ lease: consuming Lease, verdict: CloseReason?, openedAt: Nanos, now: Nanos) -> Release {
        let s = lease.slot
        // Moved out of the consumed lease in release builds: no reference count changes on the way back.
        let conn = lease.redeem()
        switch slots[s.index]!.releaseStep(conn, close: verdict != nil, openedAt: openedAt, now: now) {
        case .close:
            open -= 1
            return .close(verdict!, conn)
        case .handOff(let w):
            waiting -= 1
            return .handOff(w, Lease(conn: conn, slot: s))
        case .replace(let w):
            return replaced(conn, for: w, in: s)
        case .pooled:
            return .pooled(conn)
        }
    }

    /// A released connection closes so that the queued retry `w` gets its slot as a connect ticket: one connection
    /// closes and one is reserved in its place, so `open` stays. Out of line: the release path runs every request.
    @inline(never)
    private mutating func replaced(_ conn: Conn, for w: Waiter, in s: PoolSlot) -> Release {
        waiting -= 1
        return .replace(.evicted, conn, Admission(waiter: w, ticket: ConnectTicket(slot: s, epoch: slots[s.index]!.epoch)))
    }

    /// An unused lease's connection closes (the caller closes it) for a connect slot in its place: `open` stays.
    mutating func trade(_ lease: consuming Lease) -> ConnectTicket {
        let s = lease.slot
        slots[s.index]!.endBusy()
        slots[s.index]!.reserveConnect()
        _ = lease.redeem()
        return ConnectTicket(slot: s, epoch: slots[s.index]!.epoch)
    }

    /// A busy connection leaves the pool for good (a tunnel ended); its slot is free.
    mutating func detach(_ lease: consuming Lease) -> Conn {
        slots[lease.slot.index]!.endBusy()
        open -= 1
        return lease.redeem()
    }

    // MARK: idle connections

    /// An idle connection closed (peer close, timeout); false when it was not idle in `s`.
    mutating func removeIdle(_ s: PoolSlot, _ conn: Conn) -> Bool {
        guard slots[s.index]!.removeIdle(conn) else { return false }
        open -= 1
        return true
    }

    /// Removes `s`'s idle connections idle for at least `idleFor` (all when nil); the caller closes them.
    mutating func evict(_ s: PoolSlot, idleFor: Nanos?, now: Nanos) -> [Conn] {
        let out = slots[s.index]!.removeIdle(idleFor: idleFor, now: now)
        open -= out.count
        return out
    }

    // MARK: waiters

    /// After slots freed: the next waiter that may open a connection, `s`'s own first, slot reserved; loop until nil.
    mutating func admit(preferring s: PoolSlot?) -> Admission? {
        guard globalRoom, waiting > 0 else { return nil }
        if let s, let a = admit(from: s) { return a }
        for i in slots.indices where i != s?.index {
            if let a = admit(from: PoolSlot(index: i)) { return a }
        }
        return nil
    }

    private mutating func admit(from s: PoolSlot) -> Admission? {
        guard let p = slots[s.index], !p.waiters.isEmpty, p.hasRouteRoom, let q = slots[s.index]!.dequeue() else { return nil }
        waiting -= 1
        return Admission(waiter: q.waiter, ticket: reserve(s))
    }

    // MARK: pause and resume

    /// `source` pauses `s` (PauseHolds.pause). When its mode and hold apply, the idle connections leave at once (the
    /// caller closes them, which frees their slots) and, with `rejectNew`, the requests it was holding come back too,
    /// to be answered now; nil when nothing changed but the holds.
    mutating func pause(_ s: PoolSlot, by source: PauseSource, rejectNew: Bool, hold: Nanos?) -> (closed: [Conn], rejected: [Waiter])? {
        guard slots[s.index]!.pause(by: source, rejectNew: rejectNew, hold: hold) else { return nil }
        let closed = evict(s, idleFor: nil, now: 0)
        var rejected: [Waiter] = []
        if rejectNew { rejected = drainWaiters(s).map(\.waiter) }
        return (closed, rejected)
    }

    /// `source` lets go of `s` (PauseHolds.resume). When it resumes, with a new epoch, returns the held requests in
    /// arrival order, each with whether it must have a fresh connection, for the caller to check out again (a retry
    /// with `allowReuse: false`); nil while it stays paused.
    mutating func resume(_ s: PoolSlot, by source: PauseSource) -> [Pool.Queued]? {
        guard slots[s.index]!.resume(by: source) else { return nil }
        return drainWaiters(s)
    }

    /// A new pool made while its sibling `from` is paused is held by the same sources (PauseHolds.inherit).
    mutating func inheritHolds(_ s: PoolSlot, from sibling: PoolSlot) {
        slots[s.index]!.inheritHolds(slots[sibling.index]!.holds)
    }

    /// Moves `s` on to a new epoch without pausing it (the VM was restored, or a new generation came to its address):
    /// no connection opened before is reused; the idle ones leave now (the caller closes them), busy or connecting
    /// ones close when they come back, as after a resume.
    mutating func moveEpoch(_ s: PoolSlot) -> [Conn] {
        slots[s.index]!.bumpEpoch()
        return evict(s, idleFor: nil, now: 0)
    }

    private mutating func drainWaiters(_ s: PoolSlot) -> [Pool.Queued] {
        var out: [Pool.Queued] = []
        while let q = slots[s.index]!.dequeue() {
            waiting -= 1
            out.append(q)
        }
        return out
    }

    /// Why the counts do not add up, or nil when they do: what the model tests assert after every step.
    func invariantViolation() -> String? {
        var total = 0
        var queued = 0
        for (slot, p) in pools {
            if p.busy < 0 || p.connecting < 0 { return "negative count in pool \(slot.index)" }
            // Holds unless a reload lowered the limit under what was already open.
            if p.open > p.maxPerRoute { return "pool \(slot.index) has \(p.open) open over max-per-route \(p.maxPerRoute)" }
            total += p.open
            queued += p.waiters.count
        }
        if total != open { return "pools hold \(total) connections but the ledger counts \(open)" }
        if queued != waiting { return "pools queue \(queued) requests but the ledger counts \(waiting)" }
        if open < 0 || open > maxTotal { return "\(open) open against max-total \(maxTotal)" }
        return nil
    }
}
