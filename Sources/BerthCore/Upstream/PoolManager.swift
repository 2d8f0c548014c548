// All upstream pools of one worker: checkout, connect slots, release through the gate, idle watch and the global limit.
import Glibc
import EventLoop

/// Timeouts and limits the manager applies to every pool.
struct ManagerSettings: Sendable {
    var maxTotal: Int
    var idleTimeout: Nanos
    var maxAge: Nanos
    var maxRequests: Int
    /// The route defaults before per-destination overrides.
    var route: RouteSettings
    var destinations: [DestinationOverride]
    /// Whether destinations without a `tls` entry of their own are reached over TLS (the global `tls`).
    var tlsByDefault = false
    /// An entry with no connections and no activity for this long is dropped (containers come and go).
    var forgetAfter: Nanos = 600 * 1_000_000_000
    /// Entries this worker keeps at most (--max-upstreams); a request to a new upstream past it makes room first.
    var maxUpstreams = 10_000
    /// This worker's place among the workers, for its share of per-destination limits.
    var workerIndex = 0
    var workerCount = 1
    /// How often cgroup v1 freezer files are read (v2 notifies; see FreezerPoll).
    var freezerPollInterval: Nanos = 100_000_000
}

/// The pools of one worker: the shell that carries out what the pure `PoolSet` decides, on real sockets.
/// Sessions never count a slot: they ask for a connection (`acquire`) and hand back what they were given
/// (`release`, `connected`, `connectFailed`), each a consuming call.
final class PoolManager {
    /// What a request that asked for a connection does now.
    enum Acquire: ~Copyable {
        case reuse(UpstreamLease)
        case connect(ConnectTicket)
        case wait
        case reject(ErrorCause)
    }

    let base: EventBase
    var settings: ManagerSettings
    /// The one owner of every count, idle list and queue.
    private(set) var ledger: UpstreamPools
    /// The pools by name.
    private(set) var pools: [PoolKey: UpstreamPool] = [:]
    /// Counters of forgotten upstreams, so totals never go backwards.
    private(set) var forgottenTotals = UpstreamCounters()
    /// Pause counts of forgotten upstreams, likewise.
    private(set) var forgottenPauses = PauseCounts()
    /// The freezer watch, made with the first watch (PoolManager+Freezer.swift).
    var freezer: FreezerWatcher?
    /// Takes the close(2) of connections dropped in bulk (/pause, /evict) out of the admin answer's path.
    let closer: DeferredCloser
    /// The TLS contexts new TLS pools take theirs from; a reload brings a new set.
    var contexts: TLSContexts
    /// Until when a full table with nothing to forget is not scanned again (`forgetLeastRecentlyUsed`).
    var noRoomUntil: Nanos = 0
    /// How long that is: short enough that an upstream freed meanwhile is soon found, long enough that a flood
    /// costs one scan per interval.
    static let noRoomRetry: Nanos = 100_000_000

    init(base: EventBase, settings: ManagerSettings, contexts: TLSContexts = TLSContexts()) {
        self.base = base
        self.settings = settings
        self.contexts = contexts
        ledger = UpstreamPools(maxTotal: settings.maxTotal)
        closer = DeferredCloser(base: base)
    }

    /// Connections open or being opened across all pools, for --max-total.
    var totalOpen: Int { ledger.open }

    /// The pool for `key`, created on first use. A plain key names an endpoint as http:// reaches it, so the
    /// destination's TLS settings apply (RouteTarget.resolve): a destination with `tls:` has a TLS pool only.
    /// A TLS pool created while its endpoint's plain pool is paused starts paused too: a freeze holds every way in.
    func pool(for requested: PoolKey, now: Nanos) -> UpstreamPool {
        let key = requested.tls == nil ? RouteTarget.resolve(requested, settings: settings) : requested
        return pools[key] ?? makePool(key, now: now)
    }

