// The few figures of an upstream that /stats searches, filters and sorts on, so a page is picked without copying pools.
import Glibc

/// An upstream's name, state and sort figures: ~80 bytes where its `PoolSnapshot` is ~1 KB. A page of /stats is
/// picked from these, and only the upstreams on it are snapshotted in full.
struct PoolSummary: Sendable {
    var key: PoolKey
    var paused: Bool
    var requests: UInt64
    var errors: UInt64
    var open: Int
    var pending: Int

    /// From a pool on its worker, with its counters, state and gauges already read.
    init(_ key: PoolKey, _ counters: borrowing UpstreamCounters, state: UpstreamPools.Pool, gauges: PoolSnapshot.Gauges) {
        self.key = key
        if case .paused = state.mode { paused = true } else { paused = false }
        requests = counters[.requests]
        errors = counters.failureTotal
        open = gauges[UpstreamStat.open.slot]
        pending = gauges[UpstreamStat.pending.slot]
    }

    /// From a full snapshot.
    init(_ s: borrowing PoolSnapshot) {
        key = s.key
        paused = s.paused
        requests = s.counters[.requests]
        errors = s.counters.failureTotal
        open = s[.open]
        pending = s[.pending]
    }

    /// Adds another worker's share of the same upstream, as `PoolSnapshot.merge` does.
    mutating func merge(_ o: PoolSummary) {
        paused = paused || o.paused
        requests &+= o.requests
        errors &+= o.errors
        open += o.open
        pending += o.pending
    }

    /// The workers' summaries, the same upstream's combined.
    static func merged(_ parts: [[PoolSummary]]) -> [PoolSummary] {
        if parts.count == 1 { return parts[0] }
        var at: [PoolKey: Int] = [:]
        var out: [PoolSummary] = []
        for part in parts {
            for s in part {
                if let i = at[s.key] { out[i].merge(s) } else { at[s.key] = out.count; out.append(s) }
            }
        }
        return out
    }

    /// `positions` in byte order of the names `key` gives for them. Sorting positions under names computed once:
    /// sorting the snapshots themselves copied them at every step and rebuilt both names at every comparison, two
    /// thirds of /stats at 10,000 upstreams. Byte order, not String's Unicode order: the same for these ASCII names
    /// and far cheaper.
    static func sortedByName(_ positions: [Int], key: (Int) -> PoolKey) -> [Int] {
        var names: [[UInt8]] = []
        names.reserveCapacity(positions.count)
        for i in positions { names.append(Array(key(i).description.utf8)) }
        let sorted = names.withUnsafeBufferPointer { n in
            positions.indices.sorted { a, b in
                n[a].withUnsafeBufferPointer { x in
                    n[b].withUnsafeBufferPointer { y in
                        let r = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                        return r != 0 ? r < 0 : x.count < y.count
                    }
                }
            }
        }
        return sorted.map { positions[$0] }
    }
}
