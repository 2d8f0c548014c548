// Numeric IPv4 and IPv6 addresses as written in configuration, parsed by the C library so berth agrees with the kernel.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsing and classifying numeric addresses.
enum IPAddressLiteral {
    /// The 4 or 16 bytes of a numeric address, or nil if `text` is not one.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }

    /// Whether `bytes` is in 127.0.0.0/8, is ::1, or is an IPv4-mapped loopback address.
    static func isLoopback(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
        let mappedPrefix = [UInt8](repeating: 0, count: 10) + [0xff, 0xff]
        return Array(bytes.prefix(12)) == mappedPrefix && bytes[12] == 127
    }
}