    /// The pool CONNECT tunnels to `endpoint` count against: its plain one, whatever TLS the destination's requests
    /// use (the tunnel carries the caller's own bytes). It is among `existingPools(at:)`, so /pause holds it too.
    /// A new one is capped by --max-upstreams as a request's is (`poolForRequest`): nil when nothing can be forgotten.
    func tunnelPool(for endpoint: PoolKey, now: Nanos) -> UpstreamPool? {
        let key = endpoint.plain
        if let p = pools[key] { return p }
        if pools.count >= settings.maxUpstreams && forgetLeastRecentlyUsed(now: now) == 0 { return nil }
        return makePool(key, now: now)
    }

    /// A new pool for `key`. One made while a sibling pool of its endpoint is paused starts paused too, held by the
    /// same sources (so the thaw or /resume that releases the sibling releases it): a freeze holds every way in.
    private func makePool(_ key: PoolKey, now: Nanos) -> UpstreamPool {
        let route = routeSettings(for: key)
        let slot = ledger.add(maxPerRoute: route.maxPerRoute, maxPending: route.maxPending)
        let p = UpstreamPool(key: key, slot: slot, manager: self, settings: route, now: now)
        if key.tls != nil { p.tls = TLSUpstream(key: key, contexts: contexts) }
        if let sibling = existingPools(at: key.plain).first(where: { $0.state.isPaused }), case .paused(let rejectNew) = sibling.state.mode {
            _ = ledger.pause(slot, rejectNew: rejectNew)
            p.holds.inherit(sibling.holds)
            p.holdTimeout = sibling.holdTimeout
        }
        pools[key] = p
        return p
    }

    /// The pools that serve `endpoint` (a plain key) and exist: the one http:// requests reach and, when it is
    /// another, the one https:// requests reach. Admin commands name endpoints and act on both.
    func existingPools(at endpoint: PoolKey) -> [UpstreamPool] {
        let plain = endpoint.plain
        let http = RouteTarget.resolve(plain, settings: settings)
        let https = RouteTarget.secure(plain, settings: settings)
        var keys = http == https ? [http] : [http, https]
        // CONNECT tunnels use the plain pool even where requests go over TLS.
        if !keys.contains(plain) { keys.append(plain) }
        return keys.compactMap { pools[$0] }
    }

    /// Existing pool for `key`, if any.
    func existingPool(_ key: PoolKey) -> UpstreamPool? { pools[key] }

    /// The route settings for `key`: defaults, then the first matching destination override.
    func routeSettings(for key: PoolKey) -> RouteSettings {
        var r = settings.route
        for d in settings.destinations where DestinationMatcher.matches(d.match, key: key) {
            if let t = d.socketTimeout { r.socketTimeout = t.nanos }
            if let t = d.tlsHandshakeTimeout { r.handshakeTimeout = t.nanos }
            if let m = d.maxPerRoute { r.maxPerRoute = workerShare(m, index: settings.workerIndex, count: settings.workerCount) }
            if let m = d.maxPending { r.maxPending = workerShare(m, index: settings.workerIndex, count: settings.workerCount) }
            if let p = d.replay { r.replay = p }
            r.unixPath = d.unixSocket
            break
        }
        return r
    }

    // MARK: checkout

    /// A request wants a connection to `pool`. On `.wait` the waiter is queued and hears later (PoolWaiter).
    func acquire(_ pool: UpstreamPool, waiter: ProxySession, allowReuse: Bool, now: Nanos) -> Acquire {
        pool.lastActivity = now
        switch ledger.checkout(pool.slot, waiter: waiter, allowReuse: allowReuse) {
        case .reuse(let lease):
            pool.counters[.reused] &+= 1
            return .reuse(lease)
        case .connect(let ticket, let evicted):
            if let victim = evicted { close(victim, reason: .evicted) }
            return .connect(ticket)
        case .wait:
            return .wait
        case .reject(let cause):
            return .reject(cause)
        }
    }

    /// A queued waiter gave up (timeout or caller gone).
    func cancelWait(_ pool: UpstreamPool, waiter: ProxySession) {
        ledger.cancelWait(pool.slot, waiter: waiter)
    }

