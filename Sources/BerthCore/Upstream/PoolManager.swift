// All upstream pools of one worker: checkout, connect slots, release through the gate, idle watch and the global limit.
import Glibc
import EventLoop

/// The pools of one worker: the shell that carries out what the pure `PoolLedger` decides, on real sockets.
/// Sessions never count a slot: they ask for a connection (`acquire`) and hand back what they were given
/// (`release`, `connected`, `connectFailed`), each a consuming call. Every change to the pools goes through this
/// file's methods, and each carries out all that the ledger's answer asks, the slots freed included (`slotsFreed`).
/// What a waiting request is given (a connection, a slot, a refusal) is posted (`handOffs`) and reaches it once the
/// running callback has returned: never inside the release, close or command that freed it.
final class PoolManager {
    /// What a request that asked for a connection does now.
    enum Acquire: ~Copyable {
        case reuse(UpstreamLease), connect(ConnectTicket), wait, reject(ErrorCause)
    }

    let base: EventBase
    var settings: ManagerSettings
    /// The one owner of every count, idle list and queue.
    private(set) var ledger: UpstreamLedger
    private(set) var pools: [PoolKey: Upstream] = [:]  // by name
    /// Counters of forgotten upstreams, so totals never go backwards; less the shares others took (`takeShare`).
    var forgottenTotals = UpstreamCounters()
    /// Pause counts of forgotten upstreams.
    private(set) var forgottenPauses = PauseCounts()
    /// The freezer watch, made with the first watch (PoolManager+Freezer.swift).
    var freezer: FreezerWatcher?
    /// Runs posted work once the running callback has returned: the close(2) of connections dropped in bulk (/pause,
    /// /evict), out of the admin answer's path, then the hand-offs.
    let posted: PostedEvents
    /// Answers to `/pause?drain=` whose pool drained, told on `posted` before the turn's grants.
    let drainNotices: DrainNotices
    /// Grants to waiting requests, delivered on `posted`.
    let handOffs: HandOffs
    /// The pools a `/pause?drain=` waits on (PoolManager+Drain.swift): empty but while such a command waits.
    var draining: [Upstream] = []
    /// Entries marked to forget (`forget`) until they go (`dropEntry`); one whose mark a pause cancelled is pruned later.
    var forgetting: [Upstream] = []
    /// The places a freezer watch's open state file takes under max-callers (`DescriptorPlaces`); nil takes none.
    var watchDescriptors: DescriptorPlaces?
    /// The TLS contexts new TLS pools take theirs from; a reload brings a new set.
    var contexts: TLSContexts
    /// Tells the other workers a request here made a new generation current at an endpoint (set by `Server`).
    var generationAnnounced: ((PoolKey, String, UInt64) -> Void)?
    /// Hands the counts of a share this worker forgot to a worker that still knows its upstream (set by `Server`).
    var shareForgotten: ((PoolKey, UpstreamCounters) -> Void)?
    /// Until when a full table with nothing to forget is not scanned again; what the last scan found may give way.
    var noRoomUntil: Nanos = 0, evictable = EvictionQueue()
    /// Short enough that an upstream freed meanwhile is soon found, long enough that a flood costs a scan per interval.
    static let noRoomRetry: Nanos = 100_000_000

    init(base: EventBase, settings: ManagerSettings, contexts: TLSContexts = TLSContexts()) {
        self.base = base
        self.settings = settings
        self.contexts = contexts
        ledger = UpstreamLedger(maxTotal: settings.maxTotal)
        posted = PostedEvents(base: base)
        drainNotices = DrainNotices(posted: posted)
        handOffs = HandOffs(posted: posted)
    }

    /// Connections open or being opened across all pools, for --max-total.
    var totalOpen: Int { ledger.open }

    /// The pool for `key`, created on first use. A plain key names an endpoint as http:// reaches it, so the
    /// destination's TLS settings apply (RouteTarget.resolve): a destination with `tls:` has a TLS pool only.
    /// A TLS pool created while its endpoint's plain pool is paused starts paused too: a freeze holds every way in.
    func pool(for requested: PoolKey, now: Nanos) -> Upstream {
        let key = requested.tls == nil ? RouteTarget.resolve(requested, settings: settings) : requested
        return pools[key] ?? makePool(key, now: now)
    }

