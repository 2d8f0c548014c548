// Matches an upstream against a destination pattern: host, host:port, or CIDR.
import HTTP1

/// The matching rule shared by per-destination overrides and the allowlist.
enum DestinationMatcher {
    /// Whether `pattern` (`host`, `host:port`, `*.domain`, or `addr/bits`) covers `key`.
    static func matches(_ pattern: String, key: PoolKey) -> Bool {
        let p = pattern.lowercased()
        if p.contains("/") {
            guard let rule = CIDR(parsing: p), let addr = SocketAddress(numericHost: key.bareHost, port: key.port) else { return false }
            return rule.contains(addr.bytes)
        }
        if p == key.description || p == key.host { return true }
        if p.hasPrefix("*.") {
            let suffix = p.dropFirst(1)
            return key.host.hasSuffix(suffix) || key.host == String(p.dropFirst(2))
        }
        return false
    }

    /// Whether an allow rule admits `key`.
    static func allows(_ rule: AllowRule, key: PoolKey) -> Bool {
        switch rule {
        case .host(let h):
            return matches(h, key: key)
        case .cidr(let address, let bits):
            guard let addr = SocketAddress(numericHost: key.bareHost, port: key.port) else { return false }
            return CIDR(address: address, bits: bits).contains(addr.bytes)
        }
    }
}

/// An address block.
struct CIDR: Sendable, Equatable {
    var address: [UInt8]
    var bits: Int

    init(address: [UInt8], bits: Int) {
        self.address = address
        self.bits = bits
    }

    /// Parses `a.b.c.d/n` or `v6/n`; nil when malformed.
    init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), let addr = SocketAddress(numericHost: String(parts[0]), port: 0) else { return nil }
        guard bits >= 0 && bits <= addr.bytes.count * 8 else { return nil }
        self.init(address: addr.bytes, bits: bits)
    }

    /// Whether `bytes` (same family) falls in the block.
    func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == address.count else { return false }
        var left = bits
        for i in 0..<bytes.count where left > 0 {
            let take = min(8, left)
            let mask: UInt8 = take == 8 ? 0xff : ~(0xff >> UInt8(take))
            if bytes[i] & mask != address[i] & mask { return false }
            left -= take
        }
        return true
    }
}
