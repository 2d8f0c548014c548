// Asynchronous host name resolution on libevent's evdns, cached for each record's TTL; /etc/hosts first, IP literals skip it.
import Glibc
internal import CLibevent

/// Resolves upstream host names without blocking the loop.
package final class Resolver {
    package typealias Completion = ([SocketAddress]) -> Void
    private struct Entry {
        var addresses: [[UInt8]]
        var expires: Nanos
    }

    private let dnsBase: OpaquePointer?
    private var cache: [String: Entry] = [:]
    private var waiting: [String: [(id: UInt64, port: Int, done: Completion)]] = [:]
    /// The evdns request under way for each name in `waiting`, cancelled when its last waiter leaves, with its number:
    /// only the answer of that very query may end it (`answered`).
    private var queries: [String: (id: UInt64, request: OpaquePointer)] = [:]
    /// The last query's number.
    private var lastQuery: UInt64 = 0
    /// The last waiter's number (`Lookup.id`).
    private var lastWaiter: UInt64 = 0
    private var hosts: [String: [[UInt8]]] = [:]
    /// TTLs are clamped: a 0 TTL would resolve on every request, a huge one would outlive a container.
    private let minTTL: Nanos = 1_000_000_000
    private let maxTTL: Nanos = 300 * 1_000_000_000
    /// Failures are cached briefly so a bad name cannot flood the resolver.
    private let negativeTTL: Nanos = 1_000_000_000
    /// Names cached at most (the worker's --max-upstreams: a name per upstream it may know); a new answer past it
    /// drops the expired entries, then those closest to expiring, a sixteenth of the capacity at once.
    package var capacity: Int

    /// Names cached now.
    package var cachedCount: Int { cache.count }
    /// Cache entries looked at to make room, in all: a flood of new names must cost O(1) each, amortized
    /// (ResolverCacheTests).
    package private(set) var evictionWork = 0

    /// One caller's wait for a name, to give up with `abandon`.
    package struct Lookup: Sendable {
        let host: String
        let id: UInt64
    }

    /// A resolver on `base` caching `capacity` names, with up to `inflight` queries out at once. It asks the name
    /// servers of /etc/resolv.conf, or `nameservers` (`127.0.0.1:5353`; no search domains then), which tests give.
    package init(base: EventBase, capacity: Int = 10_000, inflight: Int = 64, nameservers: [String]? = nil) {
        self.capacity = max(1, capacity)
        dnsBase = evdns_base_new(base.raw, nameservers == nil ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0)
        if let dnsBase {
            for server in nameservers ?? [] { evdns_base_nameserver_ip_add(dnsBase, server) }
            // evdns's own defaults (5 s, 3 attempts) let one lookup run for half a minute; the session bounds a lookup
            // by the connect timeout anyway, so keep the resolver's retries short too.
            evdns_base_set_option(dnsBase, "timeout:", "2")
            evdns_base_set_option(dnsBase, "attempts:", "2")
        }
        setInflight(inflight)
        loadHosts()
    }

    /// Lets `callers` queries fly at once (at least 64, evdns's default; at most 65,535). evdns queues the rest in
    /// order: names whose server never answers (a caller's own slow domain) held every place and the next name
    /// waited behind them past its connect timeout. As many may fly as the callers that can wait on one (hostile1),
    /// and a query nobody waits for is cancelled (`abandon`), so callers hold at most one place each. Set again on
    /// a reload, which may change max-callers.
    package func setInflight(_ callers: Int) {
        guard let dnsBase else { return }
        evdns_base_set_option(dnsBase, "max-inflight:", "\(min(max(callers, 64), 65_535))")
    }

    /// Resolves `host` (lowercase, no brackets) and calls `done` with its addresses, empty on failure. May call back
    /// at once, and then returns nil; otherwise the wait, for `abandon`.
    /// A name with a trailing dot is absolute: /etc/hosts is read for it without the dot, and DNS is asked for it
    /// alone, never with the search domains appended (evdns would try them, as for a name with fewer dots than
    /// `ndots`); it is cached apart from the relative name, which may resolve elsewhere.
    @discardableResult
    package func resolve(_ host: String, port: Int, now: Nanos, done: @escaping Completion) -> Lookup? {
        let name = Resolver.withoutRootDot(host)
        if let a = SocketAddress(numericHost: name, port: port) { done([a]); return nil }
        if let h = hosts[name] { done(h.map { SocketAddress(bytes: $0, port: port) }); return nil }
        if let e = cache[host], e.expires > now { done(e.addresses.map { SocketAddress(bytes: $0, port: port) }); return nil }
        lastWaiter &+= 1
        let lookup = Lookup(host: host, id: lastWaiter)
        if waiting[host] != nil {
            waiting[host]!.append((lookup.id, port, done))
            return lookup
        }
        waiting[host] = [(lookup.id, port, done)]
        guard startQuery(host, wantV6: false) else {
            finish(host, addresses: [], ttl: 0)
            return nil
        }
        return lookup
    }

    /// Whether `resolve` would answer `host` at once, at `now`: an IP literal, a name in /etc/hosts, or a cached answer
    /// (a failure too) still fresh. A caller asks before it takes a connect place (dns3).
    package func answersAtOnce(_ host: String, now: Nanos) -> Bool {
        if let e = cache[host], e.expires > now { return true }
        let name = Resolver.withoutRootDot(host)
        return hosts[name] != nil || SocketAddress(numericHost: name, port: 0) != nil
    }

    /// Forgets every cached answer (failures too), so each name is asked again at its next connect: after a VM
    /// restore the monotonic clock has skipped the time the snapshot slept, so no cached answer's age can be trusted.
    /// A query under way was asked before the restore too, and its answer (sent before the VM slept, or queued in the
    /// socket while it did) names where the host was: it is asked again for the same waiters, and the old answer, if
    /// it still comes, is dropped (`answered` takes only the name's current query). /etc/hosts is kept.
    package func forgetAnswers() {
        cache.removeAll(keepingCapacity: true)
        for host in Array(queries.keys) {
            if let old = queries.removeValue(forKey: host), let dnsBase { cancelDNSQuery(base: dnsBase, old.request) }
            if !startQuery(host, wantV6: false) { finish(host, addresses: [], ttl: 0) }
        }
    }

    /// `lookup`'s caller no longer waits (its connect was cancelled or ran out of time): it is never called back.
    /// The last waiter of a name cancels the query. A query nobody waits for held its place among those in flight
    /// for evdns's 2 attempts of 2 s, past the connect timeout that ended its caller's wait, so callers giving up
    /// on silent names (a connect timeout of 1 s, a caller that closed) filled every place, and a name its server
    /// answers at once waited behind them until its own connect timeout (targets).
    package func abandon(_ lookup: Lookup) {
        guard var list = waiting[lookup.host], let i = list.firstIndex(where: { $0.id == lookup.id }) else { return }
        list.remove(at: i)
        guard list.isEmpty else {
            waiting[lookup.host] = list
            return
        }
        waiting[lookup.host] = nil
        if let query = queries.removeValue(forKey: lookup.host), let dnsBase { cancelDNSQuery(base: dnsBase, query.request) }
    }

    /// Asks evdns for `host`'s A (or AAAA) records and records the query as the name's; false when evdns refused it.
    private func startQuery(_ host: String, wantV6: Bool) -> Bool {
        lastQuery &+= 1
        guard let dnsBase, let request = startDNSQuery(base: dnsBase, host: host, query: lastQuery, wantV6: wantV6, resolver: self) else {
            return false
        }
        queries[host] = (lastQuery, request)
        return true
    }

    /// Queries in flight or queued in evdns that some caller still waits for.
    package var queriesUnderWay: Int { queries.count }

    /// Queries evdns holds whose answer (or cancel) has not reached the resolver yet, whether or not anyone waits.
    package internal(set) var queriesInEvdns = 0

    /// The answer to query number `query` arrived (called from the trampoline). Only the name's current query may
    /// settle it: evdns_cancel_request does nothing to a request whose answer is already queued (its callback pending,
    /// run later in the same loop turn), so the answer to a query `abandon` gave up can still come, after a new caller
    /// started another query for the name. That answer is dropped: taking it cleared the newer query's record, which
    /// then could not be cancelled and held its place in flight for evdns's 2 attempts of 2 s (dns3).
    func answered(host: String, query: UInt64, wantV6: Bool, addresses: [[UInt8]], ttl: Int) {
        guard queries[host]?.id == query else { return }
        // The request that answered is freed by evdns once this returns: it may no longer be cancelled.
        queries[host] = nil
        if addresses.isEmpty && !wantV6, waiting[host] != nil, startQuery(host, wantV6: true) { return }
        finish(host, addresses: addresses, ttl: ttl)
    }

    /// The lookup of `host` ended with `addresses` (none: it failed): cached for the TTL, and its waiters called back.
    func finish(_ host: String, addresses: [[UInt8]], ttl: Int) {
        let now = MonotonicClock.now()
        let life = addresses.isEmpty ? negativeTTL : min(max(Nanos(ttl) * 1_000_000_000, minTTL), maxTTL)
        if cache[host] == nil { makeRoom(now: now) }
        cache[host] = Entry(addresses: addresses, expires: now + life)
        let callers = waiting.removeValue(forKey: host) ?? []
        for c in callers { c.done(addresses.map { SocketAddress(bytes: $0, port: c.port) }) }
    }

    /// `host` without the one trailing dot of an absolute name.
    static func withoutRootDot(_ host: String) -> String {
        host.utf8.count > 1 && host.utf8.last == UInt8(ascii: ".") ? String(host.dropLast()) : host
    }

    /// Keeps the cache under `capacity` before a new name goes in, a batch at a time: the expired entries go (a flood
    /// of names that do not resolve expires in a second), then those closest to expiring until a sixteenth of the
    /// capacity is free. A flood of distinct names then pays for one pass (and one sort) per capacity/16 names,
    /// O(log n) each amortised, where a pass per name made each O(n) (hostile1: 3,200 entries looked at per name
    /// at a capacity of 1,600).
    private func makeRoom(now: Nanos) {
        guard cache.count >= capacity else { return }
        let keep = capacity - max(1, capacity / 16)
        evictionWork += cache.count
        cache = cache.filter { $0.value.expires > now }
        guard cache.count > keep else { return }
        evictionWork += cache.count
        let soonest = cache.sorted { $0.value.expires < $1.value.expires }.prefix(cache.count - keep)
        for (name, _) in soonest { cache[name] = nil }
    }

    private func loadHosts() {
        guard let f = fopen("/etc/hosts", "r") else { return }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard fields.count >= 2, let addr = SocketAddress(numericHost: String(fields[0]), port: 0) else { continue }
            for name in fields.dropFirst() { hosts[name.lowercased(), default: []].append(addr.bytes) }
        }
    }

    /// Frees the evdns base (shutdown).
    package func shutdown() {
        if let dnsBase { evdns_base_free(dnsBase, 1) }
    }
}
