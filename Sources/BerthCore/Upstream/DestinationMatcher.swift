// Matches an upstream against a destination pattern: host, host:port, or CIDR.
import HTTP1
import EventLoop

/// The matching rule shared by per-destination overrides and the allowlist.
enum DestinationMatcher {
    /// Whether `pattern` (`host`, `host:port`, `*.domain`, or `addr/bits`) covers `key`.
    static func matches(_ pattern: String, key: PoolKey) -> Bool {
        let p = pattern.lowercased()
        if p.utf8.contains(UInt8(ascii: "/")) {
            guard let rule = (try? CIDR.parse(p)) ?? nil, let addr = SocketAddress(numericHost: key.matchHost, port: key.port) else { return false }
            return rule.contains(addr.bytes)
        }
        // An absolute name (`fn.`) is judged by its name without the dot, as patterns are written.
        let host = key.matchHost
        if p == key.matchEndpoint || p == host { return true }
        if p.hasPrefix("*.") {
            let suffix = p.dropFirst(1)
            return host.hasSuffix(suffix) || host == String(p.dropFirst(2))
        }
        return false
    }

    /// Whether an allow rule admits `key`.
    static func allows(_ rule: AllowRule, key: PoolKey) -> Bool {
        switch rule {
        case .host(let h):
            return matches(h, key: key)
        case .cidr(let address, let bits):
            guard let addr = SocketAddress(numericHost: key.matchHost, port: key.port) else { return false }
            return CIDR(address: address, bits: bits).contains(addr.bytes)
        }
    }
}

extension CIDR {
    /// Whether `bytes` (same family) falls in the block.
    func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == address.count else { return false }
        return CIDR.mask(bytes, bits: bits) == CIDR.mask(address, bits: bits)
    }
}
