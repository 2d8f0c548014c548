// A small blocking HTTP/1.1 client over TCP or a Unix socket: one request per connection, for `berth ctl`.
import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the admin API listens.
enum CtlTarget: Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// `HOST:PORT`, `[v6]:PORT`, `:PORT` or `unix:PATH`. A wildcard host is reached on loopback, as the container
    /// health check does: `BERTH_ADMIN=0.0.0.0:9901` is what a pod sets, and it means "this machine" to a client.
    init(parsing text: String) throws(CtlError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            // sun_path holds 108 bytes with the terminating NUL.
            guard !path.isEmpty, path.utf8.count < 108 else { throw CtlError(usage: "the admin address unix:PATH needs a path of 1 to 107 bytes (got \(text))") }
            self = .unix(path: path)
            return
        }
        let bad = CtlError(usage: "the admin address must be HOST:PORT, [IPv6]:PORT, :PORT or unix:PATH (got \(text))")
        var host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { throw bad }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { throw bad }
        }
        guard !port.isEmpty, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber), let p = Int(port), (1...65535).contains(p) else {
            throw CtlError(usage: "the admin port must be a number from 1 to 65535 (got \(text))")
        }
        switch host {
        case "", "0.0.0.0": host = "127.0.0.1"
        case "::": host = "::1"
        default: break
        }
        self = .tcp(host: String(host), port: p)
    }

    /// The Host header: the authority for TCP; a Unix socket has none, and berth's page checks want a loopback name.
    var hostHeader: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix: return "localhost"
        }
    }

    /// As written back in messages.
    var display: String {
        if case .unix(let path) = self { return "unix:\(path)" }
        return hostHeader
    }
}

/// An HTTP answer: status, headers (names lowercased) and body.
struct CtlResponse {
    var status: Int
    var headers: [String: String]
    var body: Data
}

/// Sends one request per connection (`Connection: close`) and reads the answer whole (CtlAnswerReader).
struct CtlClient {
    let target: CtlTarget
    let token: String?
    /// Seconds for the connect, for each write, and for the whole answer (a server dripping it does not extend it).
    let timeout: Double

    /// `method path` with the bearer token when there is one; the body is empty (admin requests take none).
    func request(_ method: String, _ path: String) throws(CtlError) -> CtlResponse {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: berth-ctl/\(berthVersion)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if method == "POST" { head += "Content-Length: 0\r\n" }
        head += "Connection: close\r\n\r\n"
        try send(fd, Array(head.utf8))
        return try CtlAnswerReader(fd: fd, from: target.display, timeout: timeout).read()
    }

    /// `request`, then the body as a JSON object; a 4xx or 5xx becomes the server's own error message.
    func json(_ method: String, _ path: String) throws(CtlError) -> (raw: Data, object: [String: Any]) {
        let r = try request(method, path)
        let object = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any]
        guard (200..<300).contains(r.status) else {
            let message = object?["error"] as? String ?? String(decoding: r.body.prefix(300), as: UTF8.self)
            throw CtlError(server: "\(method) \(path.split(separator: "?").first ?? ""): \(r.status) \(message)", http: r.status)
        }
        guard let object else { throw CtlError(unreachable: "\(target.display) answered \(r.status) without a JSON object") }
        return (r.body, object)
    }

    /// A connected socket to the target: every address of a TCP host in turn, or the Unix socket.
    private func connect() throws(CtlError) -> CInt {
        switch target {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw CtlError(unreachable: "socket: \(errnoText())") }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connectWithin(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard ok == 0 else { close(fd); throw CtlError(unreachable: "cannot connect to \(target.display): \(errnoText(ok))") }
            return fd
        case .tcp(let host, let port):
            let first = try CtlLookup.addresses(of: host, port: port, timeout: timeout)
            defer { freeaddrinfo(first) }
            var lastError: CInt = 0
            var next: UnsafeMutablePointer<addrinfo>? = first
            while let ai = next {
                next = ai.pointee.ai_next
                let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
                guard fd >= 0 else { lastError = errno; continue }
                lastError = connectWithin(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
                if lastError == 0 { return fd }
                close(fd)
            }
            throw CtlError(unreachable: "cannot connect to \(target.display): \(errnoText(lastError))")
        }
    }

    /// connect(2) bounded by the timeout (non-blocking connect, then poll); 0 or the errno. Leaves the socket
    /// blocking, with the timeout on every send and receive.
    private func connectWithin(_ fd: CInt, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) -> CInt {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, addr, len) != 0 {
            guard errno == EINPROGRESS else { return errno }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&p, 1, Int32(timeout * 1000))
            guard n > 0 else { return n == 0 ? ETIMEDOUT : errno }
            var err: CInt = 0
            var size = socklen_t(MemoryLayout<CInt>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size)
            if err != 0 { return err }
        }
        _ = fcntl(fd, F_SETFL, flags)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return 0
    }

    /// Writes all of `bytes`, retrying after a signal.
    private func send(_ fd: CInt, _ bytes: [UInt8]) throws(CtlError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CtlError(unreachable: "sending to \(target.display): \(errnoText())") }
            sent += n
        }
    }
}

/// `strerror` of `code` (errno by default).
func errnoText(_ code: CInt = errno) -> String { String(cString: strerror(code)) }
