// The orchestrator's commands on the pools: pause, resume, evict, forget, and the shutdown and reload sweeps.
import HTTP1
import EventLoop

extension PoolManager {
    // The commands name an endpoint (`host:port`, a plain key) and act on each of its pools (existingPools(at:)):
    // a frozen container is frozen for http:// and https:// requests alike. Each pool keeps its own holds. A close
    // made for one pool (a request re-admitted by /resume takes another pool's idle connection for its slot) may
    // forget a later one marked to forget: hold, letGo, closeIdle and moveEpoch leave a forgotten pool alone, as its
    // ledger slot is gone (review7: /resume trapped on it).

    /// Pauses `endpoint` (creating the pool http:// requests reach) for `source`: closes its pools' idle
    /// connections now; returns the pools and how many closed. A pause by the API always sets the mode and hold, as
    /// a second /pause does; the watch's never overrides the API's (PauseHolds.pause).
    /// No pools, and nothing changed, when the endpoint has no entry and the table no room for one (`commandPools`).
    func pause(_ endpoint: PoolKey, rejectNew: Bool, hold: Nanos?, now: Nanos, by source: PauseSource = .api) -> (pools: [Upstream], closedIdle: Int) {
        let targets = commandPools(endpoint, now: now) ?? []
        var closedIdle = 0
        for pool in targets {
            pool.lastActivity = now
            // A pause cancels a pending forget (/evict?forget=true): the close of the last connection, which the pause
            // itself may make, would otherwise drop the entry and its pause with it, and the next request would go to
            // the upstream being frozen (review7). After a completed forget, too, a pause makes a paused entry.
            pool.forgetWhenEmpty = false
            closedIdle += self.hold(pool, by: source, rejectNew: rejectNew, hold: hold)
        }
        return (targets, closedIdle)
    }

    /// `source` lets go of `endpoint`'s pools. A pool nobody holds any more (or that the API resumes though nobody
    /// held it, which just bumps the epoch, as before there was a watch) resumes with a new epoch, and its held
    /// requests check out again in arrival order. Returns the pools and the requests released; each pool's `holds`
    /// say whether it is still paused.
    /// No pools, and nothing changed, when the endpoint has no entry and the table no room for one.
    func resume(_ endpoint: PoolKey, now: Nanos, by source: PauseSource = .api) -> (pools: [Upstream], released: Int) {
        let targets = commandPools(endpoint, now: now) ?? []
        var released = 0
        for pool in targets {
            pool.lastActivity = now
            released += letGo(pool, by: source, now: now)
        }
        // A resumed upstream may be forgotten to make room: look again at the next request.
        if !targets.isEmpty { noRoomUntil = 0 }
        return (targets, released)
    }

    /// Where /resume?prewarm= opens connections among an endpoint's pools: the one that has served the most
    /// requests (the http:// one when none has), since its callers are the ones about to come back.
    func prewarmTarget(_ endpointPools: [Upstream]) -> Upstream? {
        endpointPools.max { $0.counters[.requests] < $1.counters[.requests] }
    }

    /// Closes idle connections of one endpoint's pools or all, optionally only those idle for `idleFor`; returns how many.
    func evict(_ endpoint: PoolKey?, idleFor: Nanos?, now: Nanos) -> Int {
        let targets: [Upstream] = endpoint.map { existingPools(at: $0) } ?? Array(pools.values)
        var closed = 0
        for pool in targets {
            closed += closeIdle(pool, idleFor: idleFor, now: now, reason: .evicted, bulk: true)
        }
        noRoomUntil = 0
        return closed
    }

    /// Drops `endpoint`'s pools (as `forget` does each); true when all of them are gone now.
    func forget(endpoint: PoolKey) -> Bool {
        existingPools(at: endpoint).reduce(true) { all, pool in
            pool.retired = false  // the orchestrator's forget, which no reload takes back
            return forget(pool.key) && all
        }
    }

    /// Drops `key`'s entry when it has no connections or waiters; true when dropped. Otherwise the entry goes when
    /// its last connection closes.
    @discardableResult
    func forget(_ key: PoolKey) -> Bool {
        guard let pool = pools[key] else { return false }
        if dropEntry(pool) { return true }
        if !pool.forgetWhenEmpty {
            forgetting.removeAll { !$0.forgetWhenEmpty || $0.forgotten }
            forgetting.append(pool)
        }
        pool.forgetWhenEmpty = true
        return false
    }

    /// A pool marked to forget may empty by a path that closes no connection: its last connect failed or was given
    /// back, its last waiting request left (a caller gone from a paused entry, whose pause the 10-minute sweep never
    /// forgets). Its entry is dropped on the loop's next turn, not here: the session that emptied it still counts its
    /// answer on it, and counts made after the drop would be lost to the totals.
    func forgetIfEmptied(_ pool: Upstream) {
        guard pool.forgetWhenEmpty && !pool.forgotten else { return }
        drainNotices.post([{ [unowned self] in
            if pool.forgetWhenEmpty && !pool.forgotten { forget(pool.key) }
        }])
    }

