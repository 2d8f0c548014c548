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

    /// From a pool on its worker, with its counters, pause state and gauges already read.
    init(_ key: PoolKey, _ counters: borrowing UpstreamCounters, paused: Bool, gauges: PoolSnapshot.Gauges) {
        self.key = key
        self.paused = paused
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

    /// `positions` in byte order of the names `key` gives for them. Each name's first 16 bytes are packed into two
    /// big-endian integers once, so almost every comparison is two integer compares: at 10,000 upstreams, arrays of
    /// name bytes compared with memcmp took ~2 ms, all of it on the admin's loop. Byte order, not String's Unicode
    /// order: the same for these ASCII names and far cheaper. Names hold no NUL, so zero padding orders a prefix
    /// before its extensions, as memcmp-then-length does.
    static func sortedByName(_ positions: [Int], key: (Int) -> PoolKey) -> [Int] {
        var names: [String] = []
        var packed: [(UInt64, UInt64)] = []
        names.reserveCapacity(positions.count)
        packed.reserveCapacity(positions.count)
        for i in positions {
            var name = key(i).description
            packed.append(name.withUTF8 { PoolSummary.pack($0) })
            names.append(name)
        }
        let sorted = positions.indices.sorted { a, b in
            let x = packed[a], y = packed[b]
            if x != y { return x < y }
            return PoolSummary.bytesLess(names[a], names[b])
        }
        return sorted.map { positions[$0] }
    }

    /// The first 16 bytes of `b`, big-endian, zero-padded.
    static func pack(_ b: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0..<8 { hi = hi << 8 | UInt64(k < b.count ? b[k] : 0) }
        for k in 8..<16 { lo = lo << 8 | UInt64(k < b.count ? b[k] : 0) }
        return (hi, lo)
    }

    /// Byte order of two names: memcmp, then the shorter first.
    static func bytesLess(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let r = memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count))
                return r != 0 ? r < 0 : x.count < y.count
            }
        }
    }
}
