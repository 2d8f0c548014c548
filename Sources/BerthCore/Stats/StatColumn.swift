// What one column of the statistics table says about a figure: its kind and its name in /stats and in /metrics.

/// The kind of a figure, which decides where it is stored, how workers' shares merge and how it is rendered.
enum StatKind: Sendable, Equatable {
    /// One count that only goes up; merged by adding.
    case counter
    /// One count per `CloseReason`, labelled `reason`; merged by adding.
    case counterByReason
    /// One count per `ErrorCause`, labelled `cause`; merged by adding.
    case counterByCause
    /// A level now (pool occupancy), read from the pool when a snapshot is taken; merged by adding.
    case gauge
    /// A latency `Histogram` in nanoseconds, exported in seconds (/metrics) and as percentiles in ms (/stats).
    case histogram

    /// The Prometheus TYPE of its family.
    var metricType: StaticString {
        switch self {
        case .counter, .counterByReason, .counterByCause: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        }
    }

    /// How many values it holds: the number of labels it is split by, or 1.
    var width: Int {
        switch self {
        case .counterByReason: CloseReason.allCases.count
        case .counterByCause: ErrorCause.allCases.count
        case .counter, .gauge, .histogram: 1
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
