// The timeouts and limits one worker's pool manager applies to every pool, from the configuration.

/// Timeouts and limits the manager applies to every pool.
struct ManagerSettings: Sendable {
    var maxTotal: Int
    var idleTimeout: Nanos
    var maxAge: Nanos
    var maxRequests: Int
    /// The route defaults before per-destination overrides.
    var route: RouteSettings
    var destinations: [DestinationOverride]
    /// Whether destinations without a `tls` entry of their own are reached over TLS (the global `tls`).
    var tlsByDefault = false
    /// An entry with no connections and no activity for this long is dropped (containers come and go).
    var forgetAfter: Nanos = 600 * 1_000_000_000
    /// Entries this worker keeps at most (--max-upstreams); a request to a new upstream past it makes room first.
    var maxUpstreams = 10_000
    /// This worker's place among the workers, for its share of per-destination limits.
    var workerIndex = 0
    var workerCount = 1
    /// How often cgroup v1 freezer files are read (v2 notifies; see FreezerPoll).
    var freezerPollInterval: Nanos = 100_000_000
    /// `max-per-route` and `max-pending` as configured, before this worker's share was taken (`route` holds the
    /// share); 0 when built without a configuration, where the share is the whole.
    var configuredMaxPerRoute = 0
    var configuredMaxPending = 0
}

extension ManagerSettings {
    /// The per-route limits configured for `key` (the defaults, then its destination's, as `routeSettings` picks
    /// them), not this worker's share: what /stats and /metrics report however many workers know the pool. The sum
    /// of the shares of the workers that knew it was reported (11 of 45 with 4 workers and one caller).
    func configuredLimits(for key: PoolKey) -> (maxPerRoute: Int, maxPending: Int) {
        var perRoute = configuredMaxPerRoute > 0 ? configuredMaxPerRoute : route.maxPerRoute
        var pending = configuredMaxPending > 0 ? configuredMaxPending : route.maxPending
        for d in destinations where DestinationMatcher.matches(d.match, key: key) {
            if let m = d.maxPerRoute { perRoute = m }
            if let m = d.maxPending { pending = m }
            break
        }
        return (perRoute, pending)
    }
}
