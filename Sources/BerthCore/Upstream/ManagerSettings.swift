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
}
