// A tiny blocking HTTP/1.1 origin on loopback for in-process tests: answers GETs, counts connections, can close idle ones.
import Foundation
import Glibc

/// An origin server on its own threads; every socket has a receive timeout so nothing can hang a test.
final class TestOrigin: @unchecked Sendable {
    let port: Int
    private let listenFD: CInt
    private let lock = NSLock()
    private var _accepted = 0
    private var open: [CInt] = []
    /// Close each connection this long after answering (nil keeps it open).
    let closeIdleAfter: TimeInterval?
    /// Wait this long before answering each request.
    let delay: TimeInterval
    /// Never answer (a frozen or hung server).
    let silent: Bool
    private var active = 0
    private var _peak = 0

    var accepted: Int { lock.withLock { _accepted } }
    /// Most requests being handled at once.
    var peakConcurrency: Int { lock.withLock { _peak } }

    init(closeIdleAfter: TimeInterval? = nil, delay: TimeInterval = 0, silent: Bool = false) throws {
        self.closeIdleAfter = closeIdleAfter
        self.delay = delay
        self.silent = silent
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listenFD = listenFD
        var one: CInt = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0, listen(listenFD, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { return }
            lock.withLock {
                _accepted += 1
                open.append(fd)
            }
            Thread.detachNewThread { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: CInt) {
        setReceiveTimeout(fd, seconds: 10)
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = headEnd(buffer) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                let length = contentLength(head)
                guard buffer.count >= end + length else {
                    let n = recv(fd, &chunk, chunk.count, 0)
                    if n <= 0 {
                        close(fd)
                        return
                    }
                    buffer.append(contentsOf: chunk[0..<n])
                    continue
                }
                // A request with a body gets it back; others get "ok".
                let body: [UInt8] = length > 0 ? Array(buffer[end..<(end + length)]) : Array("ok".utf8)
                buffer.removeFirst(end + length)
                lock.withLock {
                    active += 1
                    _peak = max(_peak, active)
                }
                if silent {
                    Thread.sleep(forTimeInterval: 30)
                    close(fd)
                    return
                }
                if delay > 0 { Thread.sleep(forTimeInterval: delay) }
                lock.withLock { active -= 1 }
                let response = Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
                _ = response.withUnsafeBytes { sendAll(fd, $0) }
                if let delay = closeIdleAfter {
                    Thread.sleep(forTimeInterval: delay)
                    close(fd)
                    return
                }
                continue
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 {
                close(fd)
                return
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Closes every connection it holds, as a server whose keep-alive timer fired would (FIN now).
    func closeConnections() {
        let fds = lock.withLock { () -> [CInt] in
            defer { open.removeAll() }
            return open
        }
        for fd in fds { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Stops accepting.
    func shutdownListener() {
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }
}

/// The Content-Length of a head, 0 when absent.
func contentLength(_ head: String) -> Int {
    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
}

/// Writes every byte (large bodies take several send calls).
@discardableResult
func sendAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var off = 0
    while off < bytes.count {
        let n = send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
        if n <= 0 { return false }
        off += n
    }
    return true
}

/// Index just past the first CRLFCRLF.
func headEnd(_ b: [UInt8]) -> Int? {
    guard b.count >= 4 else { return nil }
    for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
    return nil
}

/// Bounds every blocking read in a test.
func setReceiveTimeout(_ fd: CInt, seconds: Int) {
    var tv = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

/// A blocking caller connection to berth.
final class TestCaller {
    let fd: CInt
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        setReceiveTimeout(fd, seconds: 10)
    }

    /// Sends a GET for `path` to `upstreamPort` in absolute form and returns the status line and body.
    func get(_ path: String, upstreamPort: Int) -> (status: String, body: String)? {
        sendGet(path, upstreamPort: upstreamPort)
        return readResponse()
    }

    /// Sends a POST with `body` and returns the raw head and body bytes of the answer.
    func post(_ path: String, upstreamPort: Int, body: [UInt8]) -> (head: String, body: [UInt8])? {
        let head = "POST http://127.0.0.1:\(upstreamPort)\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(upstreamPort)\r\nContent-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + body
        guard request.withUnsafeBytes({ sendAll(fd, $0) }) else { return nil }
        return readRaw()
    }

    /// Reads one response: head text and body bytes.
    func readRaw() -> (head: String, body: [UInt8])? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = headEnd(pending) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                let length = contentLength(head)
                if pending.count >= end + length {
                    let body = Array(pending[end..<(end + length)])
                    pending.removeFirst(end + length)
                    return (head, body)
                }
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes the request only.
    func sendGet(_ path: String, upstreamPort: Int) {
        let request = "GET http://127.0.0.1:\(upstreamPort)\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(upstreamPort)\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one response.
    func readResponse() -> (status: String, body: String)? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = headEnd(pending) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if pending.count >= end + length {
                    let body = String(decoding: pending[end..<(end + length)], as: UTF8.self)
                    pending.removeFirst(end + length)
                    return (String(head.split(separator: "\r\n")[0]), body)
                }
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            pending.append(contentsOf: chunk[0..<n])
        }
    }

    deinit { close(fd) }
}
