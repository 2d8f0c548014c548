// Per-upstream counters: connections opened, reused and closed by reason, requests, retries, failures by cause, latencies.

/// Counters for one upstream; plain integers because each worker owns its pools. Inline storage, no arrays: a copy
/// is a memcpy with no reference counting, which /stats makes 10,000 of at 10,000 upstreams.
struct UpstreamCounters: Sendable {
    var opened: UInt64 = 0
    var reused: UInt64 = 0
    var requests: UInt64 = 0
    var retries: UInt64 = 0
    /// Indexed by `CloseReason.index`.
    private(set) var closed = CloseReason.Counts(repeating: 0)
    /// Indexed by `ErrorCause.index`.
    private(set) var failures = ErrorCause.Counts(repeating: 0)
    /// Time a request waited for a connection (zero for an idle hit).
    var acquireWait = Histogram()
    /// Time from sending the request head to the first response byte.
    var timeToFirstByte = Histogram()
    /// TLS handshakes by outcome (TLSCounters.swift).
    var tls = TLSCounters()

    /// An all-zero set.
    init() {}

    mutating func countClose(_ reason: CloseReason) { closed[reason.index] &+= 1 }
    mutating func countFailure(_ cause: ErrorCause) { failures[cause.index] &+= 1 }
    func closedCount(_ reason: CloseReason) -> UInt64 { closed[reason.index] }
    func failureCount(_ cause: ErrorCause) -> UInt64 { failures[cause.index] }

    /// Adds another set (totals).
    mutating func merge(_ o: borrowing UpstreamCounters) {
        opened &+= o.opened
        reused &+= o.reused
        requests &+= o.requests
        retries &+= o.retries
        for i in closed.indices { closed[i] &+= o.closed[i] }
        for i in failures.indices { failures[i] &+= o.failures[i] }
        acquireWait.merge(o.acquireWait)
        timeToFirstByte.merge(o.timeToFirstByte)
        tls.merge(o.tls)
    }
}

extension CloseReason {
    /// One counter per case, inline; the literal is the number of cases (checked against allCases in tests).
    typealias Counts = InlineArray<14, UInt64>
    /// Position in `allCases`: the case's tag, which Swift assigns to payload-free cases in declaration order. A
    /// dictionary lookup here cost a hash per counted close.
    @inline(__always)
    var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}

extension ErrorCause {
    /// One counter per case, inline; the literal is the number of cases (checked against allCases in tests).
    typealias Counts = InlineArray<18, UInt64>
    /// Position in `allCases` (see `CloseReason.index`).
    @inline(__always)
    var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}
