// Thin wrappers over the socket system calls berth uses: listen, accept, non-blocking connect, options.
import Glibc
internal import CLibevent

/// A socket call failed; `errno` says why.
package struct SocketError: Error, CustomStringConvertible {
    package var call: String
    package var errno: Int32
    package var description: String { "\(call): \(String(cString: strerror(errno)))" }

    /// `call` failed with `errno`.
    package init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
}

/// Socket system calls.
package enum Socket {
    /// A non-blocking listening socket bound to `address`; SO_REUSEPORT lets several workers share the port.
    package static func listen(_ address: SocketAddress, reusePort: Bool, backlog: Int32 = 4096) throws -> CInt {
        let af = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(af, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
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
        guard Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw SocketError(call: "listen \(address)", errno: e)
        }
        return fd
    }

    /// The address a socket is bound to (to learn the port the kernel picked for port 0).
    package static func localAddress(_ fd: CInt) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(storage: $0) } }
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
    package static func connect(to address: SocketAddress) -> (fd: CInt, inProgress: Bool, errno: Int32) {
        let af = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(af, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, false, errno) }
        setNoDelay(fd)
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

    /// Makes close() send RST instead of FIN, for connections that must not be mistaken for a clean end.
    package static func setLingerReset(_ fd: CInt) {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }
}
