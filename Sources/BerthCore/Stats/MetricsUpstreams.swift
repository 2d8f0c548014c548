// Which upstreams get series of their own in /metrics: the bound on its cardinality.

/// The per-upstream series /metrics carries (`--metrics-upstreams`, or `/metrics?upstreams=` for one scrape). The
/// totals, the series without an `upstream` label, are there in every choice and cover every upstream.
///
/// Every upstream berth has seen used to carry about 80 series, most of them zeros: 10,000 upstreams made a 61 MB
/// scrape, and containers that come and go with a new address each are the label churn Prometheus warns against.
public enum MetricsUpstreams: String, CaseIterable, Sendable {
    /// Totals only.
    case none
    /// Upstreams in use (see `listsFully`); a paused upstream that is not in use keeps `berth_upstream_paused` alone.
    case active
    /// Every upstream berth knows.
    case all

    /// How long an upstream that has carried requests stays listed after its last request, release, pause or resume.
    /// Longer than a scrape interval plus the usual `rate()` window, so that a series ends on a flat stretch
    /// rather than vanishing mid-window; shorter than the 10-minute horizon after which a quiet upstream is forgotten.
    static let recentWindow: Nanos = 5 * 60 * 1_000_000_000

    /// Whether `pool` gets its full set of series at `now`. For `active`: it holds connections (open or opening) or
    /// requests waiting, or it has counted something (a request, a connection) and was touched within `recentWindow`.
    /// A pause or resume alone does not list an upstream that never carried a request: the orchestrator may pause
    /// thousands of them ahead of use.
    func listsFully(_ pool: borrowing PoolSnapshot, at now: Nanos) -> Bool {
        switch self {
        case .none: false
        case .all: true
        case .active:
            pool[.open] > 0 || pool[.pending] > 0
                || (pool.counters.carriedTraffic && now - pool.lastActivity < MetricsUpstreams.recentWindow)
        }
    }

    /// Whether `pool` has a `berth_upstream_paused` series of its own at `now`: every paused upstream unless `none`,
    /// so that an alert on a long pause sees each one.
    func listsPause(_ pool: borrowing PoolSnapshot, at now: Nanos) -> Bool {
        self != .none && (pool.paused || listsFully(pool, at: now))
    }
}
