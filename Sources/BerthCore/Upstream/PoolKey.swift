// The name of an upstream and of its pool: `host:port` (host lowercased, IPv6 in brackets) and, for TLS, its settings.
import Glibc
import HTTP1
import EventLoop

/// Identifies one upstream pool: the endpoint, and for a TLS pool the settings its connections were made with, so
/// that a connection made with one server name, trust or client certificate is never handed to a request for another.
struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    /// Lowercased host name or IP literal, IPv6 in brackets.
    let host: String
    let port: Int
    /// The TLS settings, interned: sessions copy their pool's key per request, and a key that held the settings
    /// themselves (six more fields, four strings) cost ~400 instructions a request in copies and retains; a counted
    /// reference still cost two retain/release calls (bench/allocs). An interned object lives for the process, so
    /// the reference needs no counting, and equal settings are the same object.
    private unowned(unsafe) let secured: SecuredBy?
    /// `host:port`, and `https://host:port` for a TLS pool (in /stats, /metrics and the logs).
    let description: String

    /// Canonicalises `host` (lowercased; an IPv6 literal in brackets and in one spelling, `canonicalIPv6`). A name's
    /// trailing dot stays: `example.` is the absolute name, resolved without the resolver's search domains, and
    /// `example` may resolve elsewhere (`example.corp`), so they are two upstreams that never share a connection. Both
    /// meet the destination settings and allow rules of `example` (`matchHost`), as the configuration writes names
    /// without the dot. A dotted quad's trailing dot goes (`isDottedQuadWithDot`): `127.0.0.1.` is 127.0.0.1.
    init(host: String, port: Int, tls: TLSSettings? = nil) {
        var h = host.lowercased()
        if h.utf8.contains(UInt8(ascii: ":")) { h = PoolKey.canonicalIPv6(h) ?? (h.hasPrefix("[") ? h : "[\(h)]") }
        if PoolKey.isDottedQuadWithDot(h) { h.removeLast() }
        self.host = h
        self.port = port
        self.secured = tls.map(SecuredBy.interned)
        self.description = tls == nil ? "\(h):\(port)" : "\(PoolKey.tlsPrefix)\(h):\(port)"
        self.isResolvable = PoolKey.resolvable(h, port: port)
        self.isRoutable = isResolvable && (1...65535).contains(port)
    }

    /// The one spelling of the IPv6 literal `text` (with or without brackets), nil when it is none: the caller picks
    /// among many (`[::1]`, `[0::1]`, `[0:0:0:0:0:0:0:1]`), and each made an upstream of its own, so a `/pause` of
    /// one left the others sending to the frozen container. An IPv4-mapped address (`::ffff:127.0.0.1`) is the IPv4
    /// address it maps, dotted and bare, as a connect to it reaches that address; any other is inet_ntop's text
    /// (RFC 5952: lowercase, zeros compressed) in brackets.
    static func canonicalIPv6(_ text: String) -> String? {
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        var address = in6_addr()
        guard inet_pton(AF_INET6, bare, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { b -> String? in
            if b.prefix(10).allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
                return "\(b[12]).\(b[13]).\(b[14]).\(b[15])"
            }
            var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, b.baseAddress, &out, socklen_t(out.count)) != nil else { return nil }
            return "[" + String(cString: out) + "]"
        }
    }

    /// Whether `host` is a dotted quad with a trailing dot (`127.0.0.1.`): berth's resolver, its allow rules and curl
    /// read it as the address, as WHATWG's URL parser does, so it is that address's upstream and not a name's. As a
    /// name of its own, a `/pause` of `127.0.0.1:P` left `127.0.0.1.:P` sending to the frozen container (adv11, the
    /// class of items 33 and 152). Only a name that starts with a digit and ends with a dot reaches the C call.
    static func isDottedQuadWithDot(_ host: String) -> Bool {
        let utf8 = host.utf8
        guard utf8.count > 1, utf8.last == UInt8(ascii: "."), let first = utf8.first, first >= 0x30 && first <= 0x39 else {
            return false
        }
        var address = in_addr()
        return inet_pton(AF_INET, String(host.dropLast()), &address) == 1
    }

    /// Whether the host is an absolute name (`example.`): resolved as it is, without search domains.
    var isAbsolute: Bool { host.utf8.count > 1 && host.utf8.last == UInt8(ascii: ".") }

    /// The host as destination patterns and allow rules see it: an absolute name without its trailing dot.
    var matchHost: String { isAbsolute ? String(host.dropLast()) : host }

    /// `matchHost:port`, the `endpoint` patterns with a port are compared with.
    var matchEndpoint: String { isAbsolute ? "\(matchHost):\(port)" : "\(host):\(port)" }

    /// The same name spelled the other way, with or without the trailing dot (`fn` for `fn.`, `fn.` for `fn`); nil
    /// for an IP literal. Two upstreams, yet /etc/hosts (a container's name) gives both the same address, so the
    /// admin commands that name one act on both (`PoolManager.existingPools(at:)`).
    var otherSpelling: PoolKey? {
        if isAbsolute { return PoolKey(host: String(host.dropLast()), port: port, tls: tls) }
        if host.hasPrefix("[") || SocketAddress(numericHost: bareHost, port: port) != nil { return nil }
        return PoolKey(host: host + ".", port: port, tls: tls)
    }

    /// How connections are secured; nil for plain TCP.
    var tls: TLSSettings? { secured?.settings }

    /// Canonical `host:port`: what destination patterns match and the admin API's `upstream=` names.
    var endpoint: String { secured == nil ? description : String(description.dropFirst(PoolKey.tlsPrefix.utf8.count)) }

    private static let tlsPrefix = "https://"

    /// The plain key of the same endpoint.
    var plain: PoolKey { tls == nil ? self : PoolKey(host: host, port: port) }

    /// This endpoint with `settings` (nil for plain).
    func with(tls settings: TLSSettings?) -> PoolKey { PoolKey(host: host, port: port, tls: settings) }

    /// The name a TLS connection is for: the configured server name, else the host (without IPv6 brackets).
    var peerName: String { tls?.serverName ?? (isAbsolute ? String(bareHost.dropLast()) : bareHost) }

    /// Parses the `upstream=HOST:PORT` form the admin API takes; nil when malformed.
    init?(parsing text: String) {
        guard let authority = Authority(parsing: Substring(text)), let port = authority.port, (1...65535).contains(port) else { return nil }
        self.init(host: authority.host, port: port)
    }

    /// Whether the host is an IP literal or a name DNS can carry: labels of 1-63 letters, digits, '-' or '_'
    /// (container names use '_'), at most 253 bytes, and no IPv4 shorthand (`shorthandIPv4`). Anything else gets a
    /// 400 before a query is ever sent. Judged once, when the key is made, and not part of the key's identity.
    let isResolvable: Bool

    /// Whether berth may route to this key (`refusal` is nil): judged when the key is made, so routing reads a stored
    /// fact and asks for the refusal's words only when there is one. Not part of the key's identity.
    let isRoutable: Bool

    /// Why berth refuses to route to this key (400 `bad-request`, before a pool or a query is made), nil when it
    /// may: a host no resolver could carry, or port 0, which names no service (RFC 6335 reserves it) and whose
    /// connect the kernel refuses, so it would otherwise make a pool of its own for a 502 `connect-refused`.
    /// Asked where a route is made (a new route, a CONNECT) only when `isRoutable` says there is one, and by the admin.
    var refusal: String? {
        if isRoutable { return nil }
        if isResolvable { return "port \(port) names no destination: give a port from 1 to 65535" }
        if let dotted = PoolKey.shorthandIPv4(host) {
            return "\(host) is an IPv4 address in shorthand, which resolvers and clients read differently; write it dotted, as \(dotted)"
        }
        return "\(host) is not a valid host name"
    }

    /// The dotted quad that an IPv4 shorthand in `host` stands for, nil for anything else. inet_aton, and so glibc's
    /// getaddrinfo and curl, read `127.1`, `0x7f.0.0.1`, `0177.0.0.1`, `2130706433` and `127.0.0.01` as addresses
    /// (`0` as 0.0.0.0); evdns would send them to DNS as names. Either reading is a trap: a DNS answer may be any
    /// address, and an allowlist's CIDR rules, written for dotted quads, never meet the name. So such a host is
    /// refused, as WHATWG's URL parser refuses a host that ends in a number yet is no valid address; one inet_aton
    /// refuses too (`256.1`, `1.2.3.4.5`, `08.1`) stays a name, as glibc takes it. A trailing dot is left out first.
    static func shorthandIPv4(_ host: String) -> String? {
        let name = host.utf8.count > 1 && host.utf8.last == UInt8(ascii: ".") ? String(host.dropLast()) : host
        // inet_aton's forms start with a digit; checking that first keeps names clear of the C calls.
        guard let first = name.utf8.first, first >= 0x30 && first <= 0x39 else { return nil }
        var address = in_addr()
        guard inet_aton(name, &address) != 0 else { return nil }
        var canonical = in_addr()
        if inet_pton(AF_INET, name, &canonical) == 1 { return nil }
        return withUnsafeBytes(of: &address) { $0.map(String.init).joined(separator: ".") }
    }

    /// `isResolvable` for the canonical `host`: an IP literal, or a DNS name that is not an IPv4 shorthand.
    private static func resolvable(_ host: String, port: Int) -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if SocketAddress(numericHost: bare, port: port) != nil { return true }
        if shorthandIPv4(host) != nil { return false }
        let utf8 = host.utf8
        let absolute = utf8.count > 1 && utf8.last == UInt8(ascii: ".")
        let bytes = absolute ? utf8.dropLast() : utf8[...]
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var label = 0
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard label > 0 else { return false }
                label = 0
                continue
            }
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            guard ok else { return false }
            label += 1
            guard label <= 63 else { return false }
        }
        // An absolute name's one trailing dot is left out above, so a name still ending in one had two: malformed.
        return label > 0
    }

    /// The host without IPv6 brackets, as the resolver and socket calls want it.
    var bareHost: String {
        host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }
}

extension PoolKey {
    /// Same endpoint and the same TLS settings (interned, so the same object).
    static func == (a: PoolKey, b: PoolKey) -> Bool {
        a.port == b.port && a.secured === b.secured && a.host == b.host
    }

    func hash(into h: inout Hasher) {
        h.combine(host)
        h.combine(port)
        h.combine(secured.map(ObjectIdentifier.init))
    }
}

/// One distinct TLS settings value that a pool key has named, kept for the life of the process: there are as many
/// as the configurations ever loaded name (and the defaults), a handful.
private final class SecuredBy: Sendable {
    let settings: TLSSettings
    private init(_ settings: TLSSettings) { self.settings = settings }

    /// Every value made so far.
    private static let all = ThreadLock<[TLSSettings: SecuredBy]>([:])

    /// The object for `settings`, made on first use.
    static func interned(_ settings: TLSSettings) -> SecuredBy {
        all.withLock { table in
            if let known = table[settings] { return known }
            let made = SecuredBy(settings)
            table[settings] = made
            return made
        }
    }
}
