// What the kernel and the peer took of a channel's output, for the socket timeout and the dead-peer look.
internal import CLibevent

extension Channel {
    /// Bytes berth wrote that the peer has not yet acknowledged: `output` plus the kernel's send queue (one ioctl,
    /// so for rare paths: the socket timeout asks it before calling a slow reader silent).
    package var unacknowledgedOutput: Int {
        pendingOutput + max(0, Int(berth_unacknowledged(fd)))
    }

    /// Bytes handed to the kernel over the connection's life (a TLS channel's ciphertext, as its BIO sent it).
    package var bytesHandedToKernel: UInt64 {
        if _slowPath(tls != nil) { return tlsBytesWritten }
        return sentToKernel
    }

    /// What the peer's kernel acknowledged (one getsockopt, for the rare dead-peer look); nil for a Unix socket.
    package func ackView() -> TCPAckView? { closed ? nil : Socket.ackView(fd) }
}