    // MARK: connect slots

    /// The connect for `ticket` succeeded: the new connection is busy with its request.
    func connected(_ ticket: consuming ConnectTicket, pool: UpstreamPool, channel: Channel, now: Nanos) -> UpstreamLease {
        precondition(ticket.slot == pool.slot, "a connect ticket was redeemed at another pool")
        let conn = UpstreamConnection(channel: channel, pool: pool, epoch: ticket.epoch, openedAt: now)
        pool.counters[.opened] &+= 1
        return ledger.connected(ticket, conn: conn)
    }

    /// The connect for `ticket` failed or its request went away: the slot goes to the next waiter.
    func connectFailed(_ ticket: consuming ConnectTicket) {
        let slot = ticket.slot
        ledger.connectFailed(ticket)
        slotsFreed(slot)
    }

    /// A slot for a connection opened ahead of demand; none for a pool marked to forget, which takes no new idle one.
    func reservePrewarm(_ pool: UpstreamPool) -> ConnectTicket? {
        pool.forgetWhenEmpty ? nil : ledger.reservePrewarm(pool.slot)
    }

    /// A prewarmed connection is up: it goes idle, straight to a waiter, or closes if a pause or resume overtook it,
    /// or a forget (/evict?forget=true) came while it connected: a pool marked to forget takes no idle connection.
    func prewarmed(_ ticket: consuming ConnectTicket, pool: UpstreamPool, channel: Channel, now: Nanos) {
        precondition(ticket.slot == pool.slot, "a connect ticket was redeemed at another pool")
        let conn = UpstreamConnection(channel: channel, pool: pool, epoch: ticket.epoch, openedAt: now)
        pool.counters[.opened] &+= 1
        carryOut(ledger.prewarmed(ticket, conn: conn, forgetting: pool.forgetWhenEmpty, now: now), now: now)
    }

    // MARK: busy connections

    /// A busy connection's exchange ended: the release gate decides between the pool and close.
    func release(_ lease: consuming UpstreamLease, facts: ReleaseFacts, now: Nanos) {
        let pool = lease.conn.pool
        pool.lastActivity = now
        let policy = ReleasePolicy(currentEpoch: ledger.epoch(pool.slot), paused: ledger.isPaused(pool.slot), forgetting: pool.forgetWhenEmpty,
                                   maxRequests: settings.maxRequests, maxAge: settings.maxAge)
        let verdict = ReleaseGate.verdict(facts, policy: policy, now: now)
        carryOut(ledger.release(lease, verdict: verdict, openedAt: facts.openedAt, now: now), now: now,
                 keepAliveTimeout: facts.keepAliveTimeout)
        notifyDrained(pool)
    }

    private func carryOut(_ release: consuming UpstreamPools.Release, now: Nanos, keepAliveTimeout: Int32 = -1) {
        switch consume release {
        case .pooled(let conn):
            // Each response may announce another timeout (or none): the latest is what the server now applies.
            conn.hintedIdle = KeepAliveHint.idleLimit(announcedSeconds: keepAliveTimeout)
            conn.enterIdle(deadlineIn: freshIdleDeadline(conn, now: now) - now, now: now)
        case .handOff(let waiter, let lease):
            lease.conn.pool.counters[.reused] &+= 1
            waiter.poolGranted(lease)
        case .close(let reason, let conn):
            close(conn, reason: reason)
            slotsFreed(freedSlot(conn.pool))
        case .replace(let reason, let conn, let admission):
            // The first waiter is a retry: it gets the slot as a connect ticket, never this reused connection.
            close(conn, reason: reason)
            let waiter = admission.waiter
            waiter.poolMayConnect(admission.intoTicket())
        }
    }

