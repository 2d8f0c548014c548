// Thin wrappers over the socket system calls berth uses: listen, accept, non-blocking connect, options.
import Glibc
internal import CLibevent

/// A socket call failed; `errno` says why, and `explanation`, when there is one, says it in the user's terms.
package struct SocketError: Error, CustomStringConvertible {
    package var call: String
    package var errno: Int32
    /// What went wrong and what to do, where the bare strerror text would leave the user guessing.
    package var explanation: String?
    package var description: String { "\(call): \(explanation ?? String(cString: strerror(errno)))" }

    /// `call` failed with `errno`.
    package init(call: String, errno: Int32, explanation: String? = nil) {
        self.call = call
        self.errno = errno
        self.explanation = explanation
    }
}

/// Socket system calls.
package enum Socket {
    /// A non-blocking listening TCP socket bound to `address`; SO_REUSEPORT lets several workers share the port.
    /// Unix socket addresses go through `UnixSocketFile.listen`, which owns the file the bind creates.
    package static func listen(_ address: SocketAddress, reusePort: Bool, backlog: Int32 = 4096) throws -> CInt {
        precondition(address.family != .unix, "Unix sockets are bound by UnixSocketFile.listen")
        let af = address.addressFamily
        let fd = try streamSocket(af)
        var one: CInt = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<CInt>.size)) }
        if af == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<CInt>.size)) }
        let rc = address.withSockAddr { bind(fd, $0, $1) }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw SocketError(call: "bind \(address)", errno: e)
        }
        try startListening(fd, address, backlog: backlog)
        return fd
    }

    /// A non-blocking, close-on-exec stream socket of family `af`.
    static func streamSocket(_ af: CInt) throws -> CInt {
        let fd = socket(af, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        return fd
    }

    /// listen(2) on a bound socket; closes it on failure.
    static func startListening(_ fd: CInt, _ address: SocketAddress, backlog: Int32 = 4096) throws {
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw SocketError(call: "listen \(address)", errno: e)
        }
    }

    /// The address a socket is bound to (to learn the port the kernel picked for port 0).
    package static func localAddress(_ fd: CInt) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0, length: len) }
        }
    }

    /// Accepts one connection, non-blocking; nil on EAGAIN.
    package static func accept(_ listenFD: CInt) throws -> CInt? {
        let fd = berth_accept4(listenFD, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        if fd >= 0 { return fd }
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED { return nil }
        throw SocketError(call: "accept", errno: e)
    }

    /// Starts a non-blocking connect. Returns the fd; `inProgress` is true when the result comes later via EV_WRITE.
    /// A Unix socket connects at once or fails at once: EAGAIN there means the listener's backlog is full.
    package static func connect(to address: SocketAddress) -> (fd: CInt, inProgress: Bool, errno: Int32) {
        let fd = socket(address.addressFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, false, errno) }
        // Nagle is TCP's; on a Unix socket the option fails, so the call is saved.
        if address.family != .unix {
            setNoDelay(fd)
            // Set once here, so pooled connections are probed while idle at no cost per request.
            setKeepAlive(fd)
        }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return (fd, false, 0) }
        let e = errno
        if e == EINPROGRESS { return (fd, true, 0) }
        close(fd)
        return (-1, false, e)
    }

    /// The pending error of a socket (the outcome of a non-blocking connect).
    package static func pendingError(_ fd: CInt) -> Int32 {
        var err: CInt = 0
        var len = socklen_t(MemoryLayout<CInt>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { return errno }
        return err
    }

    /// Disables Nagle: heads and small bodies must leave at once.
    package static func setNoDelay(_ fd: CInt) {
        var one: CInt = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    }

    /// Sends FIN: the peer reads its end of stream while this side may still read (a half-close).
    package static func shutdownWrite(_ fd: CInt) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Bytes the kernel still holds to send on `fd` (SIOCOUTQ: not yet sent or not yet acknowledged); 0 when it
    /// cannot say. A syscall, so only for rare checks (a tunnel's idle timeout), never per read.
    package static func queuedToSend(_ fd: CInt) -> Int {
        var n: CInt = 0
        return ioctl(fd, UInt(TIOCOUTQ), &n) == 0 ? Int(n) : 0
    }

    /// Bytes received on `fd` and not yet read (FIONREAD); 0 when it cannot say. A syscall, so only for rare checks
    /// (an idle caller closed at the caller limit), never per read.
    package static func queuedToRead(_ fd: CInt) -> Int {
        var n: CInt = 0
        return ioctl(fd, UInt(FIONREAD), &n) == 0 ? Int(n) : 0
    }

    /// Makes close() send RST instead of FIN, for connections that must not be mistaken for a clean end.
    package static func setLingerReset(_ fd: CInt) {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    /// Who is on the other end of a connected Unix socket, as the kernel saw it at connect (SO_PEERCRED); nil for
    /// TCP, where the kernel does not know.
    package static func peerCredentials(_ fd: CInt) -> PeerCredentials? {
        var credentials = PeerCredentials(pid: 0, uid: 0, gid: 0)
        var len = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &len) == 0, len == MemoryLayout<PeerCredentials>.size,
              credentials.pid > 0 else { return nil }
        return credentials
    }

    /// The address of a connected socket's peer (a TCP caller's address and port); nil when it has none.
    package static func peerAddress(_ fd: CInt) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0, length: len) }
        }
    }
}

/// The kernel's `struct ucred` (pid_t, uid_t, gid_t), which Glibc's Swift module leaves out (it needs _GNU_SOURCE).
package struct PeerCredentials: Sendable, Hashable {
    package var pid: Int32
    package var uid: UInt32
    package var gid: UInt32
}
