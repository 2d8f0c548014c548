// A fixed-bucket latency histogram: constant memory, no allocation per observation, Prometheus-compatible buckets.

/// Latency histogram over fixed upper bounds in seconds.
struct Histogram: Sendable {
    /// Upper bounds in nanoseconds: 50 µs to 30 s, roughly ×2–2.5 apart, which is what p50/p99 of a sidecar need.
    static let bounds: [Nanos] = [
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
        50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000,
        10_000_000_000, 30_000_000_000,
    ]
    /// Count per bucket (not cumulative); the last slot is +Inf.
    /// Inline (bounds.count + 1 slots, checked in tests) so that copying a histogram never touches a reference count.
    private(set) var counts = InlineArray<19, UInt64>(repeating: 0)
    private(set) var sum: Nanos = 0
    private(set) var count: UInt64 = 0

    /// An empty histogram.
    init() {}

    /// Adds one observation.
    mutating func observe(_ nanos: Nanos) {
        var i = 0
        let b = Histogram.bounds
        while i < b.count && nanos > b[i] { i += 1 }
        counts[i] &+= 1
        sum &+= max(nanos, 0)
        count &+= 1
    }

    /// Merges another histogram (for totals across upstreams and workers).
    mutating func merge(_ other: borrowing Histogram) {
        let o = other.counts.span  // in place: indexing the InlineArray copied it first
        for i in counts.indices { counts[i] &+= o[i] }
        sum &+= other.sum
        count &+= other.count
    }

    /// Takes away what `merge` of `other` added (a share moved between workers, `PoolManager.takeShare`).
    mutating func subtract(_ other: borrowing Histogram) {
        let o = other.counts.span
        for i in counts.indices { counts[i] &-= o[i] }
        sum &-= other.sum
        count &-= other.count
    }

    /// The bucket upper bound under which fraction `q` of observations fall, in nanoseconds; nil when empty.
    func quantile(_ q: Double) -> Nanos? {
        guard count > 0 else { return nil }
        let rank = UInt64((Double(count) * q).rounded(.up))
        var seen: UInt64 = 0
        for i in counts.indices {
            seen += counts[i]
            if seen >= max(rank, 1) { return i < Histogram.bounds.count ? Histogram.bounds[i] : Histogram.bounds.last! * 2 }
        }
        return Histogram.bounds.last
    }
}
