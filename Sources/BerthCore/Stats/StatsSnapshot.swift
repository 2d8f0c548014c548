// Plain-value copies of what the admin API reports, taken on each worker's own thread and merged across workers.
import EventLoop
import Glibc

/// One upstream's figures at one moment.
struct PoolSnapshot: @unchecked Sendable {
    var key: PoolKey
    var paused: Bool
    var rejectNew: Bool
    var epoch: UInt64
    /// The current generation (`Berth-Generation`), nil until one is named, and its place in the order of changes:
    /// workers merge to the latest.
    var generation: String?
    var generationStamp: UInt64 = 0
    /// One slot per `UpstreamStat` gauge; the literal is their number (checked in StatTableTests).
    typealias Gauges = InlineArray<5, Int>

    /// `UpstreamStat` gauges by `slot`.
    var gauges = Gauges(repeating: 0)
    var settings: RouteSettings
    var hold: Nanos?
    /// Last request, release, pause or resume (`Upstream.lastActivity`), for `MetricsUpstreams.active`.
    var lastActivity: Nanos
    var counters: UpstreamCounters
    /// Who holds it paused and how often each did (FreezerStats.swift renders them).
    var holds: PauseHolds
    /// Its freezer watch, when it has one.
    var watch: FreezerWatchInfo?

    init(_ p: Upstream) {
        key = p.key
        // Read once: the pool's state is a value that each read hands out anew.
        let state = p.state
        if case .paused(let reject) = state.mode {
            paused = true
            rejectNew = reject
        } else {
            paused = false
            rejectNew = false
        }
        epoch = state.epoch
        generation = p.generations.current
        generationStamp = p.generations.stamp
        gauges = PoolSnapshot.gauges(state)
        settings = p.settings
        // The limits as configured, not this worker's share: the same on every worker, so a merge keeps them.
        let configured = p.manager.settings.configuredLimits(for: p.key)
        settings.maxPerRoute = configured.maxPerRoute
        settings.maxPending = configured.maxPending
        hold = p.holdTimeout
        lastActivity = p.lastActivity
        counters = p.counters
        holds = p.holds
        watch = p.manager.freezer?.info(p.key)
    }

    /// A snapshot from plain values (tests, and the renderers' checks against the table).
    init(key: PoolKey, settings: RouteSettings, paused: Bool = false, epoch: UInt64 = 1, lastActivity: Nanos = 0,
         counters: UpstreamCounters = UpstreamCounters()) {
        self.key = key
        self.paused = paused
        rejectNew = false
        self.epoch = epoch
        self.settings = settings
        hold = nil
        self.lastActivity = lastActivity
        self.counters = counters
        holds = PauseHolds()
        watch = nil
    }

    /// Where each occupancy gauge of the table comes from.
    static func gauges(of p: Upstream) -> Gauges { gauges(p.state) }

    /// The gauges from a state already read: each read of `Upstream.state` builds the value anew, and at 10,000
    /// upstreams a second read per pool was a tenth of /stats.
    static func gauges(_ state: UpstreamLedger.Pool) -> Gauges { state.reading.gauges }

    /// A gauge (`UpstreamStat` of kind `.gauge`).
    subscript(_ stat: UpstreamStat) -> Int {
        get { gauges[stat.slot] }
        set { gauges[stat.slot] = newValue }
    }

    /// Adds another worker's share of the same upstream: counts add up, the limits are the configured ones (the same
    /// on every worker), the epoch is the newest.
    mutating func merge(_ o: borrowing PoolSnapshot) {
        paused = paused || o.paused
        rejectNew = rejectNew || o.rejectNew
        epoch = max(epoch, o.epoch)
        if o.generationStamp > generationStamp {
            generation = o.generation
            generationStamp = o.generationStamp
        }
        for i in gauges.indices { gauges[i] += o.gauges[i] }
        lastActivity = max(lastActivity, o.lastActivity)
        counters.merge(o.counters)
        holds.merge(o.holds)
        watch = watch ?? o.watch
    }
}

/// Everything /stats and /metrics need from the workers.
struct StatsSnapshot: @unchecked Sendable {
    /// In no particular order (`sortedByName` gives an order).
    var pools: [PoolSnapshot]
    /// What a page is picked from: one per listed pool (same positions as `pools`), or, for a snapshot taken to
    /// pick a page from, one per pool while `pools` stays empty.
    var summaries: [PoolSummary] = []
    /// Whether this worker reports the pause counts (the first does; see `init(header:)`).
    var reportsPauses = false
    /// Counters of every upstream, forgotten ones included, so that totals never go backwards.
    var totals: UpstreamCounters
    var callerCounters: WorkerCounters
    var callers: Int
    var upstreamCount: Int
    /// `UpstreamStat` gauges summed over every pool, whether listed or not.
    var gauges = PoolSnapshot.Gauges(repeating: 0)
    var maxTotal: Int
    var maxRequests: Int
    var idleTimeout: Nanos
    var maxAge: Nanos
    /// When the figures were read (the newest worker's clock after a merge): what "recent" is measured against.
    var takenAt: Nanos