    /// A tunnel (CONNECT, or an Upgrade after 101) is over: its connection, busy for the tunnel's whole life, leaves
    /// the pool (counted as `upgraded`), and its slot goes to the next waiter. Consuming: given back exactly once.
    func tunnelEnded(_ lease: consuming UpstreamLease) {
        let conn = ledger.detach(lease)
        let pool = conn.pool
        pool.counters.countClose(.upgraded)
        // The tunnel closed it already; closing is idempotent.
        conn.channel.close()
        slotsFreed(pool.slot)
        notifyDrained(pool)
        if pool.forgetWhenEmpty { forget(pool.key) }
    }

    // MARK: idle connections

    /// An idle connection became readable or was closed by the peer.
    func idleConnectionEnded(_ conn: UpstreamConnection, reason: CloseReason) {
        guard ledger.removeIdle(conn.pool.slot, conn) else { return }
        close(conn, reason: reason)
        slotsFreed(freedSlot(conn.pool))
    }

    /// Where a connection's close freed a slot: its pool's, unless that close forgot the pool, whose slot may then be
    /// another upstream's (only the global count freed).
    private func freedSlot(_ pool: UpstreamPool) -> PoolSlot? { pool.forgotten ? nil : pool.slot }

    /// An idle connection's timer fired: idle timeout or maximum age.
    func idleConnectionExpired(_ conn: UpstreamConnection) {
        let now = MonotonicClock.now()
        guard let entry = ledger[conn.pool.slot].idleEntry(conn) else { return }
        let (at, reason) = UpstreamPools.Pool.idleDeadline(since: entry.since, openedAt: entry.openedAt,
                                                           idleTimeout: settings.idleTimeout, hinted: conn.hintedIdle,
                                                           maxAge: settings.maxAge)
        if at > now {
            conn.channel.setTimeout(at - now)
            return
        }
        idleConnectionEnded(conn, reason: reason)
    }

    /// The deadline of a connection that goes idle now; no lookup in the idle stack (this runs once per request).
    private func freshIdleDeadline(_ conn: UpstreamConnection, now: Nanos) -> Nanos {
        UpstreamPools.Pool.idleDeadline(since: now, openedAt: conn.openedAt, idleTimeout: settings.idleTimeout,
                                        hinted: conn.hintedIdle, maxAge: settings.maxAge).at
    }

    /// Closes a connection that already left the set's counts. `bulk` closes come from an admin command dropping
    /// many connections at once: their sockets close just after the command has answered (DeferredCloser).
    func close(_ conn: UpstreamConnection, reason: CloseReason, bulk: Bool = false) {
        conn.pool.counters.countClose(reason)
        conn.channel.close(reset: reason.closesWithReset, via: bulk ? closer : nil)
        if conn.pool.forgetWhenEmpty { forget(conn.pool.key) }
    }

    /// Slots freed (in `slot`'s pool, or anywhere): admit waiters while the limits allow, that pool's own first.
    func slotsFreed(_ slot: PoolSlot?) {
        while let admission = ledger.admit(preferring: slot) {
            let waiter = admission.waiter
            waiter.poolMayConnect(admission.intoTicket())
        }
    }

    func notifyDrained(_ pool: UpstreamPool) {
        // The empty check first: it is what every release finds, and it reads no pool state.
        guard !pool.drainWaiters.isEmpty, pool.inFlight == 0 else { return }
        let waiters = pool.drainWaiters
        pool.drainWaiters.removeAll()
        for w in waiters { w() }
    }

    // MARK: for the commands (PoolManager+Commands.swift)

    /// The set, for the admin commands beside this file.
    func withSet<T>(_ body: (inout UpstreamPools) -> T) -> T { body(&ledger) }

    /// Drops `key`'s entry from the table once the set agrees it is empty.
    func dropEntry(_ pool: UpstreamPool) -> Bool {
        guard ledger.remove(pool.slot) else { return false }
        forgottenTotals.merge(pool.counters)
        forgottenPauses.add(pool.holds.counts)
        pool.forgotten = true
        pools[pool.key] = nil
        entryDropped(pool.key)
        return true
    }
}
