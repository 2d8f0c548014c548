// What one column of the statistics table says about a figure: its kind and its name in /stats and in /metrics.

/// A set of labels a count is split by: its label name in /metrics, its values in storage order, and the
/// docs/stats.schema.json definition that lists them. Adding a split is one case here.
enum StatLabels: Sendable, Equatable, CaseIterable {
    /// `CloseReason`, labelled `reason`.
    case closeReason
    /// `ErrorCause`, labelled `cause`.
    case errorCause
    /// `RetryReason`, labelled `reason`.
    case retryReason
    /// `ReplaySkip`, labelled `reason`.
    case replaySkip
    /// `PauseCause`, labelled `cause`.
    case pauseCause

    /// The label's name in /metrics.
    var key: String {
        self == .errorCause || self == .pauseCause ? "cause" : "reason"
    }

    /// The label values, in storage order (the enum's declaration order).
    var values: [String] {
        switch self {
        case .closeReason: CloseReason.allCases.map(\.rawValue)
        case .errorCause: ErrorCause.allCases.map(\.rawValue)
        case .retryReason: RetryReason.allCases.map(\.rawValue)
        case .replaySkip: ReplaySkip.allCases.map(\.rawValue)
        case .pauseCause: PauseCause.allCases.map(\.rawValue)
        }
    }

    /// How many values.
    var count: Int {
        switch self {
        case .closeReason: CloseReason.allCases.count
        case .errorCause: ErrorCause.allCases.count
        case .retryReason: RetryReason.allCases.count
        case .replaySkip: ReplaySkip.allCases.count
        case .pauseCause: PauseCause.allCases.count
        }
    }

    /// The `$defs` entry of docs/stats.schema.json whose members are `values`.
    var schemaDefinition: String {
        switch self {
        case .closeReason: "closeReasons"
        case .errorCause: "causes"
        case .retryReason: "retryReasons"
        case .replaySkip: "replaySkips"
        case .pauseCause: "pauses"
        }
    }
}

/// The kind of a figure, which decides where it is stored, how workers' shares merge and how it is rendered.
enum StatKind: Sendable, Equatable {
    /// One count that only goes up; merged by adding.
    case counter
    /// One count per value of `labels`; merged by adding.
    case counterBy(StatLabels)
    /// A level now (pool occupancy), read from the pool when a snapshot is taken; merged by adding.
    case gauge
    /// A latency `Histogram` in nanoseconds, exported in seconds (/metrics) and as percentiles in ms (/stats).
    case histogram

    /// The Prometheus TYPE of its family.
    var metricType: StaticString {
        switch self {
        case .counter, .counterBy: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        }
    }

    /// How many values it holds: the number of labels it is split by, or 1.
    var width: Int {
        if case .counterBy(let l) = self { return l.count }
        return 1
    }

    /// The split, for a labelled count.
    var labels: StatLabels? {
        if case .counterBy(let l) = self { return l }
        return nil
    }

    /// Whether it is a count, split or not.
    var isCount: Bool {
        switch self {
        case .counter, .counterBy: true
        case .gauge, .histogram: false
        }
    }
}

/// One row of the statistics table (HAProxy's `stat_cols_px[]` is the model): everything an output needs to name a
/// figure, so that adding one is one row, and every output, the merge and docs/stats.schema.json follow from it.
struct StatColumn: Sendable {
    let kind: StatKind
    /// The /stats object that holds the member (`connections`, `latency_ms`), or nil for a member of the upstream's
    /// (or the totals') own object.
    let group: StaticString?
    /// The member name in /stats.
    let json: StaticString
    /// The family name in /metrics; counters end in `_total`.
    let metric: StaticString
    /// The family's HELP text.
    let help: StaticString

    /// A row; `group` names the /stats object the member sits in, if any.
    init(_ kind: StatKind, in group: StaticString? = nil, _ json: StaticString, _ metric: StaticString, _ help: StaticString) {
        self.kind = kind
        self.group = group
        self.json = json
        self.metric = metric
        self.help = help
    }
}