    /// The pool CONNECT tunnels to `endpoint` count against: its plain one, whatever TLS the destination's requests
    /// use (the tunnel carries the caller's own bytes). It is among `existingPools(at:)`, so /pause holds it too.
    /// A new one is capped by --max-upstreams as a request's is (`poolForRequest`): nil when nothing can be forgotten.
    func tunnelPool(for endpoint: PoolKey, now: Nanos) -> Upstream? {
        let key = endpoint.plain
        if let p = pools[key] { return p }
        if pools.count >= settings.maxUpstreams && forgetLeastRecentlyUsed(now: now) == 0 { return nil }
        return makePool(key, now: now)
    }

    /// A new pool for `key`. One made while a sibling pool of its endpoint is paused starts paused too, held by the
    /// same sources (so the thaw or /resume that releases the sibling releases it): a freeze holds every way in.
    private func makePool(_ key: PoolKey, now: Nanos) -> Upstream {
        let route = routeSettings(for: key)
        let slot = ledger.add(maxPerRoute: route.maxPerRoute, maxPending: route.maxPending)
        let p = Upstream(key: key, slot: slot, manager: self, settings: route, now: now)
        if key.tls != nil { p.tls = TLSUpstream(key: key, contexts: contexts) }
        if let sibling = existingPools(at: key.plain).first(where: { ledger.isPaused($0.slot) }) {
            ledger.inheritHolds(slot, from: sibling.slot)
        }
        inheritGenerations(p)
        pools[key] = p
        return p
    }

    /// The pools that serve `endpoint` (a plain key) and exist: the one http:// requests reach and, when it is
    /// another, the one https:// requests reach, of both spellings of a name (`fn` and `fn.`: two upstreams, but
    /// with /etc/hosts both reach one container, and a pause must hold every way in). Admin commands act on all.
    func existingPools(at endpoint: PoolKey) -> [Upstream] {
        let found = pools(ofSpelling: endpoint.plain)
        guard let twin = endpoint.plain.otherSpelling else { return found }
        return found + pools(ofSpelling: twin)
    }

    /// `existingPools(at:)` for one spelling of the name.
    private func pools(ofSpelling plain: PoolKey) -> [Upstream] {
        let http = RouteTarget.resolve(plain, settings: settings)
        let https = RouteTarget.secure(plain, settings: settings)
        var keys = http == https ? [http] : [http, https]
        // CONNECT tunnels use the plain pool even where requests go over TLS.
        if !keys.contains(plain) { keys.append(plain) }
        return keys.compactMap { pools[$0] }
    }

    /// Existing pool for `key`, if any.
    func existingPool(_ key: PoolKey) -> Upstream? { pools[key] }

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
    func acquire(_ pool: Upstream, waiter: ProxySession, allowReuse: Bool, now: Nanos) -> Acquire {
        pool.lastActivity = now
        switch ledger.checkout(pool.slot, waiter: waiter, allowReuse: allowReuse) {
        case .reuse(let lease):
            return reuseUnlessEnded(lease, pool)
        case .connect(let ticket, let evicted):
            if let victim = evicted { close(victim, reason: .evicted) }
            return .connect(ticket)
        case .wait:
            return .wait
        case .reject(let cause):
            return .reject(cause)
        }
    }

    /// A queued waiter gave up (timeout, caller gone, shutdown). It leaves its pool's queue or, when it was granted
    /// something that has not reached it yet, what it was granted goes back to the pool.
    func cancelWait(_ pool: Upstream, waiter: ProxySession) {
        if let grant = handOffs.take(for: waiter) { return giveBack(grant) }
        if !pool.forgotten { ledger.cancelWait(pool.slot, waiter: waiter) }
        forgetIfEmptied(pool)
    }

    /// A grant whose waiter went away before it arrived: an unused connection goes through the release gate (to the
    /// next waiter, idle, or closed), a slot to the next waiter.
    func giveBack(_ grant: consuming PoolGrant) {
        switch consume grant {
        case .lease(let lease):
            let conn = lease.conn
            release(lease, facts: ReleaseFacts.unused(conn), now: MonotonicClock.now())
        case .ticket(let ticket):
            connectFailed(ticket)
        case .rejected:
            break
        }
    }

    // MARK: connect slots

    /// The connect for `ticket` succeeded: the new connection is busy with its request.
    func connected(_ ticket: consuming ConnectTicket, pool: Upstream, channel: Channel, now: Nanos) -> UpstreamLease {
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
        // A connect counts as in flight (for a `/pause?drain=`), and may have held an entry marked to forget.
        notifyDrained(at: slot)
        forgetIfEmptied(at: slot)
    }

