// The kernel's view of what a TCP peer acknowledged (TCP_INFO), the keepalive probes on each connection, a tunnel's limit.
import Glibc
internal import CLibevent

/// What the peer's kernel has acknowledged of the bytes sent on a connection, as TCP_INFO reports it.
package struct TCPAckView: Equatable, Sendable {
    /// Data bytes the peer acknowledged over the connection's life (tcpi_bytes_acked, its SYN left out).
    package var bytesAcked: UInt64
    /// Bytes written but not yet sent (tcpi_notsent_bytes).
    package var notSentBytes: UInt32
    /// Segments sent and not yet acknowledged (tcpi_unacked).
    package var unackedSegments: UInt32
    /// The connection is gone (tcpi_state TCP_CLOSE): after the peer's FIN, its kernel reset what still came, so
    /// the peer's socket was closed and nothing sent since could be read; a half-closed peer's stays CLOSE_WAIT.
    package var peerClosed: Bool
    /// The smoothed round trip in microseconds (tcpi_rtt).
    package var rttMicros: UInt32
    /// How much the round trip varies, in microseconds (tcpi_rttvar).
    package var rttVarMicros: UInt32
    /// The retransmission timeout now, in microseconds (tcpi_rto: doubled at each retransmission that went
    /// unanswered).
    package var rtoMicros: UInt32
    /// Milliseconds since the last segment carrying data left, a retransmission included (tcpi_last_data_sent).
    package var lastDataSentMillis: UInt32

    /// A view with these counts (tests inject one).
    package init(bytesAcked: UInt64, notSentBytes: UInt32, unackedSegments: UInt32, peerClosed: Bool = false,
                 rttMicros: UInt32 = 0, rttVarMicros: UInt32 = 0, rtoMicros: UInt32 = 0, lastDataSentMillis: UInt32 = 0) {
        self.bytesAcked = bytesAcked
        self.notSentBytes = notSentBytes
        self.unackedSegments = unackedSegments
        self.peerClosed = peerClosed
        self.rttMicros = rttMicros
        self.rttVarMicros = rttVarMicros
        self.rtoMicros = rtoMicros
        self.lastDataSentMillis = lastDataSentMillis
    }
}

extension Socket {
    /// Offsets in Linux's `struct tcp_info` (stable ABI: the struct only grows at its end). Glibc's Swift module
    /// carries an older struct without the 64-bit counters, so the buffer is read by offset.
    private static let rtoOffset = 8, lastDataSentOffset = 44,
                       unackedOffset = 24, rttOffset = 68, rttVarOffset = 72, bytesAckedOffset = 120, notSentOffset = 144,
                       infoSize = 160

    /// One getsockopt(TCP_INFO): nil where the kernel gives no TCP view (a Unix socket) or an old kernel's short one.
    package static func ackView(_ fd: CInt) -> TCPAckView? {
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { buffer -> TCPAckView? in
            var len = socklen_t(buffer.count)
            guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, buffer.baseAddress, &len) == 0,
                  Int(len) >= infoSize else { return nil }
            let acked = buffer.load(fromByteOffset: bytesAckedOffset, as: UInt64.self)
            // The active opener's SYN counts as one acknowledged byte.
            return TCPAckView(bytesAcked: acked > 0 ? acked - 1 : 0,
                              notSentBytes: buffer.load(fromByteOffset: notSentOffset, as: UInt32.self),
                              unackedSegments: buffer.load(fromByteOffset: unackedOffset, as: UInt32.self),
                              peerClosed: buffer.load(fromByteOffset: 0, as: UInt8.self) == 7,  // TCP_CLOSE
                              rttMicros: buffer.load(fromByteOffset: rttOffset, as: UInt32.self),
                              rttVarMicros: buffer.load(fromByteOffset: rttVarOffset, as: UInt32.self),
                              rtoMicros: buffer.load(fromByteOffset: rtoOffset, as: UInt32.self),
                              lastDataSentMillis: buffer.load(fromByteOffset: lastDataSentOffset, as: UInt32.self))
        }
    }

    /// Keepalive probes on an upstream connection, set once at its connect, so a peer that vanished while the
    /// connection sat idle is found (the probes go unanswered and the kernel reports ETIMEDOUT, which the idle
    /// watch reads) before a request is written to it. First probe after `idle` seconds of silence, then one every
    /// `interval`, `count` unanswered ones end it: idle 5 s, interval 2 s, count 3 finds a dead peer within 11 s.
    package static func setKeepAlive(_ fd: CInt, idle: CInt = 5, interval: CInt = 2, count: CInt = 3) {
        var one: CInt = 1, idle = idle, interval = interval, count = count
        let size = socklen_t(MemoryLayout<CInt>.size)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }

    /// How long bytes sent on `fd` may stay unacknowledged before the kernel gives the connection up (ETIMEDOUT,
    /// `TCP_USER_TIMEOUT`), for both sides of a tunnel: a side that vanished while the other keeps sending is
    /// otherwise held until the kernel's retransmissions run out (about 15 minutes), each byte read restarting the
    /// tunnel's idle timeout.
    /// Linux (since 5.17) does not count zero-window probes the peer answers, so a live slow reader is kept. Not on
    /// pooled connections: it would also replace the keepalive probe count, slowing their idle check.
    package static func limitUnacknowledged(_ fd: CInt, nanos: Int64) {
        var millis = CUnsignedInt(clamping: max(1, nanos / 1_000_000))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &millis, socklen_t(MemoryLayout<CUnsignedInt>.size))
    }
}
