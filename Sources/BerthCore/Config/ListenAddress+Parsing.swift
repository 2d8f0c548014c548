// Reading `HOST:PORT` or `unix:/path` for the proxy and admin listeners.

extension ListenAddress {
    /// Parses `127.0.0.1:3128`, `[::1]:8080`, `localhost:3128`, `:3128` (all IPv4 interfaces, as in Go and nginx)
    /// or `unix:/run/berth/proxy.sock`.
    static func parse(_ text: String) throws(ValueProblem) -> ListenAddress {
        if text.lowercased().hasPrefix("unix:") {
            return .unix(path: try UnixSocketPath.validate(String(text.dropFirst(5))))
        }
        let quoted = "\"\(text)\""
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ValueProblem("\(quoted) is not HOST:PORT (write [::1]:8080 for IPv6)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":") else { throw ValueProblem("\(quoted): only IPv6 addresses go in brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ValueProblem("\(quoted) is not HOST:PORT (write 127.0.0.1:3128, [::1]:3128, :3128 or unix:/path)")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { throw ValueProblem("\(quoted): put an IPv6 address in brackets, as in [::1]:8080") }
        }
        guard port.isASCIIDigits, let number = Int(port), (0...65535).contains(number) else {
            throw ValueProblem("\(quoted): the port must be a number from 0 to 65535")
        }
        if host.isEmpty { return ListenAddress(host: "0.0.0.0", port: number) }
        let lowered = host.lowercased()
        if lowered == "localhost" { return ListenAddress(host: lowered, port: number) }
        guard IPAddressLiteral.bytes(lowered) != nil else {
            throw ValueProblem("\(quoted): listen on a numeric address or localhost, not a host name")
        }
        return ListenAddress(host: lowered, port: number)
    }

    /// Whether only this machine can connect: localhost, 127.0.0.0/8, ::1, or a Unix socket (its file's mode
    /// decides who on the machine may).
    public var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .tcp(let host, _):
            if host == "localhost" { return true }
            return IPAddressLiteral.bytes(host).map(IPAddressLiteral.isLoopback) ?? false
        }
    }

    /// Whether two listeners may both be given this address: port 0 is a different free port each time.
    var picksFreePort: Bool {
        if case .tcp(_, 0) = self { return true }
        return false
    }
}