    /// `forgetIfEmptied` for the marked pool at `slot` (a connect given back names its slot only).
    func forgetIfEmptied(at slot: PoolSlot) {
        guard !forgetting.isEmpty else { return }
        for pool in forgetting where !pool.forgotten && pool.slot == slot { forgetIfEmptied(pool) }
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

    /// The endpoint's pools for an admin command (/pause, /resume, /watch), with the one http:// requests reach
    /// made when the endpoint has none, under --max-upstreams as a request's (`poolForRequest`): nil when it has
    /// none and nothing can be forgotten. The orchestrator names the upstreams it pauses, but whatever sends the
    /// commands (a loop over every function ever deployed, a script gone wrong) must not grow the table past its
    /// bound either: paused entries are never forgotten, so each distinct name would stay for good. An endpoint
    /// with an entry (its TLS one, the other spelling of its name) but no room for another is acted on as it is:
    /// a pool made later inherits the pause (`makePool`).
    func commandPools(_ endpoint: PoolKey, now: Nanos) -> [Upstream]? {
        let made = poolForRequest(endpoint.plain, now: now)
        let pools = existingPools(at: endpoint)
        return made == nil && pools.isEmpty ? nil : pools
    }

    /// Why a command naming a new endpoint was refused (`commandPools` nil): the request path's cause, in words.
    var noRoomForCommand: String {
        "too-many-upstreams: berth knows max-upstreams (\(settings.maxUpstreams)) upstreams and none can be forgotten (all busy, paused or watched)"
    }

    /// The pool for a caller's request to `requested`, as `pool(for:)` makes it, except that a new entry past
    /// --max-upstreams first makes room (`forgetLeastRecentlyUsed`): nil when nothing can be forgotten. Admin
    /// commands go through `commandPools`, under the same bound.
    /// `routed`: `requested` came from `RouteTarget.key`, which already applied the destination's TLS settings
    /// (resolving it again would give the same key, at the cost of a second lookup and key).
    func poolForRequest(_ requested: PoolKey, routed: Bool = false, now: Nanos) -> Upstream? {
        let key = routed || requested.tls != nil ? requested : RouteTarget.resolve(requested, settings: settings)
        if let p = pools[key] { return p }
        if pools.count >= settings.maxUpstreams && forgetLeastRecentlyUsed(now: now) == 0 { return nil }
        return pool(for: key, now: now)
    }

    /// Forgets the least recently used entries that may go (no connections, no waiters, not paused, not watched)
    /// until the table is under --max-upstreams again. Returns how many went. One scan finds and sorts a sixteenth
    /// of --max-upstreams (`evictable`), taken one by one by the new upstreams that follow, so a flood of new
    /// upstreams sorts the table once per batch rather than scanning it per request. When none may go, the table is
    /// not scanned again for `noRoomRetry`: a flood against a table of busy upstreams costs a compare per request.
    ///
    /// When no entry is empty, entries whose connections are all idle give way the same way, their idle connections
    /// closed (`evicted`): an idle pooled connection is berth's to close at any time, and a table full of them (a
    /// caller visiting many keep-alive servers, a reload lowering --max-upstreams below the table's size) otherwise
    /// refused every new upstream with 503 until the idle timeout closed them (adv12). Only as many go as make room:
    /// a whole batch of them at once closed the warm pools of a sixteenth of the table for one new upstream (rev23).
    func forgetLeastRecentlyUsed(now: Nanos) -> Int {
        guard now >= noRoomUntil else { return 0 }
        let need = max(1, pools.count - settings.maxUpstreams + 1)
        var gone = 0, scanned = false
        while gone < need {
            guard let p = evictable.take() else {
                if scanned || !scanForEvictable(need: need) { break }
                scanned = true
                continue
            }
            let s = p.state
            guard !s.isPaused, freezer?.info(p.key) == nil, s.busy == 0, s.connecting == 0, s.waiters.isEmpty,
                  s.isEmpty || evictable.closesIdle else { continue }
            if !s.isEmpty { _ = closeIdle(p, idleFor: nil, now: now, reason: .evicted, bulk: true) }
            if forget(p.key) { gone += 1 }
        }
        if gone == 0 && scanned { noRoomUntil = now + PoolManager.noRoomRetry }
        return gone
    }

    /// Fills `evictable` from the table: the empty entries that may go or, with none, those holding only idle
    /// connections, least recently used first, a batch of them. False when none may go.
    private func scanForEvictable(need: Int) -> Bool {
        let mayGo = { (p: Upstream) in !p.state.isPaused && self.freezer?.info(p.key) == nil }
        var candidates = pools.values.filter { $0.state.isEmpty && mayGo($0) }
        let idleOnly = candidates.isEmpty
        if idleOnly {
            candidates = pools.values.filter { p in
                let s = p.state
                return s.busy == 0 && s.connecting == 0 && s.waiters.isEmpty && mayGo(p)
            }
        }
        guard !candidates.isEmpty else { return false }
        candidates.sort { $0.lastActivity < $1.lastActivity }
        evictable.fill(candidates.prefix(max(settings.maxUpstreams / 16, need)), closesIdle: idleOnly)
        return true
    }

    /// Closes every idle connection (shutdown). The drain goes on serving queued requests, so the slots freed go to
    /// them (a request queued behind --max-total may connect now).
    func closeAllIdle() {
        for pool in pools.values { _ = closeIdle(pool, idleFor: nil, now: 0, reason: .shutdown, bulk: false) }
    }

    /// Applies new limits and timeouts (SIGHUP): existing connections stay, new decisions use the new values, and
    /// TLS pools make their next connections with the new contexts (files read again).
    func apply(_ newSettings: ManagerSettings, contexts newContexts: TLSContexts? = nil) {
        settings = newSettings
        if let newContexts { contexts = newContexts }
        for pool in pools.values {
            if newContexts != nil { pool.tls?.refresh(key: pool.key, from: contexts) }
            pool.settings = routeSettings(for: pool.key)
        }
        retireSupersededTLSPools()
        setLimits(maxTotal: newSettings.maxTotal) { ($0.settings.maxPerRoute, $0.settings.maxPending) }
    }

    /// TLS pools no request reaches under the settings now in force (a reload changed their destination's `tls`):
    /// new requests go to a pool of the new settings, named `https://HOST:PORT` as the old one is, and the old one
    /// stayed until its idle connections timed out and ten quiet minutes passed, so /metrics exposed each of its
    /// series twice with different values (duplicate samples, which Prometheus drops one of at each scrape) and
    /// /stats listed two rows of one name (adv11). Each is retired as `/evict?forget=true` would: its idle
    /// connections, never handed out again, close now (`evicted`), and its entry goes when its last busy one ends,
    /// its counts kept in the totals. A paused or watched one stays: forgetting it would forget the pause.
    /// One a reload retired while busy and a later reload routes to again (the settings put back) is taken back:
    /// still marked, every connection a request gave back was closed rather than kept while any was in flight, and
    /// the entry went with its counters when the last one ended, for an upstream still served (rev22).
    private func retireSupersededTLSPools() {
        var superseded: [Upstream] = []
        for pool in pools.values where pool.key.tls != nil && !pool.forgotten {
            if routesTo(pool.key) {
                if pool.retired {
                    pool.retired = false
                    pool.forgetWhenEmpty = false
                    forgetting.removeAll { $0 === pool }
                }
            } else if !pool.state.isPaused && freezer?.info(pool.key) == nil {
                superseded.append(pool)
            }
        }
        for pool in superseded {
            // A forget already pending is the orchestrator's (`forget(endpoint:)`) or an earlier reload's, whose
            // `retired` stands: marked retired now, the orchestrator's was taken back by a reload routing here again.
            let pending = pool.forgetWhenEmpty
            _ = closeIdle(pool, idleFor: nil, now: 0, reason: .evicted, bulk: false)
            if !pool.forgotten && forget(pool.key) == false && !pending { pool.retired = true }
        }
    }

    /// Whether a request reaches `key` (a TLS pool's) under the settings in force.
    private func routesTo(_ key: PoolKey) -> Bool {
        let plain = key.plain
        var routed = [RouteTarget.resolve(plain, settings: settings), RouteTarget.secure(plain, settings: settings)]
        // A port-less http:// request that its destination upgrades goes to 443 (`RouteTarget.key`).
        if plain.port == RouteTarget.Scheme.https.defaultPort {
            routed.append(RouteTarget.key(.http, Authority(host: plain.host, port: nil), settings: settings))
        }
        return routed.contains(key)
    }

    /// Grants to `pool`'s waiters made before it paused and not delivered yet (a turn's budget ran out): their
    /// requests have not gone out, so they go back and check out again as new ones would: held, or refused.
    func holdOvertaken(_ pool: Upstream) {
        for (waiter, wasLease) in handOffs.granted(at: pool) {
            guard let grant = handOffs.take(for: waiter) else { continue }
            giveBack(grant)
            // The connection given back may have been the last of a pool marked to forget, which went with it: the
            // request cannot check out there again, and is answered as one the pause turned away.
            guard !pool.forgotten else {
                handOffs.post(.rejected(.upstreamPaused), to: waiter)
                continue
            }
            // A ticket may have been a fresh-only waiter's (a CONNECT, a retry): it stays fresh-only.
            switch acquire(pool, waiter: waiter, allowReuse: wasLease, now: MonotonicClock.now()) {
            case .reuse(let lease): handOffs.post(.lease(lease), to: waiter)
            case .connect(let ticket): handOffs.post(.ticket(ticket), to: waiter)
            case .wait: break
            case .reject(let cause): handOffs.post(.rejected(cause), to: waiter)
            }
        }
    }
}
