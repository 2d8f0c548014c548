// Reading allow-list entries: CIDR blocks, bare addresses, host names and `*.domain` patterns.

extension AllowRule {
    /// Parses `10.0.0.0/8`, `fd00::/8`, `10.1.2.3` (one address), `api.internal` or `*.example.com`.
    static func parse(_ text: String) throws(ValueProblem) -> AllowRule {
        if let cidr = try CIDR.parse(text) { return .cidr(address: cidr.address, bits: cidr.bits) }
        return .host(try HostName.normalizePattern(text))
    }
}

/// An address block as configured.
struct CIDR: Hashable {
    var address: [UInt8]
    var bits: Int

    /// The block `text` denotes, nil if it is not numeric at all, or a problem if it is a malformed block.
    static func parse(_ text: String) throws(ValueProblem) -> CIDR? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddressLiteral.bytes(String(parts[0])) else {
            if parts.count == 2 { throw ValueProblem("\"\(text)\" is not a CIDR block: \"\(parts[0])\" is not an IP address") }
            return nil
        }
        let width = address.count * 8
        guard parts.count == 2 else { return CIDR(address: address, bits: width) }
        guard parts[1].isASCIIDigits, let bits = Int(parts[1]), (0...width).contains(bits) else {
            throw ValueProblem("\"\(text)\" is not a CIDR block: the prefix length must be 0 to \(width)")
        }
        let masked = mask(address, bits: bits)
        // A set host bit usually means a typo in the prefix length, so refuse rather than widen silently.
        guard masked == address else {
            let suggestion = AllowRule.cidr(address: masked, bits: bits).description
            throw ValueProblem("\"\(text)\" has address bits set past /\(bits); did you mean \(suggestion)?")
        }
        return CIDR(address: address, bits: bits)
    }

    /// `address` with every bit past the first `bits` cleared.
    static func mask(_ address: [UInt8], bits: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = min(8, max(0, bits - index * 8))
            return kept == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xff << (8 - kept))
        }
    }
}
