// Where an upstream's connections go: the Unix socket a destination maps its host and port to, or what DNS says.
import EventLoop

/// Naming as the Connector needs it. An upstream mapped to a Unix socket (a destination's `unix:`) keeps its pool key,
/// the `host:port` callers name, so its pool, limits, pause and stats are those of any upstream; only the connect
/// goes to the path instead of to a resolved address.
final class UpstreamResolver {
    /// Host names: /etc/hosts, then evdns with its TTL cache; IP literals answer at once.
    let dns: Resolver
    /// Unowned(unsafe): the worker owns both, and the manager outlives every connect. It holds the destinations in
    /// force, reloads included.
    private unowned(unsafe) let manager: PoolManager

    /// A resolver on `base` for the destinations of `manager`, with a query in flight for each of `callers` at most.
    init(base: EventBase, manager: PoolManager, callers: Int = 64) {
        dns = Resolver(base: base, capacity: manager.settings.maxUpstreams, inflight: callers)
        self.manager = manager
    }

    /// The socket `key`'s connections go to, nil for a TCP upstream. A pool carries the path in its settings; a
    /// tunnel, which has no pool, looks it up among the destinations. The configuration checked the path, so it
    /// always makes an address.
    func unixAddress(for key: PoolKey) -> SocketAddress? {
        let path = manager.existingPool(key)?.settings.unixPath ?? manager.routeSettings(for: key).unixPath
        return path.flatMap(SocketAddress.init(unixPath:))
    }

    /// Whether a connect to `key` would wait for DNS now: a name outside /etc/hosts and the cache, not mapped to a
    /// Unix socket. Asked only where a connection is about to be opened, never for a reused one.
    func mustAsk(_ key: PoolKey, now: Nanos) -> Bool {
        !dns.answersAtOnce(key.bareHost, now: now) && unixAddress(for: key) == nil
    }

    /// Resolves `host` through DNS; see `Resolver.resolve`. The wait, when the answer is not given at once.
    func resolve(_ host: String, port: Int, now: Nanos, done: @escaping Resolver.Completion) -> Resolver.Lookup? {
        dns.resolve(host, port: port, now: now, done: done)
    }

    /// Gives up a wait `resolve` returned; see `Resolver.abandon`.
    func abandon(_ lookup: Resolver.Lookup) {
        dns.abandon(lookup)
    }

    /// Frees the DNS base (shutdown).
    func shutdown() {
        dns.shutdown()
    }
}
