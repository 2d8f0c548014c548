// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, so systemd's Type=notify knows berth's state.
import Glibc
internal import CLibevent  // SOCK_DGRAM and SOCK_CLOEXEC are reached through it here, as in Socket.swift

/// The notification socket systemd passes a `Type=notify` service (`NOTIFY_SOCKET`: a path, or `@name` in the
/// abstract namespace). With it, systemd ends the start job only at `READY=1`, so a `systemctl reload` queued behind
/// a start waits until berth handles SIGHUP, where with `Type=exec` it could reach berth while it still loaded.
package enum SystemdNotify {
    /// Sends `state` ("READY=1", "STOPPING=1"); false when berth was not started with a notification socket or the
    /// send failed (nothing else to do then: the protocol has no reply). Never waits: a datagram socket whose queue
    /// is full (a reader that stopped) made a blocking sendto wait for ever on the thread that handles the signals,
    /// so berth never acted on a SIGTERM (review11). systemd reads its socket at once; a notification it cannot
    /// take now is dropped, as a lost datagram would be.
    @discardableResult
    package static func send(_ state: String) -> Bool {
        guard let raw = getenv("NOTIFY_SOCKET") else { return false }
        var path = Array(String(cString: raw).utf8)
        guard let first = path.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else { return false }
        var address = sockaddr_un()
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        let abstract = first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            for (i, byte) in path.enumerated() { sunPath[i] = byte }
        }
        // An abstract name is exactly its bytes; a path ends at its NUL.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = state.withCString { message in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message, strlen(message), Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), $0, length)
                }
            }
        }
        return sent >= 0
    }
}
