// What a socket address means on this machine: the interfaces' own addresses, wildcards, and IPv4-mapped forms.
import Glibc
internal import CLibevent

extension SocketAddress {
    /// Every address this machine's interfaces carry (getifaddrs), with port 0: what a wildcard bind accepts on.
    package static func localInterfaceAddresses() -> [SocketAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [SocketAddress] = []
        var cursor = list
        while let entry = cursor {
            if let sa = entry.pointee.ifa_addr {
                let length = socklen_t(Int32(sa.pointee.sa_family) == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
                if Int32(sa.pointee.sa_family) == AF_INET || Int32(sa.pointee.sa_family) == AF_INET6,
                   let a = SocketAddress(storage: sa, length: length) {
                    out.append(SocketAddress(bytes: a.bytes, port: 0))
                }
            }
            cursor = entry.pointee.ifa_next
        }
        return out
    }

    /// 0.0.0.0 or `::`: a bind to it listens on every local address, and a connect to it reaches this machine.
    package var isUnspecified: Bool {
        family != .unix && bytes.allSatisfy { $0 == 0 }
    }

    /// The address as the kernel routes it: an IPv4-mapped IPv6 address as plain IPv4, others unchanged.
    package var unmapped: SocketAddress {
        guard family == .v6, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return self }
        return SocketAddress(bytes: Array(bytes[12..<16]), port: port)
    }
}