    /// A slot for a connection opened ahead of demand; none for a pool marked to forget, which takes no new idle one.
    func reservePrewarm(_ pool: Upstream) -> ConnectTicket? {
        pool.forgetWhenEmpty ? nil : ledger.reservePrewarm(pool.slot)
    }

    /// A prewarmed connection is up: it goes idle, straight to a waiter, or closes if a pause or resume overtook it,
    /// or a forget (/evict?forget=true) came while it connected: a pool marked to forget takes no idle connection.
    func prewarmed(_ ticket: consuming ConnectTicket, pool: Upstream, channel: Channel, now: Nanos) {
        precondition(ticket.slot == pool.slot, "a connect ticket was redeemed at another pool")
        let conn = UpstreamConnection(channel: channel, pool: pool, epoch: ticket.epoch, openedAt: now)
        pool.counters[.opened] &+= 1
        carryOut(ledger.prewarmed(ticket, conn: conn, forgetting: pool.forgetWhenEmpty, now: now), now: now)
        notifyDrained(pool)
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

    private func carryOut(_ release: consuming UpstreamLedger.Release, now: Nanos, keepAliveTimeout: Int32 = -1) {
        switch consume release {
        case .pooled(let conn):
            // Each response may announce another timeout (or none): the latest is what the server now applies.
            conn.hintedIdle = KeepAliveHint.idleLimit(announcedSeconds: keepAliveTimeout)
            conn.enterIdle(deadlineIn: freshIdleDeadline(conn, now: now) - now, now: now)
        case .handOff(let waiter, let lease):
            lease.conn.pool.counters[.reused] &+= 1
            handOffs.post(.lease(lease), to: waiter)
        case .close(let reason, let conn):
            close(conn, reason: reason)
            slotsFreed(freedSlot(conn.pool))
        case .replace(let reason, let conn, let admission):
            // The first waiter is a retry: it gets the slot as a connect ticket, never this reused connection.
            close(conn, reason: reason)
            let waiter = admission.waiter
            handOffs.post(.ticket(admission.intoTicket()), to: waiter)
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
        if pool.forgetWhenEmpty && !pool.forgotten { forget(pool.key) }  // its own entry, never a newer one of its name
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
    func freedSlot(_ pool: Upstream) -> PoolSlot? { pool.forgotten ? nil : pool.slot }

    /// An idle connection's timer fired: idle timeout or maximum age.
    func idleConnectionExpired(_ conn: UpstreamConnection) {
        let now = MonotonicClock.now()
        guard let entry = ledger[conn.pool.slot].idleEntry(conn) else { return }
        let (at, reason) = UpstreamLedger.Pool.idleDeadline(since: entry.since, openedAt: entry.openedAt,
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
        UpstreamLedger.Pool.idleDeadline(since: now, openedAt: conn.openedAt, idleTimeout: settings.idleTimeout,
                                        hinted: conn.hintedIdle, maxAge: settings.maxAge).at
    }

    /// Closes a connection that already left the ledger's counts. `bulk` closes come from an admin command dropping
    /// many connections at once: their sockets close just after the command has answered (PostedEvents).
    func close(_ conn: UpstreamConnection, reason: CloseReason, bulk: Bool = false) {
        conn.pool.counters.countClose(reason)
        conn.channel.close(reset: reason.closesWithReset, via: bulk ? posted : nil)
        if conn.pool.forgetWhenEmpty && !conn.pool.forgotten { forget(conn.pool.key) }
    }

    /// Connections still on their way to `pool`'s waiters as its epoch moves on are older too: each is traded.
    private func tradeOvertaken(_ pool: Upstream, reason: CloseReason) {
        for (waiter, lease) in handOffs.granted(at: pool) where lease {
            guard let grant = handOffs.take(for: waiter) else { continue }
            switch consume grant {
            case .lease(let old): handOffs.post(.ticket(trade(old, closing: reason, bulk: true)), to: waiter)
            case .ticket(let ticket): handOffs.post(.ticket(ticket), to: waiter)
            case .rejected(let cause): handOffs.post(.rejected(cause), to: waiter)
            }
        }
    }

    /// An unused lease's connection closes for `reason` (`bulk` as `close` says); a connect slot takes its place.
    func trade(_ lease: consuming UpstreamLease, closing reason: CloseReason, bulk: Bool = false) -> ConnectTicket {
        let conn = lease.conn, ticket = ledger.trade(lease)
        close(conn, reason: reason, bulk: bulk)
        return ticket
    }

    /// Slots freed (in `slot`'s pool, or anywhere): admit waiters while the limits allow, that pool's own first.
    func slotsFreed(_ slot: PoolSlot?) {
        while let admission = ledger.admit(preferring: slot) {
            let waiter = admission.waiter
            handOffs.post(.ticket(admission.intoTicket()), to: waiter)
        }
    }

    // MARK: for the commands (PoolManager+Commands.swift)

    /// `source` pauses `pool` (PauseHolds.pause). When its mode and hold apply, its idle connections close just after
    /// the command (their slots go to waiters of other pools) and, when it rejects new requests, the requests it held
    /// are answered. Returns how many connections closed.
    func hold(_ pool: Upstream, by source: PauseSource, rejectNew: Bool, hold: Nanos?) -> Int {
        guard !pool.forgotten, let (closed, rejected) = ledger.pause(pool.slot, by: source, rejectNew: rejectNew, hold: hold) else { return 0 }
        for conn in closed { close(conn, reason: .paused, bulk: true) }
        for waiter in rejected { handOffs.post(.rejected(.upstreamPaused), to: waiter) }
        holdOvertaken(pool)
        slotsFreed(freedSlot(pool))
        return closed.count
    }

    /// `source` lets go of `pool` (PauseHolds.resume). When it resumes, its held requests check out again in arrival
    /// order, and each hears its answer on the next turn; returns how many were held.
    func letGo(_ pool: Upstream, by source: PauseSource, now: Nanos) -> Int {
        guard !pool.forgotten, let held = ledger.resume(pool.slot, by: source) else { return 0 }
        for entry in held {
            let waiter = entry.waiter
            switch acquire(pool, waiter: waiter, allowReuse: !entry.fresh, now: now) {
            case .reuse(let lease): handOffs.post(.lease(lease), to: waiter)
            case .connect(let ticket): handOffs.post(.ticket(ticket), to: waiter)
            case .wait: break
            case .reject(let cause): handOffs.post(.rejected(cause), to: waiter)
            }
        }
        return held.count
    }

    /// Closes `pool`'s connections idle for at least `idleFor` (all when nil) for `reason`, `bulk` as `close` says;
    /// their slots go to waiters. Returns how many closed.
    func closeIdle(_ pool: Upstream, idleFor: Nanos?, now: Nanos, reason: CloseReason, bulk: Bool) -> Int {
        let conns = pool.forgotten ? [] : ledger.evict(pool.slot, idleFor: idleFor, now: now)
        for conn in conns { close(conn, reason: reason, bulk: bulk) }
        slotsFreed(freedSlot(pool))
        return conns.count
    }

    /// Moves `pool` on to a new epoch without pausing it (a VM restore: `stale-epoch`; a new generation: `generation`):
    /// its idle connections close just after the running callback, their slots go to waiters; returns how many.
    @discardableResult
    func moveEpoch(_ pool: Upstream, closing reason: CloseReason = .staleEpoch) -> Int {
        let conns = pool.forgotten ? [] : ledger.moveEpoch(pool.slot)
        for conn in conns { close(conn, reason: reason, bulk: true) }
        tradeOvertaken(pool, reason: reason)
        slotsFreed(freedSlot(pool))
        return conns.count
    }

    /// New limits (a reload): what is open stays, later decisions use them, and any room they make goes to waiters.
    func setLimits(maxTotal: Int, perRoute: (Upstream) -> (maxPerRoute: Int, maxPending: Int)) {
        ledger.maxTotal = maxTotal
        for pool in pools.values {
            let (maxPerRoute, maxPending) = perRoute(pool)
            ledger.setLimits(pool.slot, maxPerRoute: maxPerRoute, maxPending: maxPending)
        }
        slotsFreed(nil)
    }

    /// Drops `key`'s entry once the ledger agrees it is empty; its counts go to the totals, and to another worker's
    /// share of the upstream when one takes them (`shareForgotten`, `takeShare`).
    func dropEntry(_ pool: Upstream) -> Bool {
        // Read before the slot goes: the ledger holds the pause counts.
        let pauses = ledger[pool.slot].holds.counts
        guard ledger.remove(pool.slot) else { return false }
        forgottenTotals.merge(pool.counters)
        forgottenPauses.add(pauses)
        pool.forgotten = true
        if !forgetting.isEmpty { forgetting.removeAll { $0 === pool } }
        pools[pool.key] = nil
        entryDropped(pool.key)
        if let shareForgotten, pool.counters.carriedTraffic { shareForgotten(pool.key, pool.counters) }
        return true
    }
}
