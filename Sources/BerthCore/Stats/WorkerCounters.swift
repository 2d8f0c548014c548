// The storage of one worker's caller-side counts, laid out by the statistics table (StatTable.swift).

/// Caller-side counters of one worker: `WorkerStat` counts at their raw values, and errors by cause.
struct WorkerCounters: Sendable {
    /// One slot per `WorkerStat` count; the literal is their number (checked in StatTableTests).
    typealias Counts = InlineArray<8, UInt64>

    /// `WorkerStat` counts by `rawValue`.
    private var counts = Counts(repeating: 0)
    /// `WorkerStat.errors` by `ErrorCause.index`: every cause, including those with no pool (denied, bad request).
    private var errors = ErrorCause.Counts(repeating: 0)
    /// One slot per `WorkerStat` histogram, by `slot`; the literal is their number (checked in StatTableTests).
    typealias Holds = InlineArray<2, Histogram>
    /// Admin holds of the loop (`AdminHold`), never touched on the data path.
    private var holds = Holds(repeating: Histogram())
    /// The longest observation of each histogram: the buckets say how many, this says how long the worst was.
    private var longest = InlineArray<2, Nanos>(repeating: 0)

    /// An all-zero set.
    init() {}

    /// A count (`WorkerStat` of kind `.counter`): `counters[.requestsReceived] &+= 1`.
    @inline(__always)
    subscript(_ stat: WorkerStat) -> UInt64 {
        get { counts[stat.rawValue] }
        set { counts[stat.rawValue] = newValue }
    }

    /// Counts one answer berth gave itself with `cause` (`WorkerStat.errors`).
    mutating func countFailure(_ cause: ErrorCause) { errors[cause.index] &+= 1 }
    /// Answers berth gave itself with `cause`.
    func failureCount(_ cause: ErrorCause) -> UInt64 { errors[cause.index] }

    /// Adds one observation to a `WorkerStat` histogram.
    mutating func observe(_ stat: WorkerStat, _ nanos: Nanos) {
        holds[stat.slot].observe(nanos)
        longest[stat.slot] = max(longest[stat.slot], nanos)
    }

    /// A `WorkerStat` histogram.
    func histogram(_ stat: WorkerStat) -> Histogram { holds[stat.slot] }
    /// The longest observation of a `WorkerStat` histogram (0 while empty).
    func longest(_ stat: WorkerStat) -> Nanos { longest[stat.slot] }

    /// Value `label` (a cause's index; 0 for an unsplit count) of any `WorkerStat`.
    func value(_ stat: WorkerStat, _ label: Int) -> UInt64 {
        switch stat.column.kind {
        case .counter: counts[stat.rawValue]
        case .counterBy(.errorCause): errors[label]
        case .counterBy, .gauge, .histogram: preconditionFailure("\(stat) is not a worker count")
        }
    }

    /// Adds another worker's counters.
    mutating func merge(_ o: borrowing WorkerCounters) {
        for i in counts.indices { counts[i] &+= o.counts[i] }
        for i in errors.indices { errors[i] &+= o.errors[i] }
        for i in holds.indices {
            holds[i].merge(o.holds[i])
            longest[i] = max(longest[i], o.longest[i])
        }
    }
}
