// All upstream pools of one worker: checkout, release through the gate, the global limit, pause/resume/evict, forgetting.
import Glibc

/// Timeouts and limits the manager applies to every pool.
struct ManagerSettings: Sendable {
    var maxTotal: Int
    var idleTimeout: Nanos
    var maxAge: Nanos
    var maxRequests: Int
    /// The route defaults before per-destination overrides.
    var route: RouteSettings
    var destinations: [DestinationOverride]
    /// An entry with no connections and no activity for this long is dropped (containers come and go).
    var forgetAfter: Nanos = 600 * 1_000_000_000
    /// This worker's place among the workers, for its share of per-destination limits.
    var workerIndex = 0
    var workerCount = 1
}

/// The pools of one worker.
final class PoolManager {
    /// What a request that asked for a connection should do now.
    enum Acquire {
        case reuse(UpstreamConnection)
        case connect
        case wait
        case reject(ErrorCause)
    }

    let base: OpaquePointer
    var settings: ManagerSettings
    private(set) var pools: [PoolKey: UpstreamPool] = [:]
    /// Connections open or being opened across all pools, for --max-total.
    private(set) var totalOpen = 0
    /// Counters of forgotten upstreams, so totals never go backwards.
    private(set) var forgottenTotals = UpstreamCounters()
    private var nextID = 1
    /// Takes the close(2) of connections dropped in bulk (/pause, /evict) out of the admin answer's path.
    let closer: DeferredCloser

    init(base: OpaquePointer, settings: ManagerSettings) {
        self.base = base
        self.settings = settings
        closer = DeferredCloser(base: base)
    }

    /// A fresh id for connections and waiters.
    func makeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    private var globalRoom: Bool { totalOpen < settings.maxTotal }

    /// The pool for `key`, created on first use.
    func pool(for key: PoolKey, now: Nanos) -> UpstreamPool {
        if let p = pools[key] { return p }
        let p = UpstreamPool(key: key, settings: routeSettings(for: key), now: now)
        p.manager = self
        pools[key] = p
        return p
    }

    /// Existing pool for `key`, if any.
    func existingPool(_ key: PoolKey) -> UpstreamPool? { pools[key] }

    /// The route settings for `key`: defaults, then the first matching destination override.
    func routeSettings(for key: PoolKey) -> RouteSettings {
        var r = settings.route
        for d in settings.destinations where DestinationMatcher.matches(d.match, key: key) {
            if let t = d.socketTimeout { r.socketTimeout = t.nanos }
            if let m = d.maxPerRoute { r.maxPerRoute = workerShare(m, index: settings.workerIndex, count: settings.workerCount) }
            if let m = d.maxPending { r.maxPending = workerShare(m, index: settings.workerIndex, count: settings.workerCount) }
            break
        }
        return r
    }

    /// A request wants a connection to `pool`. On `.wait` the waiter is queued.
    func acquire(_ pool: UpstreamPool, waiter: PoolWaiter, allowReuse: Bool, now: Nanos) -> Acquire {
        pool.lastActivity = now
        var decision = pool.state.checkout(globalRoom: globalRoom, allowReuse: allowReuse)
        // At the global limit, an idle connection of another upstream gives up its slot, as HttpClient's pool does.
        if decision == .wait, !globalRoom, pool.state.open < pool.state.maxPerRoute, !pool.state.isPaused, makeRoom(except: pool) {
            pool.state.removeWaiter(waiter.waiterID)
            decision = pool.state.checkout(globalRoom: globalRoom, allowReuse: allowReuse)
        }
        switch decision {
        case .reuse(let id):
            let conn = pool.idle.removeValue(forKey: id)!
            pool.counters[.reused] &+= 1
            return .reuse(conn)
        case .connect:
            totalOpen += 1
            return .connect
        case .wait:
            pool.state.enqueue(waiter.waiterID)
            pool.waiters[waiter.waiterID] = waiter
            return .wait
        case .reject(let cause):
            return .reject(cause)
        }
    }

