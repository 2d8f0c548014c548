// TLS handshakes to one upstream by outcome: full, resumed from a cached session, failed.

/// Handshake counts of one upstream. Their share of the statistics table (Stats/StatTable.swift on the stats branch)
/// is three counter rows in a `tls` group; until then StatsRenderer and MetricsRenderer name them by hand.
struct TLSCounters: Sendable {
    /// Handshakes with a certificate exchange: no session was offered, or the upstream declined it.
    var full: UInt64 = 0
    /// Handshakes that resumed the session cached for the upstream: no certificate exchange, one round trip less
    /// with TLS 1.2, and no signature to compute or verify.
    var resumed: UInt64 = 0
    /// Handshakes that failed or timed out (requests and prewarms alike).
    var failed: UInt64 = 0

    /// An all-zero set.
    init() {}

    /// Counts one finished handshake.
    mutating func countHandshake(resumed wasResumed: Bool) {
        if wasResumed { resumed &+= 1 } else { full &+= 1 }
    }

    /// Adds another set (workers, totals, forgotten upstreams).
    mutating func merge(_ o: TLSCounters) {
        full &+= o.full
        resumed &+= o.resumed
        failed &+= o.failed
    }
}
