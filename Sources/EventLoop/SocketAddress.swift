// IPv4/IPv6 socket addresses built from numeric text, without the resolver.
internal import CLibevent
import Glibc

/// A numeric socket address, IPv4 or IPv6.
package struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    package enum Family: Sendable, Hashable { case v4, v6 }
    /// Address bytes in network order: 4 or 16 of them.
    package var bytes: [UInt8]
    package var port: Int

    package var family: Family { bytes.count == 4 ? .v4 : .v6 }

    /// Parses a numeric IPv4 or IPv6 literal (IPv6 without brackets); nil for names.
    package init?(numericHost host: String, port: Int) {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var a4 = in_addr()
        if inet_pton(AF_INET, h, &a4) == 1 {
            self.bytes = withUnsafeBytes(of: &a4) { Array($0) }
            self.port = port
            return
        }
        var a6 = in6_addr()
        if inet_pton(AF_INET6, h, &a6) == 1 {
            self.bytes = withUnsafeBytes(of: &a6) { Array($0) }
            self.port = port
            return
        }
        return nil
    }

    /// Wraps raw bytes (4 or 16).
    package init(bytes: [UInt8], port: Int) {
        self.bytes = bytes
        self.port = port
    }

    /// Reads a kernel sockaddr.
    init?(storage: UnsafePointer<sockaddr>) {
        switch Int32(storage.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in.self).pointee
            var addr = sin.sin_addr
            self.bytes = withUnsafeBytes(of: &addr) { Array($0) }
            self.port = Int(UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr_in6.self).pointee
            var addr = sin6.sin6_addr
            self.bytes = withUnsafeBytes(of: &addr) { Array($0) }
            self.port = Int(UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    /// Calls `body` with a kernel sockaddr for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if bytes.count == 4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = UInt16(port).bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &sin6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
    }

    /// Whether the address is in 127.0.0.0/8 or ::1 (or a v4-mapped loopback).
    package var isLoopback: Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff { return bytes[12] == 127 }
        return false
    }

    /// The numeric host, IPv6 without brackets.
    package var host: String {
        var buf = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let af = bytes.count == 4 ? AF_INET : AF_INET6
        _ = copy.withUnsafeMutableBytes { inet_ntop(af, $0.baseAddress, &buf, socklen_t(buf.count)) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `host:port`, IPv6 in brackets.
    package var description: String { bytes.count == 4 ? "\(host):\(port)" : "[\(host)]:\(port)" }
}