    /// A queued waiter gave up (timeout or caller gone).
    func cancelWait(_ pool: UpstreamPool, waiter: PoolWaiter) {
        pool.state.removeWaiter(waiter.waiterID)
        pool.waiters[waiter.waiterID] = nil
    }

    /// A reserved connect succeeded: registers the busy connection.
    /// `epoch` is the pool's epoch when the connect started: a connect that straddles a pause/resume stays in the old one.
    func connected(_ pool: UpstreamPool, channel: Channel, epoch: UInt64, now: Nanos) -> UpstreamConnection {
        pool.state.connected()
        let conn = UpstreamConnection(id: makeID(), channel: channel, pool: pool, epoch: epoch, openedAt: now)
        pool.counters[.opened] &+= 1
        return conn
    }

    /// A reserved connect failed: its slot goes to the next waiter.
    func connectFailed(_ pool: UpstreamPool) {
        pool.state.connectFailed()
        totalOpen -= 1
        slotFreed(pool)
    }

    /// Reserves a slot for a connection opened ahead of demand.
    func reservePrewarm(_ pool: UpstreamPool) -> Bool {
        guard pool.state.reservePrewarm(globalRoom: globalRoom) else { return false }
        totalOpen += 1
        return true
    }

    /// A prewarmed connection is up: it goes idle, or straight to a waiter.
    func prewarmed(_ pool: UpstreamPool, channel: Channel, epoch: UInt64, now: Nanos) {
        let conn = UpstreamConnection(id: makeID(), channel: channel, pool: pool, epoch: epoch, openedAt: now)
        pool.counters[.opened] &+= 1
        // Opened ahead of demand but overtaken by a pause or a resume: it belongs to no current epoch.
        let stale: CloseReason? = pool.state.isPaused ? .paused : (epoch != pool.state.epoch ? .staleEpoch : nil)
        if let stale {
            pool.state.connected()
            _ = pool.state.release(id: conn.id, verdict: stale, openedAt: now, now: now)
            close(conn, reason: stale)
            slotFreed(pool)
            return
        }
        switch pool.state.prewarmed(id: conn.id, now: now) {
        case .pooled:
            pool.idle[conn.id] = conn
            conn.enterIdle(deadlineIn: freshIdleDeadline(conn, now: now) - now, now: now)
        case .handOff(let waiterID):
            pool.waiters.removeValue(forKey: waiterID)!.poolGranted(conn)
        case .close(let reason):
            close(conn, reason: reason)
        }
    }

    /// A busy connection's exchange ended: the release gate decides between the pool and close.
    func release(_ conn: UpstreamConnection, facts: ReleaseFacts, now: Nanos) {
        let pool = conn.pool
        pool.lastActivity = now
        let policy = ReleasePolicy(currentEpoch: pool.state.epoch, paused: pool.state.isPaused, forgetting: pool.forgetWhenEmpty, maxRequests: settings.maxRequests, maxAge: settings.maxAge)
        let verdict = ReleaseGate.verdict(facts, policy: policy, now: now)
        switch pool.state.release(id: conn.id, verdict: verdict, openedAt: conn.openedAt, now: now) {
        case .pooled:
            pool.idle[conn.id] = conn
            conn.enterIdle(deadlineIn: freshIdleDeadline(conn, now: now) - now, now: now)
        case .handOff(let waiterID):
            pool.counters[.reused] &+= 1
            let waiter = pool.waiters.removeValue(forKey: waiterID)!
            waiter.poolGranted(conn)
        case .close(let reason):
            close(conn, reason: reason)
            slotFreed(pool)
        }
        notifyDrained(pool)
    }

