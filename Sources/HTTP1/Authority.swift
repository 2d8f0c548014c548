// Authorities (host and port) of targets and Host headers, validated and canonicalised on bytes.

/// A host and optional port, canonicalised: host lowercased, IPv6 literals in brackets.
public struct Authority: Hashable, Sendable {
    /// Lowercased host; an IPv6 literal keeps its brackets.
    public var host: String
    /// The port when one was given.
    public var port: Int?
    /// An authority from parts, taken as given.
    public init(host: String, port: Int?) { self.host = host; self.port = port }

    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`; nil when malformed.
    public init?(parsing text: Substring) {
        var copy = String(text)
        let parsed: Authority? = copy.withUTF8 { buf in
            let p = UnsafeRawBufferPointer(buf)
            guard let a = AuthoritySyntax.parse(p, requirePort: false) else { return nil }
            return a.make(p)
        }
        guard let parsed else { return nil }
        self = parsed
    }
}

/// Where the host and port sit inside some bytes; building Strings is left to whoever asks.
struct AuthoritySyntax: Sendable {
    var host: Range<Int>
    var port: Int?

    /// Validates RFC 3986 authority syntax without userinfo (a proxy has no use for it and it aids phishing).
    static func parse(_ p: UnsafeRawBufferPointer, requirePort: Bool) -> AuthoritySyntax? {
        let n = p.count
        guard n > 0 else { return nil }
        var hostEnd: Int
        if p[0] == 0x5B {  // '['
            var i = 1
            var sawColon = false
            while i < n && p[i] != 0x5D {
                guard charClass[Int(p[i])] & CharClass.ipv6 != 0 else { return nil }
                if p[i] == COLON { sawColon = true }
                i += 1
            }
            guard i < n, i > 1, sawColon else { return nil }
            hostEnd = i + 1
        } else {
            var i = 0
            while i < n && p[i] != COLON {
                guard charClass[Int(p[i])] & CharClass.regName != 0 else { return nil }
                i += 1
            }
            guard i > 0 else { return nil }
            hostEnd = i
        }
        var port: Int? = nil
        if hostEnd < n {
            guard p[hostEnd] == COLON else { return nil }
            let digits = n - hostEnd - 1
            guard digits >= 1, digits <= 5 else { return nil }
            var v = 0
            for j in (hostEnd + 1)..<n {
                guard isDigit(p[j]) else { return nil }
                v = v * 10 + Int(p[j] &- 0x30)
            }
            guard v <= 65535 else { return nil }
            port = v
        }
        if requirePort && port == nil { return nil }
        return AuthoritySyntax(host: 0..<hostEnd, port: port)
    }

    func make(_ p: UnsafeRawBufferPointer) -> Authority {
        let hostBytes = UnsafeRawBufferPointer(rebasing: p[host])
        let host = String(unsafeUninitializedCapacity: hostBytes.count) { out in
            for i in 0..<hostBytes.count { out[i] = lower(hostBytes[i]) }
            return hostBytes.count
        }
        return Authority(host: host, port: port)
    }
}
