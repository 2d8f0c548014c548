// Per-upstream counters: connections opened, reused and closed by reason, requests, retries, failures by cause, latencies.

/// Counters for one upstream; plain integers because each worker owns its pools.
struct UpstreamCounters: Sendable {
    var opened: UInt64 = 0
    var reused: UInt64 = 0
    var requests: UInt64 = 0
    var retries: UInt64 = 0
    /// Indexed by `CloseReason.index`.
    private(set) var closed = [UInt64](repeating: 0, count: CloseReason.allCases.count)
    /// Indexed by `ErrorCause.index`.
    private(set) var failures = [UInt64](repeating: 0, count: ErrorCause.allCases.count)
    /// Time a request waited for a connection (zero for an idle hit).
    var acquireWait = Histogram()
    /// Time from sending the request head to the first response byte.
    var timeToFirstByte = Histogram()

    /// An all-zero set.
    init() {}

    mutating func countClose(_ reason: CloseReason) { closed[reason.index] &+= 1 }
    mutating func countFailure(_ cause: ErrorCause) { failures[cause.index] &+= 1 }
    func closedCount(_ reason: CloseReason) -> UInt64 { closed[reason.index] }
    func failureCount(_ cause: ErrorCause) -> UInt64 { failures[cause.index] }

    /// Adds another set (totals).
    mutating func merge(_ o: UpstreamCounters) {
        opened &+= o.opened
        reused &+= o.reused
        requests &+= o.requests
        retries &+= o.retries
        for i in closed.indices { closed[i] &+= o.closed[i] }
        for i in failures.indices { failures[i] &+= o.failures[i] }
        acquireWait.merge(o.acquireWait)
        timeToFirstByte.merge(o.timeToFirstByte)
    }
}

extension CloseReason {
    private static let indices: [CloseReason: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
    /// Position in `allCases`, for array-backed counters.
    var index: Int { CloseReason.indices[self]! }
}

extension ErrorCause {
    private static let indices: [ErrorCause: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
    /// Position in `allCases`, for array-backed counters.
    var index: Int { ErrorCause.indices[self]! }
}