    /// A busy connection leaves the pool for good but keeps its socket (an upgrade to a tunnel).
    func detach(_ conn: UpstreamConnection) {
        let pool = conn.pool
        _ = pool.state.release(id: conn.id, verdict: .upgraded, openedAt: conn.openedAt, now: 0)
        pool.counters.countClose(.upgraded)
        totalOpen -= 1
        slotFreed(pool)
        notifyDrained(pool)
    }

    /// An idle connection became readable or was closed by the peer.
    func idleConnectionEnded(_ conn: UpstreamConnection, reason: CloseReason) {
        let pool = conn.pool
        guard pool.idle.removeValue(forKey: conn.id) != nil else { return }
        pool.state.removeIdle(conn.id)
        close(conn, reason: reason)
        slotFreed(pool)
    }

    /// An idle connection's timer fired: idle timeout or maximum age.
    func idleConnectionExpired(_ conn: UpstreamConnection) {
        let now = MonotonicClock.now()
        let (at, reason) = idleDeadline(conn, now: now)
        if at > now {
            conn.channel.setTimeout(at - now)
            return
        }
        idleConnectionEnded(conn, reason: reason)
    }

    /// The deadline of a connection that goes idle now; no lookup in the idle stack (this runs once per request).
    private func freshIdleDeadline(_ conn: UpstreamConnection, now: Nanos) -> Nanos {
        PoolState.idleDeadline(PoolState.Idle(id: conn.id, since: now, openedAt: conn.openedAt), idleTimeout: settings.idleTimeout, maxAge: settings.maxAge).at
    }

    private func idleDeadline(_ conn: UpstreamConnection, now: Nanos) -> (at: Nanos, reason: CloseReason) {
        let entry = conn.pool.state.idleEntry(conn.id) ?? PoolState.Idle(id: conn.id, since: now, openedAt: conn.openedAt)
        return PoolState.idleDeadline(entry, idleTimeout: settings.idleTimeout, maxAge: settings.maxAge)
    }

    /// `bulk` closes come from an admin command dropping many connections at once: they leave the pool here, and
    /// their sockets close just after the command has answered (DeferredCloser).
    private func close(_ conn: UpstreamConnection, reason: CloseReason, bulk: Bool = false) {
        conn.pool.counters.countClose(reason)
        conn.isIdle = false
        conn.channel.close(reset: reason.closesWithReset, via: bulk ? closer : nil)
        totalOpen -= 1
        if conn.pool.forgetWhenEmpty { forget(conn.pool.key) }
    }

    /// A slot freed in `pool`: admit its next waiter, then waiters elsewhere that were blocked by the global limit.
    private func slotFreed(_ pool: UpstreamPool) {
        if let w = pool.state.admitWaiter(globalRoom: globalRoom), let waiter = pool.waiters.removeValue(forKey: w) {
            totalOpen += 1
            waiter.poolMayConnect()
            return
        }
        guard globalRoom else { return }
        for other in pools.values where other !== pool && !other.state.waiters.isEmpty {
            if let w = other.state.admitWaiter(globalRoom: globalRoom), let waiter = other.waiters.removeValue(forKey: w) {
                totalOpen += 1
                waiter.poolMayConnect()
                return
            }
        }
    }

    /// Closes the least recently used idle connection of another pool; false when there is none.
    private func makeRoom(except pool: UpstreamPool) -> Bool {
        var victim: (UpstreamPool, Nanos)?
        for p in pools.values where p !== pool {
            if let oldest = p.state.idle.first, victim == nil || oldest.since < victim!.1 { victim = (p, oldest.since) }
        }
        guard let (p, _) = victim, let id = p.state.takeOldestIdle(), let conn = p.idle.removeValue(forKey: id) else { return false }
        close(conn, reason: .evicted)
        return true
    }

    private func notifyDrained(_ pool: UpstreamPool) {
        guard pool.inFlight == 0, !pool.drainWaiters.isEmpty else { return }
        let waiters = pool.drainWaiters
        pool.drainWaiters.removeAll()
        for w in waiters { w() }
    }

    // MARK: orchestrator commands