    /// The figures of one worker; `only` limits the pools listed (totals always cover all).
    init(_ worker: Worker, only: PoolKey?) {
        let m = worker.manager
        self.init(header: worker)
        // `only` names an endpoint: its plain pool, its TLS pool, or both.
        let listed = only.map { Set(m.existingPools(at: $0).map(\.key)) }
        if only == nil { pools.reserveCapacity(m.pools.count) }
        for p in m.pools.values { add(p, listed: listed?.contains(p.key) ?? true, summarize: false) }
        takenAt = MonotonicClock.now()
    }

    /// One worker's totals and caller figures, before any pool is added (`add`).
    init(header worker: Worker) {
        let m = worker.manager
        pools = []
        var totals = m.forgottenTotals
        // Every worker hears every command and every cgroup change, so each counts the same pauses: only the first
        // reports them, and the table's merge (adding) stays right.
        reportsPauses = worker.index == 0
        if reportsPauses { totals.setPauses(m.forgottenPauses, adding: true) }
        self.totals = totals
        callerCounters = worker.counters
        callers = worker.callerCount
        upstreamCount = m.pools.count
        maxTotal = m.settings.maxTotal
        maxRequests = m.settings.maxRequests
        idleTimeout = m.settings.idleTimeout
        maxAge = m.settings.maxAge
        takenAt = MonotonicClock.now()
    }

    /// Counts `p` in the totals and, if `listed`, lists it (`pools` and `summaries`, in step); else, with
    /// `summarize`, gives it a summary only, for a page to be picked from. Totals come straight from the pools in the
    /// same pass: the pools are ~10 MB at 10,000 upstreams, and a second pass paid their cache misses again.
    mutating func add(_ p: Upstream, listed: Bool, summarize: Bool) {
        if listed {
            var snapshot = PoolSnapshot(p)
            if reportsPauses { snapshot.counters.setPauses(p.holds.counts, adding: false) }
            totals.merge(snapshot.counters)
            for i in gauges.indices { gauges[i] += snapshot.gauges[i] }
            summaries.append(PoolSummary(snapshot))
            pools.append(snapshot)
        } else {
            // The pool's figures read in place (a copy of its state per pool was an eighth of a page at 10,000
            // upstreams), and the counters (~800 bytes) read once: each read of a class's stored struct copies it.
            let r = p.reading
            let c = p.counters
            totals.merge(c)
            if reportsPauses { totals.setPauses(r.pauses, adding: true) }
            for i in gauges.indices { gauges[i] += r.gauges[i] }
            if summarize { summaries.append(PoolSummary(p.key, c, paused: r.paused, gauges: r.gauges)) }
        }
    }

    /// A snapshot from plain values (tests): no forgotten upstreams, no callers, `maxTotal` 0.
    init(pools: [PoolSnapshot], callerCounters: WorkerCounters = WorkerCounters(), takenAt: Nanos) {
        self.pools = pools
        summaries = pools.map { PoolSummary($0) }
        totals = UpstreamCounters()
        for p in pools { totals.merge(p.counters) }
        self.callerCounters = callerCounters
        callers = 0
        upstreamCount = pools.count
        for p in pools {
            for i in gauges.indices { gauges[i] += p.gauges[i] }
        }
        maxTotal = 0
        maxRequests = 0
        idleTimeout = 0
        maxAge = 0
        self.takenAt = takenAt
    }

    /// A total of a gauge (`UpstreamStat` of kind `.gauge`) over every pool.
    func total(_ stat: UpstreamStat) -> Int { gauges[stat.slot] }

    /// Merges the workers' snapshots: same upstreams combined, counters and limits added.
    static func merged(_ parts: [StatsSnapshot]) -> StatsSnapshot {
        if parts.count == 1 { return parts[0] }
        var result = mergedHeader(parts)
        var byKey: [PoolKey: PoolSnapshot] = [:]
        for part in parts {
            for p in part.pools {
                if byKey[p.key] == nil { byKey[p.key] = p } else { byKey[p.key]!.merge(p) }
            }
        }
        if parts.contains(where: { !$0.pools.isEmpty }) {
            result.pools = Array(byKey.values)
            result.summaries = result.pools.map { PoolSummary($0) }
        } else {
            result.summaries = PoolSummary.merged(parts.map(\.summaries))
        }
        return result
    }

    /// The workers' totals, caller figures and limits combined; no pool or summary listed yet (`merged`, or
    /// SnapshotMerger a slice at a time).
    static func mergedHeader(_ parts: [StatsSnapshot]) -> StatsSnapshot {
        var result = parts[0]
        result.pools = []
        result.summaries = []
        for part in parts.dropFirst() {
            result.totals.merge(part.totals)
            result.callerCounters.merge(part.callerCounters)
            result.callers += part.callers
            result.upstreamCount = max(result.upstreamCount, part.upstreamCount)
            result.maxTotal += part.maxTotal
            for i in result.gauges.indices { result.gauges[i] += part.gauges[i] }
            result.takenAt = max(result.takenAt, part.takenAt)
        }
        return result
    }

    /// `positions` (into `pools`) in byte order of the upstreams' names.
    func sortedByName(_ positions: [Int]) -> [Int] {
        pools.withUnsafeBufferPointer { p in PoolSummary.sortedByName(positions) { p[$0].key } }
    }
}
