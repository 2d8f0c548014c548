// The storage of one upstream's counts and latencies, laid out by the statistics table (StatTable.swift).

/// Counters for one upstream; plain integers because each worker owns its pools. Inline storage, no arrays: a copy
/// is a memcpy with no reference counting, which /stats makes 10,000 of at 10,000 upstreams, and counting allocates
/// nothing. Each store holds exactly the `UpstreamStat` cases of one kind, so the merge loops over them.
struct UpstreamCounters: Sendable {
    /// One slot per `UpstreamStat` count; the literal is their number (checked in StatTableTests).
    typealias Counts = InlineArray<4, UInt64>
    /// One histogram per `UpstreamStat` latency; the literal is their number (checked in StatTableTests).
    typealias Latencies = InlineArray<2, Histogram>

    /// `UpstreamStat` counts by `slot`.
    private var counts = Counts(repeating: 0)
    /// `UpstreamStat.closed`, by `CloseReason.index`.
    private var closed = CloseReason.Counts(repeating: 0)
    /// `UpstreamStat.failures`, by `ErrorCause.index`.
    private var failures = ErrorCause.Counts(repeating: 0)
    /// `UpstreamStat` histograms by `slot`.
    private var latencies = Latencies(repeating: Histogram())

    /// An all-zero set.
    init() {}

    /// A count (`UpstreamStat` of kind `.counter`): `counters[.requests] &+= 1`.
    @inline(__always)
    subscript(_ stat: UpstreamStat) -> UInt64 {
        get { counts[stat.slot] }
        set { counts[stat.slot] = newValue }
    }

    /// Records one latency (`UpstreamStat` of kind `.histogram`).
    @inline(__always)
    mutating func observe(_ stat: UpstreamStat, _ nanos: Nanos) { latencies[stat.slot].observe(nanos) }

    /// A latency histogram (`UpstreamStat` of kind `.histogram`).
    func histogram(_ stat: UpstreamStat) -> Histogram { latencies[stat.slot] }

    /// Counts one connection closed for `reason` (`UpstreamStat.closed`).
    mutating func countClose(_ reason: CloseReason) { closed[reason.index] &+= 1 }
    /// Counts one request that failed with `cause` (`UpstreamStat.failures`).
    mutating func countFailure(_ cause: ErrorCause) { failures[cause.index] &+= 1 }
    /// Connections closed for `reason`.
    func closedCount(_ reason: CloseReason) -> UInt64 { closed[reason.index] }
    /// Requests that failed with `cause`.
    func failureCount(_ cause: ErrorCause) -> UInt64 { failures[cause.index] }

    /// Value `label` (a reason's or cause's index; 0 for an unsplit count) of a count of any kind but histogram.
    func value(_ stat: UpstreamStat, _ label: Int) -> UInt64 {
        switch stat.column.kind {
        case .counter: counts[stat.slot]
        case .counterByReason: closed[label]
        case .counterByCause: failures[label]
        case .gauge, .histogram: preconditionFailure("\(stat) is not a count")
        }
    }

    /// Whether nothing was ever counted: no request, no connection, no close, no failure.
    var isZero: Bool {
        var any: UInt64 = 0
        for i in counts.indices { any |= counts[i] }
        for i in closed.indices { any |= closed[i] }
        for i in failures.indices { any |= failures[i] }
        return any == 0
    }

    /// Adds another set (another worker's share, or totals).
    mutating func merge(_ o: borrowing UpstreamCounters) {
        for i in counts.indices { counts[i] &+= o.counts[i] }
        for i in closed.indices { closed[i] &+= o.closed[i] }
        for i in failures.indices { failures[i] &+= o.failures[i] }
        for i in latencies.indices { latencies[i].merge(o.latencies[i]) }
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
    typealias Counts = InlineArray<14, UInt64>
    /// Position in `allCases` (see `CloseReason.index`).
    @inline(__always)
    var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}
