// The admin host's name lookup for `berth ctl`, bounded by --timeout as the connect is.
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// getaddrinfo(3) on a thread of its own, waited for at most `timeout` seconds: glibc's resolver keeps its own
/// timeouts (resolv.conf's timeout × attempts, 10 s and more by default), so a nameserver that never answers would
/// otherwise hold ctl past the --timeout it was given. A lookup still running at the bound is left to finish on its
/// thread, which frees what it finds; ctl exits soon after.
final class CtlLookup: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var list: UnsafeMutablePointer<addrinfo>?
    private var code: CInt = 0
    private var abandoned = false

    /// The addresses of `host`:`port` (TCP), to be given to `freeaddrinfo`; a CtlError naming the host when the
    /// lookup fails or takes longer than `timeout` seconds.
    static func addresses(of host: String, port: Int, timeout: Double) throws(CtlError) -> UnsafeMutablePointer<addrinfo> {
        let lookup = CtlLookup()
        DispatchQueue.global().async { lookup.run(host, port) }
        if lookup.done.wait(timeout: .now() + timeout) == .timedOut {
            lookup.lock.lock()
            defer { lookup.lock.unlock() }
            // The answer may have come between the wait's end and the lock: then it is taken as any other.
            if lookup.list == nil && lookup.code == 0 {
                lookup.abandoned = true
                throw CtlError(unreachable: "cannot resolve \(host): no answer within \(timeout) s (--timeout)")
            }
        }
        lookup.lock.lock()
        defer { lookup.lock.unlock() }
        guard lookup.code == 0, let first = lookup.list else {
            throw CtlError(unreachable: "cannot resolve \(host): \(String(cString: gai_strerror(lookup.code)))")
        }
        return first
    }

    private func run(_ host: String, _ port: Int) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        var rc = getaddrinfo(host, String(port), &hints, &found)
        // A success with no address is a failure to the caller.
        if rc == 0 && found == nil { rc = EAI_NONAME }
        lock.lock()
        if abandoned {
            if let found { freeaddrinfo(found) }
        } else {
            list = found
            code = rc
        }
        lock.unlock()
        done.signal()
    }
}
