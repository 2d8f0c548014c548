// A chunked body's last chunk and trailer section on their way on, given the treatment a forwarded head's fields get.

/// Rewrites a response's trailer fields as `HeadSerializer` does a response head's: `Berth-Error` goes out as
/// `Berth-Upstream-Error` (a caller never takes an upstream's cause for this berth's own), and `Berth-Generation`
/// and `Berth-Socket-Timeout`, which berth strips from heads, are left out. Fields that no trailer may carry
/// (`isForbidden`) are left out too. Every other line is copied byte for byte. A rare path (the last chunk of a
/// chunked response), off the relay's loop.
enum TrailerFields {
    /// Writes `section` (the last-chunk line, field lines each with its CRLF, then the empty line; checked by the
    /// chunked decoder) to `caller`, rewritten. The last-chunk line goes as it came.
    static func write<C: RelayChannel>(_ section: UnsafeRawBufferPointer, to caller: C) {
        rewrite(section, renamingBerthError: true) { caller.write($0) }
    }

    /// Hands `section`'s bytes to `emit` in runs, rewritten: a request's trailer (`renamingBerthError` false) loses
    /// the same fields as a response's, and its `Berth-Error`, no cause of berth's, goes as it came.
    static func rewrite(_ section: UnsafeRawBufferPointer, renamingBerthError: Bool, _ emit: (UnsafeRawBufferPointer) -> Void) {
        guard let first = section.firstIndex(of: 0x0A) else { return emit(section) }
        var run = 0
        var line = first + 1
        while line < section.count {
            guard let end = section[line...].firstIndex(of: 0x0A) else { break }
            let next = end + 1
            let colon = section[line..<next].firstIndex(of: 0x3A) ?? next
            let name = UnsafeRawBufferPointer(rebasing: section[line..<colon])
            let rename = renamingBerthError && equalsIgnoringCase(name, "berth-error")
            if rename || isDropped(name) {
                if line > run { emit(UnsafeRawBufferPointer(rebasing: section[run..<line])) }
                if rename {
                    emit(bytes(of: "Berth-Upstream-Error"))
                    emit(UnsafeRawBufferPointer(rebasing: section[colon..<next]))
                }
                run = next
            }
            line = next
        }
        if section.count > run { emit(UnsafeRawBufferPointer(rebasing: section[run...])) }
    }

    /// Whether a trailer field called `name` is left out: berth's own request fields, and those no trailer may
    /// carry (`isForbidden`).
    static func isDropped(_ name: UnsafeRawBufferPointer) -> Bool {
        equalsIgnoringCase(name, "berth-generation") || equalsIgnoringCase(name, "berth-socket-timeout") || isForbidden(name)
    }

    /// Fields a sender must not put in a trailer (RFC 9110 6.5.1, RFC 7230 4.1.2): framing, routing, connection
    /// control, request modifiers, authentication and how to read the content. Passed on, a recipient that merges
    /// trailers into the header section (as RFC 9110 6.5.2 lets one that knows the field do) could take a
    /// `Content-Length` or a `Connection` from the origin's trailer as the message's own. The list is Go net/http's
    /// `badTrailer`, with Upgrade and the cookie fields: Go refuses these names in a `Trailer` declaration; nginx
    /// 1.22 drops every upstream trailer field, HAProxy 2.6 passes them on (bench/hostile-compare).
    static func isForbidden(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 2: return equalsIgnoringCase(name, "te")
        case 4: return equalsIgnoringCase(name, "host")
        case 5: return equalsIgnoringCase(name, "range") || equalsIgnoringCase(name, "realm")
        case 6: return equalsIgnoringCase(name, "expect") || equalsIgnoringCase(name, "pragma") || equalsIgnoringCase(name, "cookie")
        case 7: return equalsIgnoringCase(name, "trailer") || equalsIgnoringCase(name, "upgrade")
        case 10: return equalsIgnoringCase(name, "connection") || equalsIgnoringCase(name, "keep-alive") || equalsIgnoringCase(name, "set-cookie")
        case 12: return equalsIgnoringCase(name, "content-type") || equalsIgnoringCase(name, "max-forwards")
        case 13: return equalsIgnoringCase(name, "authorization") || equalsIgnoringCase(name, "cache-control") || equalsIgnoringCase(name, "content-range")
        case 14: return equalsIgnoringCase(name, "content-length")
        case 16: return equalsIgnoringCase(name, "content-encoding") || equalsIgnoringCase(name, "proxy-connection") || equalsIgnoringCase(name, "www-authenticate")
        case 17: return equalsIgnoringCase(name, "transfer-encoding")
        case 18: return equalsIgnoringCase(name, "proxy-authenticate")
        case 19: return equalsIgnoringCase(name, "proxy-authorization")
        default: return false
        }
    }

    /// Whether `name` is `lower` (lowercase ASCII) in any case.
    static func equalsIgnoringCase(_ name: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard name.count == lower.utf8CodeUnitCount else { return false }
        let l = lower.utf8Start
        for i in 0..<name.count {
            let c = name[i]
            let folded = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
            if folded != l[i] { return false }
        }
        return true
    }

    private static func bytes(of s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }
}
