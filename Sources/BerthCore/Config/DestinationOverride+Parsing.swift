// Reading the `match` of a per-destination override: a host, host:port or CIDR block.

extension DestinationOverride {
    /// `text` in canonical form (lowercased, CIDR checked), or a problem naming the accepted forms.
    static func normalizeMatch(_ text: String) throws(ValueProblem) -> String {
        // Throws for a malformed block such as 10.0.0.0/33; nil when the text is not numeric at all.
        if try CIDR.parse(text) != nil { return text.lowercased() }
        if let (host, port) = splitPort(text) {
            let number = try ValueKind<Int>.port.parse([String(port)])
            if host.hasPrefix("[") {
                // Spelled as a request's upstream is (`PoolKey.canonicalIPv6`), or the two would never meet.
                guard let canonical = PoolKey.canonicalIPv6(String(host)) else {
                    throw ValueProblem("\"\(text)\": \"\(host)\" is not an IPv6 address")
                }
                return "\(canonical):\(number)"
            }
            if IPAddressLiteral.bytes(String(host)) != nil { return "\(host):\(number)" }
            return "\(try HostName.normalize(String(host))):\(number)"
        }
        do {
            return try HostName.normalize(text)
        } catch {
            // A shorthand is told apart: its problem says what to write instead.
            if PoolKey.shorthandIPv4(text) != nil { throw error }
            throw ValueProblem("\"\(text)\" is not a host, host:port or CIDR block")
        }
    }

    /// Host and port of `host:port` or `[v6]:port`; nil for a bare host or a bare IPv6 address.
    private static func splitPort(_ text: String) -> (Substring, Substring)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return (Substring(text), "") }
            return (text[...close], text[text.index(after: close)...].dropFirst())
        }
        guard text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") else { return nil }
        return (text[..<colon], text[text.index(after: colon)...])
    }
}
