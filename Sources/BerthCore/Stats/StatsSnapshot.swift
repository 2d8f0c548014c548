// Plain-value copies of what the admin API reports, taken on each worker's own thread and merged across workers.
import Glibc

/// One upstream's figures at one moment.
struct PoolSnapshot: @unchecked Sendable {
    var key: PoolKey
    var paused: Bool
    var rejectNew: Bool
    var epoch: UInt64
    var open: Int
    var idle: Int
    var busy: Int
    var connecting: Int
    var pending: Int
    var settings: RouteSettings
    var hold: Nanos?
    var counters: UpstreamCounters

    init(_ p: UpstreamPool) {
        key = p.key
        if case .paused(let reject) = p.state.mode {
            paused = true
            rejectNew = reject
        } else {
            paused = false
            rejectNew = false
        }
        epoch = p.state.epoch
        open = p.state.open
        idle = p.state.idle.count
        busy = p.state.busy
        connecting = p.state.connecting
        pending = p.state.waiters.count
        settings = p.settings
        hold = p.holdTimeout
        counters = p.counters
    }

    /// Adds another worker's share of the same upstream: counts and limits add up, the epoch is the newest.
    mutating func merge(_ o: borrowing PoolSnapshot) {
        paused = paused || o.paused
        rejectNew = rejectNew || o.rejectNew
        epoch = max(epoch, o.epoch)
        open += o.open
        idle += o.idle
        busy += o.busy
        connecting += o.connecting
        pending += o.pending
        settings.maxPerRoute += o.settings.maxPerRoute
        settings.maxPending += o.settings.maxPending
        counters.merge(o.counters)
    }
}

/// Everything /stats and /metrics need from the workers.
struct StatsSnapshot: @unchecked Sendable {
    /// In no particular order; `order` lists their positions sorted by name.
    var pools: [PoolSnapshot]
    /// Positions in `pools`, by name (set by `merged`).
    var order: [Int] = []
    var forgotten: UpstreamCounters
    var callerCounters: WorkerCounters
    var callers: Int
    var upstreamCount: Int
    /// Sums over every pool, whether listed or not.
    var open = 0, idle = 0, busy = 0, connecting = 0, pending = 0
    var maxTotal: Int
    var maxRequests: Int
    var idleTimeout: Nanos
    var maxAge: Nanos

    /// The figures of one worker; `only` limits the pools listed (totals always cover all).
    init(_ worker: Worker, only: PoolKey?) {
        let m = worker.manager
        var list: [PoolSnapshot] = []
        var forgotten = m.forgottenTotals
        if let only {
            // An endpoint: its plain pool, its TLS pool, or both.
            let listed = m.existingPools(at: only)
            list = listed.map(PoolSnapshot.init)
            // Totals still need every pool's counters.
            for p in m.pools.values where !listed.contains(where: { $0 === p }) { forgotten.merge(p.counters) }
        } else {
            list = m.pools.values.map(PoolSnapshot.init)
        }
        for p in m.pools.values {
            open += p.state.open
            idle += p.state.idle.count
            busy += p.state.busy
            connecting += p.state.connecting
            pending += p.state.waiters.count
        }
        pools = list
        self.forgotten = forgotten
        callerCounters = worker.counters
        callers = worker.callerCount
        upstreamCount = m.pools.count
        maxTotal = m.settings.maxTotal
        maxRequests = m.settings.maxRequests
        idleTimeout = m.settings.idleTimeout
        maxAge = m.settings.maxAge
    }

    /// Merges the workers' snapshots: same upstreams combined, counters and limits added.
    static func merged(_ parts: [StatsSnapshot]) -> StatsSnapshot {
        var result = parts[0]
        if parts.count == 1 {
            result.order = orderByName(result.pools)
            return result
        }
        var byKey: [PoolKey: PoolSnapshot] = [:]
        for part in parts {
            for p in part.pools {
                if byKey[p.key] == nil { byKey[p.key] = p } else { byKey[p.key]!.merge(p) }
            }
        }
        for part in parts.dropFirst() {
            result.forgotten.merge(part.forgotten)
            result.callerCounters.merge(part.callerCounters)
            result.callers += part.callers
            result.upstreamCount = max(result.upstreamCount, part.upstreamCount)
            result.maxTotal += part.maxTotal
            result.open += part.open
            result.idle += part.idle
            result.busy += part.busy
            result.connecting += part.connecting
            result.pending += part.pending
        }
        result.pools = Array(byKey.values)
        result.order = orderByName(result.pools)
        return result
    }

    /// Positions of `pools` in byte order of their names. Sorting positions under names computed once: sorting the
    /// snapshots themselves copied them (five arrays each) at every step and rebuilt both names at every comparison,
    /// two thirds of /stats at 10,000 upstreams. Byte order, not String's Unicode order: the same for these ASCII
    /// names and far cheaper.
    static func orderByName(_ pools: [PoolSnapshot]) -> [Int] {
        var names: [[UInt8]] = []
        names.reserveCapacity(pools.count)
        // By position: a closure over the elements would copy each snapshot (~600 bytes of counters).
        for i in pools.indices { names.append(Array(pools[i].key.description.utf8)) }
        let order = names.withUnsafeBufferPointer { n in
            pools.indices.sorted { a, b in
                n[a].withUnsafeBufferPointer { x in
                    n[b].withUnsafeBufferPointer { y in
                        let r = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                        return r != 0 ? r < 0 : x.count < y.count
                    }
                }
            }
        }
        return order
    }

    /// Counters of every upstream, forgotten ones included.
    var totals: UpstreamCounters {
        var t = forgotten
        for i in pools.indices { t.merge(pools[i].counters) }
        return t
    }
}
