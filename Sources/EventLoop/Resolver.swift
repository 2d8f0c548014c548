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
    private var waiting: [String: [(port: Int, done: Completion)]] = [:]
    private var hosts: [String: [[UInt8]]] = [:]
    /// TTLs are clamped: a 0 TTL would resolve on every request, a huge one would outlive a container.
    private let minTTL: Nanos = 1_000_000_000
    private let maxTTL: Nanos = 300 * 1_000_000_000
    /// Failures are cached briefly so a bad name cannot flood the resolver.
    private let negativeTTL: Nanos = 1_000_000_000
    /// Names cached at most (the worker's --max-upstreams: a name per upstream it may know); a new answer past it
    /// drops the expired entries, then the one that expires first.
    package var capacity: Int

    /// Names cached now.
    package var cachedCount: Int { cache.count }

    package init(base: EventBase, capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
        dnsBase = evdns_base_new(base.raw, EVDNS_BASE_INITIALIZE_NAMESERVERS)
        if let dnsBase {
            // evdns's own defaults (5 s, 3 attempts) let one lookup run for half a minute; the session bounds a lookup
            // by the connect timeout anyway, so keep the resolver's retries short too.
            evdns_base_set_option(dnsBase, "timeout:", "2")
            evdns_base_set_option(dnsBase, "attempts:", "2")
        }
        loadHosts()
    }

    /// Resolves `host` (lowercase, no brackets) and calls `done` with its addresses, empty on failure. May call back at once.
    package func resolve(_ host: String, port: Int, now: Nanos, done: @escaping Completion) {
        if let a = SocketAddress(numericHost: host, port: port) { return done([a]) }
        if let h = hosts[host] { return done(h.map { SocketAddress(bytes: $0, port: port) }) }
        if let e = cache[host], e.expires > now { return done(e.addresses.map { SocketAddress(bytes: $0, port: port) }) }
        if waiting[host] != nil {
            waiting[host]!.append((port, done))
            return
        }
        waiting[host] = [(port, done)]
        guard let dnsBase, startDNSQuery(base: dnsBase, host: host, wantV6: false, resolver: self) else {
            answered(host: host, wantV6: true, addresses: [], ttl: 0)
            return
        }
    }

    /// An evdns answer arrived (called from the trampoline).
    func answered(host: String, wantV6: Bool, addresses: [[UInt8]], ttl: Int) {
        if addresses.isEmpty && !wantV6, let dnsBase, startDNSQuery(base: dnsBase, host: host, wantV6: true, resolver: self) {
            return
        }
        let now = MonotonicClock.now()
        let life = addresses.isEmpty ? negativeTTL : min(max(Nanos(ttl) * 1_000_000_000, minTTL), maxTTL)
        if cache[host] == nil { makeRoom(now: now) }
        cache[host] = Entry(addresses: addresses, expires: now + life)
        let callers = waiting.removeValue(forKey: host) ?? []
        for c in callers { c.done(addresses.map { SocketAddress(bytes: $0, port: c.port) }) }
    }

    /// Keeps the cache under `capacity` before a new name goes in: the expired entries go first (a flood of names
    /// that do not resolve expires in a second), then the one closest to expiring. A scan per new name at the cap,
    /// which a lookup's own cost dwarfs.
    private func makeRoom(now: Nanos) {
        guard cache.count >= capacity else { return }
        cache = cache.filter { $0.value.expires > now }
        while cache.count >= capacity, let first = cache.min(by: { $0.value.expires < $1.value.expires }) {
            cache[first.key] = nil
        }
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
