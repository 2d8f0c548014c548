// Socket addresses: IPv4/IPv6 built from numeric text (no resolver), and Unix domain socket paths.
internal import CLibevent
import Glibc

/// A numeric IPv4 or IPv6 address with its port, or the path of a Unix domain socket.
package struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    package enum Family: Sendable, Hashable { case v4, v6, unix }
    /// Address bytes in network order (4 or 16 of them), or a Unix socket's path in UTF-8.
    package var bytes: [UInt8]
    /// The port; 0 for a Unix socket.
    package var port: Int
    package let family: Family

    /// The longest Unix socket path the kernel takes: `sun_path` less its terminating NUL (107 bytes on Linux).
    package static let maxUnixPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Parses a numeric IPv4 or IPv6 literal (IPv6 without brackets); nil for names.
    package init?(numericHost host: String, port: Int) {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var a4 = in_addr()
        if inet_pton(AF_INET, h, &a4) == 1 {
            self.init(bytes: withUnsafeBytes(of: &a4) { Array($0) }, port: port)
            return
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, h, &a6) == 1 {
            self.init(bytes: withUnsafeBytes(of: &a6) { Array($0) }, port: port)
            return
        }
        return nil
    }

    /// Wraps raw IP address bytes (4 or 16).
    package init(bytes: [UInt8], port: Int) {
        self.bytes = bytes
        self.port = port
        self.family = bytes.count == 4 ? .v4 : .v6
    }

    /// A Unix domain socket at `path`; nil when the path is empty, holds a NUL or is longer than the kernel takes.
    package init?(unixPath path: String) {
        let utf8 = Array(path.utf8)
        guard !utf8.isEmpty, utf8.count <= Self.maxUnixPathBytes, !utf8.contains(0) else { return nil }
        self.bytes = utf8
        self.port = 0
        self.family = .unix
    }

    /// Reads a kernel sockaddr; nil for families berth does not use.
    init?(storage: UnsafePointer<sockaddr>, length: socklen_t) {
        switch Int32(storage.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in.self).pointee
            var addr = sin.sin_addr
            self.init(bytes: withUnsafeBytes(of: &addr) { Array($0) }, port: Int(UInt16(bigEndian: sin.sin_port)))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in6.self).pointee
            var addr = sin6.sin6_addr
            self.init(bytes: withUnsafeBytes(of: &addr) { Array($0) }, port: Int(UInt16(bigEndian: sin6.sin6_port)))
        case AF_UNIX:
            // The path runs to the first NUL or to the end of what the kernel filled in.
            let offset = MemoryLayout<sa_family_t>.size
            let count = max(0, Int(length) - offset)
            let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(storage) + offset, count: count)
            let path = raw.prefix { $0 != 0 }
            guard let a = SocketAddress(unixPath: String(decoding: path, as: UTF8.self)) else { return nil }
            self = a
        default:
            return nil
        }
    }

    /// The address family's AF_ constant, for socket(2).
    var addressFamily: CInt {
        switch family {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// Calls `body` with a kernel sockaddr for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch family {
        case .v4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .unix:
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            // The zeroed sockaddr_un keeps the NUL after the path (init(unixPath:) bounds its length).
            withUnsafeMutableBytes(of: &sun.sun_path) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &sun) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
    }

    /// Whether only this machine can reach the address: 127.0.0.0/8, ::1, a v4-mapped loopback, or any Unix socket.
    package var isLoopback: Bool {
        switch family {
        case .unix: return true
        case .v4: return bytes[0] == 127
        case .v6:
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return bytes[12] == 127 }
            return false
        }
    }

    /// The numeric host, IPv6 without brackets; a Unix socket's path.
    package var host: String {
        if family == .unix { return path }
        var buf = [CChar](repeating: 0, count: 64)
        var copy = bytes
        _ = copy.withUnsafeMutableBytes { inet_ntop(addressFamily, $0.baseAddress, &buf, socklen_t(buf.count)) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A Unix socket's path; empty for an IP address.
    package var path: String { family == .unix ? String(decoding: bytes, as: UTF8.self) : "" }

    /// `host:port`, IPv6 in brackets; `unix:/path` for a Unix socket, as the listen settings write it.
    package var description: String {
        switch family {
        case .v4: return "\(host):\(port)"
        case .v6: return "[\(host)]:\(port)"
        case .unix: return "unix:\(path)"
        }
    }
}
