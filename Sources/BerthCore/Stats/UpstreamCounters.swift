// The storage of one upstream's counts and latencies, laid out by the statistics table (StatTable.swift).

/// Counters for one upstream; plain integers because each worker owns its pools. Inline storage, no arrays: a copy
/// is a memcpy with no reference counting, which /stats makes 10,000 of at 10,000 upstreams, and counting allocates
/// nothing. Each store holds exactly the `UpstreamStat` cases of one kind, so the merge loops over them.
struct UpstreamCounters: Sendable {
    /// One slot per `UpstreamStat` count; the literal is their number (checked in StatTableTests).
    typealias Counts = InlineArray<9, UInt64>
    /// One histogram per `UpstreamStat` latency; the literal is their number (checked in StatTableTests).
    typealias Latencies = InlineArray<2, Histogram>

    /// `UpstreamStat` counts by `slot`.
    private var counts = Counts(repeating: 0)
    /// Every labelled count (`counterBy`) side by side, each from its `labelBase`; the literal is their total
    /// width (checked in StatTableTests).
    typealias Labelled = InlineArray<56, UInt64>
    private var labelled = Labelled(repeating: 0)
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
    mutating func countClose(_ reason: CloseReason) { labelled[UpstreamStat.closed.labelBase + reason.index] &+= 1 }
    /// Counts one request that failed with `cause` (`UpstreamStat.failures`).
    mutating func countFailure(_ cause: ErrorCause) { labelled[UpstreamStat.failures.labelBase + cause.index] &+= 1 }
    /// Counts one request sent again, and why (`retries` and `replays`).
    mutating func countRetry(_ reason: RetryReason) {
        counts[UpstreamStat.retries.slot] &+= 1
        labelled[UpstreamStat.replays.labelBase + RetryReason.allCases.firstIndex(of: reason)!] &+= 1
    }
    /// Counts one request that could not keep a replay copy (`replaySkipped`).
    mutating func countReplaySkip(_ reason: ReplaySkip) {
        labelled[UpstreamStat.replaySkipped.labelBase + ReplaySkip.allCases.firstIndex(of: reason)!] &+= 1
    }
    /// The pause counts of the pool's holds (`pauses`, `resumes`), which PauseHolds keeps; the snapshot carries them
    /// here so the table renders and merges them like any count. `adding` for a total.
    mutating func setPauses(_ p: PauseCounts, adding: Bool) {
        let base = UpstreamStat.pauses.labelBase
        for (i, cause) in PauseCause.allCases.enumerated() {
            labelled[base + i] = (adding ? labelled[base + i] : 0) &+ cause.count(p)
        }
        counts[UpstreamStat.resumes.slot] = (adding ? counts[UpstreamStat.resumes.slot] : 0) &+ p.resumes
    }

    /// Connections closed for `reason`.
    func closedCount(_ reason: CloseReason) -> UInt64 { labelled[UpstreamStat.closed.labelBase + reason.index] }
    /// Requests that failed with `cause`.
    func failureCount(_ cause: ErrorCause) -> UInt64 { labelled[UpstreamStat.failures.labelBase + cause.index] }
    /// Failed requests of every cause (what /stats?sort=errors orders by, and the page shows as errors).
    var failureTotal: UInt64 {
        // Through a span: indexing the InlineArray itself copied all of it (~400 bytes) first.
        let l = labelled.span
        var t: UInt64 = 0
        for i in UpstreamCounters.failureSpan { t &+= l[i] }
        return t
    }
    /// Where the failure causes sit in `labelled`, found once: `column` builds the table's row (its strings) on each
    /// call, and /stats sums failures for every upstream.
    private static let failureSpan: Range<Int> = {
        let base = UpstreamStat.failures.labelBase
        return base ..< base + UpstreamStat.failures.column.kind.width
    }()

    /// Value `label` (the label's position; 0 for an unsplit count) of a count of any kind but histogram.
    func value(_ stat: UpstreamStat, _ label: Int) -> UInt64 {
        switch stat.column.kind {
        case .counter: counts[stat.slot]
        case .counterBy: labelled[stat.labelBase + label]
        case .gauge, .histogram: preconditionFailure("\(stat) is not a count")
        }
    }

    /// Whether the upstream ever carried traffic: a request, a connection, a close or a failure. Pauses and
    /// resumes alone do not count: the orchestrator may pause thousands of upstreams ahead of use.
    var carriedTraffic: Bool {
        // Read in place: indexing an InlineArray of a struct copied the whole array first, per index (/metrics looks
        // at this for every upstream).
        let c = counts.span, l = labelled.span
        var any: UInt64 = 0
        for stat in UpstreamCounters.trafficCounts { any |= c[stat.slot] }
        for (base, width) in UpstreamCounters.trafficSplits {
            for i in 0..<width { any |= l[base + i] }
        }
        return any != 0
    }

    /// The counts and splits that only traffic moves (pauses and resumes do not), found once.
    private static let trafficCounts: [UpstreamStat] = [.opened, .reused, .requests, .retries]
    private static let trafficSplits: [(Int, Int)] = [UpstreamStat.closed, .failures].map { ($0.labelBase, $0.column.kind.width) }

    /// Adds another set (another worker's share, or totals).
    mutating func merge(_ o: borrowing UpstreamCounters) {
        // Through spans: indexing `o`'s InlineArrays copied each of them first, most of /stats at 10,000 upstreams.
        let oc = o.counts.span, ol = o.labelled.span, oh = o.latencies.span
        for i in counts.indices { counts[i] &+= oc[i] }
        for i in labelled.indices { labelled[i] &+= ol[i] }
        for i in latencies.indices { latencies[i].merge(oh[i]) }
    }

    /// Takes away what `merge` of `o` added (wrapping, as `merge` adds): a share moved between workers.
    mutating func subtract(_ o: borrowing UpstreamCounters) {
        let oc = o.counts.span, ol = o.labelled.span, oh = o.latencies.span
        for i in counts.indices { counts[i] &-= oc[i] }
        for i in labelled.indices { labelled[i] &-= ol[i] }
        for i in latencies.indices { latencies[i].subtract(oh[i]) }
    }
}

extension CloseReason {
    /// One counter per case, inline; the literal is the number of cases (checked against allCases in tests).
    typealias Counts = InlineArray<17, UInt64>
    /// Position in `allCases`: the case's tag, which Swift assigns to payload-free cases in declaration order. A
    /// dictionary lookup here cost a hash per counted close.
    @inline(__always)
    var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}

extension ErrorCause {
    /// One counter per case, inline; the literal is the number of cases (checked against allCases in tests).
    typealias Counts = InlineArray<30, UInt64>
    /// Position in `allCases` (see `CloseReason.index`).
    @inline(__always)
    var index: Int { Int(unsafeBitCast(self, to: UInt8.self)) }
}

extension UpstreamStat {
    /// Where a labelled count's values start in `UpstreamCounters`' labelled storage: the widths of the labelled
    /// cases declared before it, added up once.
    var labelBase: Int { UpstreamStat.labelBases[rawValue] }

    private static let labelBases: [Int] = {
        var base = 0
        return allCases.map { stat in
            defer { base += stat.column.kind.labels == nil ? 0 : stat.column.kind.width }
            return base
        }
    }()
}
