// A UDP DNS server on loopback that the test drives by hand: it answers a query only when the test says so.
import Glibc
import XCTest

/// One UDP socket on 127.0.0.1 that reads queries and sends A answers the test builds, never on its own.
final class FakeDNSServer {
    let fd: Int32
    let port: UInt16

    /// A server bound to a free loopback port; reads time out after 2 s so a lost query fails the test, not hangs it.
    init() {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        fd = s
        port = UInt16(bigEndian: addr.sin_port)
    }

    /// `127.0.0.1:port`, as evdns takes a name server.
    var address: String { "127.0.0.1:\(port)" }

    /// A query read from the socket: its bytes and who sent it.
    struct Query {
        let bytes: [UInt8]
        let peer: sockaddr_in
        /// The question's name, dotted and lowercased.
        var name: String {
            var labels: [String] = []
            var i = 12
            while i < bytes.count, bytes[i] != 0 {
                let n = Int(bytes[i])
                labels.append(String(decoding: bytes[(i + 1)..<(i + 1 + n)], as: UTF8.self).lowercased())
                i += 1 + n
            }
            return labels.joined(separator: ".")
        }
        /// The header's id and the question section, which an answer repeats.
        var questionEnd: Int {
            var i = 12
            while i < bytes.count, bytes[i] != 0 { i += 1 + Int(bytes[i]) }
            return i + 5
        }
    }

    /// The next query, nil after 2 s without one.
    func nextQuery() -> Query? {
        var buffer = [UInt8](repeating: 0, count: 1500)
        var peer = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &len) }
        }
        guard n > 12 else { return nil }
        return Query(bytes: Array(buffer.prefix(n)), peer: peer)
    }

    /// Answers `query` with one A record per address in `addresses` (none: an empty NOERROR answer), TTL 60.
    func answer(_ query: Query, addresses: [[UInt8]]) {
        var reply = Array(query.bytes.prefix(2))
        reply += [0x81, 0x80, 0, 1, UInt8(addresses.count >> 8), UInt8(addresses.count & 0xff), 0, 0, 0, 0]
        reply += query.bytes[12..<query.questionEnd]
        for a in addresses {
            reply += [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4] + a
        }
        send(reply, to: query.peer)
    }

    /// Sends raw `bytes` to `peer` (a test's own malformed answer).
    func send(_ bytes: [UInt8], to peer: sockaddr_in) {
        var to = peer
        _ = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Closes the socket.
    func close() {
        _ = Glibc.close(fd)
    }
}
