// An upstream's chunked trailer section on its way to the caller, given the treatment a response head's fields get.

/// Rewrites a response's trailer fields as `HeadSerializer` does a response head's: `Berth-Error` goes out as
/// `Berth-Upstream-Error` (a caller never takes an upstream's cause for this berth's own), and `Berth-Generation`
/// and `Berth-Socket-Timeout`, which berth strips from heads, are left out. Every other line is copied byte for
/// byte. A rare path (a response with trailer fields), off the relay's loop.
enum TrailerFields {
    /// Writes `section` (field lines, each with its CRLF, then the empty line; checked by the chunked decoder) to
    /// `caller`, rewritten.
    static func write<C: RelayChannel>(_ section: UnsafeRawBufferPointer, to caller: C) {
        var run = 0
        var line = 0
        while line < section.count {
            guard let end = section[line...].firstIndex(of: 0x0A) else { break }
            let next = end + 1
            let colon = section[line..<next].firstIndex(of: 0x3A) ?? next
            let name = UnsafeRawBufferPointer(rebasing: section[line..<colon])
            let rename = equalsIgnoringCase(name, "berth-error")
            let drop = equalsIgnoringCase(name, "berth-generation") || equalsIgnoringCase(name, "berth-socket-timeout")
            if rename || drop {
                if line > run { caller.write(UnsafeRawBufferPointer(rebasing: section[run..<line])) }
                if rename {
                    caller.write(bytes(of: "Berth-Upstream-Error"))
                    caller.write(UnsafeRawBufferPointer(rebasing: section[colon..<next]))
                }
                run = next
            }
            line = next
        }
        if section.count > run { caller.write(UnsafeRawBufferPointer(rebasing: section[run...])) }
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
