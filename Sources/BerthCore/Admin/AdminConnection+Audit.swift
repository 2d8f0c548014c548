// The audit line of every admin mutation: what was asked, the answer, and who asked (SO_PEERCRED on a Unix socket).
import EventLoop
import HTTP1
import Logging

extension AdminConnection {
    /// Logs a request that changes state (anything but GET and HEAD: /pause, /resume, /evict), refused ones too.
    /// Over a Unix socket the kernel names the caller's uid and pid, which no token or header can forge; over TCP
    /// the peer's address is all there is.
    func logMutation(_ head: RequestHead, status: Int) {
        var metadata: Logger.Metadata = ["method": "\(head.method.rawValue)", "target": "\(head.path)", "status": "\(status)"]
        if let peer = Socket.peerCredentials(channel.fd) {
            metadata["peer"] = "unix"
            metadata["peer_uid"] = "\(peer.uid)"
            metadata["peer_gid"] = "\(peer.gid)"
            metadata["peer_pid"] = "\(peer.pid)"
        } else {
            metadata["peer"] = "\(Socket.peerAddress(channel.fd).map(\.description) ?? "unknown")"
        }
        admin.server.logger.info("admin command", metadata: metadata)
    }
}