    /// Pauses `key` (creating it): closes its idle connections now; returns how many.
    func pause(_ key: PoolKey, rejectNew: Bool, hold: Nanos?, now: Nanos) -> (pool: UpstreamPool, closedIdle: Int) {
        let pool = self.pool(for: key, now: now)
        pool.holdTimeout = hold
        let ids = pool.state.pause(rejectNew: rejectNew)
        for id in ids {
            if let conn = pool.idle.removeValue(forKey: id) { close(conn, reason: .paused, bulk: true) }
        }
        if rejectNew {
            // Requests already held would otherwise wait out their timeout: answer them now, as the mode says.
            let held = pool.state.resumeHeldForReject()
            for w in held { pool.waiters.removeValue(forKey: w)?.poolRejected(.upstreamPaused) }
        }
        pool.lastActivity = now
        return (pool, ids.count)
    }

    /// Resumes `key` with a new epoch; held requests check out again in arrival order. Returns the count released.
    func resume(_ key: PoolKey, now: Nanos) -> (pool: UpstreamPool, released: Int) {
        let pool = self.pool(for: key, now: now)
        pool.holdTimeout = nil
        let held = pool.state.resume()
        var released = 0
        for w in held {
            guard let waiter = pool.waiters.removeValue(forKey: w) else { continue }
            released += 1
            switch acquire(pool, waiter: waiter, allowReuse: true, now: now) {
            case .reuse(let conn): waiter.poolGranted(conn)
            case .connect: waiter.poolMayConnect()
            case .wait: break
            case .reject(let cause): waiter.poolRejected(cause)
            }
        }
        pool.lastActivity = now
        return (pool, released)
    }

    /// Closes idle connections of one pool or all, optionally only those idle for `idleFor`; returns how many.
    func evict(_ key: PoolKey?, idleFor: Nanos?, now: Nanos) -> Int {
        var closed = 0
        let targets: [UpstreamPool] = key.map { pools[$0].map { [$0] } ?? [] } ?? Array(pools.values)
        for pool in targets {
            for id in pool.state.evict(idleFor: idleFor, now: now) {
                if let conn = pool.idle.removeValue(forKey: id) {
                    close(conn, reason: .evicted, bulk: true)
                    closed += 1
                }
            }
            slotFreed(pool)
        }
        return closed
    }

    /// Drops `key`'s entry when it has no connections or waiters; true when dropped.
    @discardableResult
    func forget(_ key: PoolKey) -> Bool {
        guard let pool = pools[key] else { return false }
        guard pool.state.open == 0, pool.state.waiters.isEmpty else {
            // Busy connections finish first; the entry goes when the last one closes.
            pool.forgetWhenEmpty = true
            return false
        }
        forgottenTotals.merge(pool.counters)
        pool.forgotten = true
        pools[key] = nil
        return true
    }

    /// Drops active entries with no connections that have been quiet for `forgetAfter`.
    func forgetQuiet(now: Nanos) -> Int {
        let stale = pools.values.filter { $0.state.open == 0 && $0.state.waiters.isEmpty && !$0.state.isPaused && now - $0.lastActivity >= settings.forgetAfter }
        for p in stale { forget(p.key) }
        return stale.count
    }

    /// Closes every idle connection (shutdown).
    func closeAllIdle() {
        for pool in pools.values {
            for id in pool.state.evict(idleFor: nil, now: 0) {
                if let conn = pool.idle.removeValue(forKey: id) { close(conn, reason: .shutdown) }
            }
        }
    }

    /// Applies new limits and timeouts (SIGHUP): existing connections stay, new decisions use the new values.
    func apply(_ newSettings: ManagerSettings) {
        settings = newSettings
        for pool in pools.values {
            pool.settings = routeSettings(for: pool.key)
            pool.state.maxPerRoute = pool.settings.maxPerRoute
            pool.state.maxPending = pool.settings.maxPending
        }
    }
}
