// The orchestrator's commands on the pools: pause, resume, evict, forget, and the shutdown and reload sweeps.
import EventLoop

extension PoolManager {
    /// Pauses `key` (creating it) for `source`: closes its idle connections now; returns how many. A pause by the API
    /// always sets the mode and hold, as a second /pause does; the watch's never overrides the API's.
    func pause(_ key: PoolKey, rejectNew: Bool, hold: Nanos?, now: Nanos, by source: PauseSource = .api) -> (pool: UpstreamPool, closedIdle: Int) {
        let pool = self.pool(for: key, now: now)
        pool.lastActivity = now
        guard pool.holds.take(source) == .pause || source == .api else { return (pool, 0) }
        pool.holdTimeout = hold
        let (closed, rejected) = withSet { $0.pause(pool.slot, rejectNew: rejectNew) }
        for conn in closed { close(conn, reason: .paused, bulk: true) }
        // Requests already held would otherwise wait out their timeout: answer them now, as the mode says.
        for w in rejected { w.poolRejected(.upstreamPaused) }
        return (pool, closed.count)
    }

    /// `source` lets go of `key`. When nobody holds it any more (or the API resumes an upstream nobody held, which
    /// just bumps the epoch, as before there was a watch), it resumes with a new epoch and held requests check out
    /// again in arrival order. Returns the count released; `pool.holds` says whether it is still paused.
    func resume(_ key: PoolKey, now: Nanos, by source: PauseSource = .api) -> (pool: UpstreamPool, released: Int) {
        let pool = self.pool(for: key, now: now)
        pool.lastActivity = now
        switch pool.holds.release(source) {
        case .resume:
            break
        case .notHeld where source == .api && !pool.holds.isHeld:
            break
        case .stillHeld, .notHeld:
            // Still frozen: the API's mode and hold give way to the watch's (held requests wait the acquire timeout).
            if source == .api, pool.holds.isHeld {
                pool.holdTimeout = nil
                _ = withSet { $0.pause(pool.slot, rejectNew: false) }
            }
            return (pool, 0)
        }
        pool.holdTimeout = nil
        let held = withSet { $0.resume(pool.slot) }
        for waiter in held {
            switch acquire(pool, waiter: waiter, allowReuse: true, now: now) {
            case .reuse(let lease): waiter.poolGranted(lease)
            case .connect(let ticket): waiter.poolMayConnect(ticket)
            case .wait: break
            case .reject(let cause): waiter.poolRejected(cause)
            }
        }
        return (pool, held.count)
    }

    /// Closes idle connections of one pool or all, optionally only those idle for `idleFor`; returns how many.
    func evict(_ key: PoolKey?, idleFor: Nanos?, now: Nanos) -> Int {
        let targets: [UpstreamPool] = key.map { pools[$0].map { [$0] } ?? [] } ?? Array(pools.values)
        var closed = 0
        for pool in targets {
            let conns = withSet { $0.evict(pool.slot, idleFor: idleFor, now: now) }
            for conn in conns { close(conn, reason: .evicted, bulk: true) }
            closed += conns.count
            slotsFreed(pool.slot)
        }
        return closed
    }

    /// Drops `key`'s entry when it has no connections or waiters; true when dropped. Otherwise the entry goes when
    /// its last connection closes.
    @discardableResult
    func forget(_ key: PoolKey) -> Bool {
        guard let pool = pools[key] else { return false }
        if dropEntry(pool) { return true }
        pool.forgetWhenEmpty = true
        return false
    }

    /// Drops active, unwatched entries with no connections that have been quiet for `forgetAfter`.
    func forgetQuiet(now: Nanos) -> Int {
        let stale = pools.values.filter {
            let s = $0.state
            return s.isEmpty && !s.isPaused && freezer?.info($0.key) == nil && now - $0.lastActivity >= settings.forgetAfter
        }
        for p in stale { forget(p.key) }
        return stale.count
    }

    /// Closes every idle connection (shutdown).
    func closeAllIdle() {
        for pool in pools.values {
            for conn in withSet({ $0.evict(pool.slot, idleFor: nil, now: 0) }) { close(conn, reason: .shutdown) }
        }
    }

    /// Applies new limits and timeouts (SIGHUP): existing connections stay, new decisions use the new values.
    func apply(_ newSettings: ManagerSettings) {
        settings = newSettings
        withSet { $0.maxTotal = newSettings.maxTotal }
        for pool in pools.values {
            pool.settings = routeSettings(for: pool.key)
            let r = pool.settings
            withSet { $0.setLimits(pool.slot, maxPerRoute: r.maxPerRoute, maxPending: r.maxPending) }
        }
        slotsFreed(nil)
    }
}
