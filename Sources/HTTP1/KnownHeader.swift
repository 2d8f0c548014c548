// The header names the codec acts on, as a table: recognising a new one is adding a case and a row.

/// Header names the codec acts on, recognised once when a field is stored. Only fields of these kinds get a record
/// of their own in `HTTPHeaders`; every other line is kept as bytes alone.
enum KnownHeader: UInt8, Sendable {
    case other, host, contentLength, transferEncoding, connection, upgrade, expect
    case keepAlive, proxyConnection, proxyAuthorization, te, trailer, via
    /// berth's own cause header: an upstream's is renamed on the way to the caller (a chained berth's cause).
    case berthError
    /// berth's generation header on a request (`Berth-Generation`): only a head that has one is searched for it.
    case berthGeneration
    /// berth's per-request socket timeout (`Berth-Socket-Timeout`), looked up for every request.
    case berthSocketTimeout
    /// What a `Berth-Error` is forwarded as; known so that Connection or the drop list can name it without a scan.
    case berthUpstreamError
    /// W3C `traceparent`, read by the access log.
    case traceparent
    /// A field named `Close` (RFC 9110 registers the name so that `Connection: close` can never name a real field):
    /// known so that `Connection: close`, the most common list, names only kinds.
    case close
    /// `Content_Length` or `Transfer_Encoding` in any case: not framing to berth, but servers that map '_' to '-'
    /// (CGI-style environments) would read them as framing next to the real one. They are never forwarded.
    case framingLookalike

    /// The length of the names of this kind; 0 for `.other` and the look-alikes, whose names vary.
    @inline(__always)
    var nameLength: Int {
        switch self {
        case .other, .framingLookalike: return 0
        case .te: return 2
        case .via: return 3
        case .host: return 4
        case .close: return 5
        case .expect: return 6
        case .upgrade, .trailer: return 7
        case .connection, .keepAlive: return 10
        case .berthError, .traceparent: return 11
        case .contentLength: return 14
        case .proxyConnection, .berthGeneration: return 16
        case .transferEncoding: return 17
        case .proxyAuthorization: return 19
        case .berthSocketTimeout, .berthUpstreamError: return 20
        }
    }

    /// Its bit in a `KindSet`.
    @inline(__always) var bit: UInt32 { 1 &<< UInt32(rawValue) }

    /// The kind of a field name, any letter case. Fast because most names on the wire (User-Agent, Accept, Date,
    /// Server, Content-Type...) are told apart from every row by their length and first byte alone, with one table
    /// word and one bit test, inlined where the field is stored; only a name that passes goes to the rows.
    @inline(__always)
    static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        guard mayBeKnown(name, length: name.count) else { return .other }
        return classifyRows(name)
    }

    /// Whether the name of `length` bytes at the start of `p` passes the filter of `classify`.
    @inline(__always)
    static func mayBeKnown(_ p: UnsafeRawBufferPointer, length n: Int) -> Bool {
        n > 0 && firstBytes(ofLength: n) & (1 &<< UInt32(p[0] & 31)) != 0
    }

    /// For each length, the first bytes of the rows of that length as bits (`byte & 31`, so either case sets the same
    /// bit). Other bytes may share a bit (digits share letters' bits): a false "maybe" only costs the rows' compare.
    @inline(__always)
    static func firstBytes(ofLength n: Int) -> UInt32 {
        switch n {
        case 2: return 0x0010_0000                 // t
        case 3: return 0x0040_0000                 // v
        case 4: return 0x0000_0100                 // h
        case 5: return 0x0000_0008                 // c
        case 6: return 0x0000_0020                 // e
        case 7: return 0x0030_0000                 // u t
        case 10: return 0x0000_0808                // c k
        case 11: return 0x0010_0004                // b t
        case 14: return 0x0000_0008                // c
        case 16: return 0x0001_0004                // p b
        case 17: return 0x0010_0000                // t
        case 19: return 0x0001_0000                // p
        case 20: return 0x0000_0004                // b
        default: return 0
        }
    }

    /// The table: one row per recognised name, written lowercase, under the case of its length; a name is known
    /// exactly when a row spells it. Adding a name is adding a row and its first byte to `firstBytes`
    /// (`KnownHeaderTests` checks that every row passes that filter).
    static func classifyRows(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        @inline(__always) func row(_ spelling: StaticString, _ kind: KnownHeader) -> KnownHeader? {
            matches(name, spelling) ? kind : nil
        }
        let known: KnownHeader?
        switch name.count {
        case 2: known = row("te", .te)
        case 3: known = row("via", .via)
        case 4: known = row("host", .host)
        case 5: known = row("close", .close)
        case 6: known = row("expect", .expect)
        case 7: known = row("upgrade", .upgrade) ?? row("trailer", .trailer)
        case 10: known = row("connection", .connection) ?? row("keep-alive", .keepAlive)
        case 11: known = row("berth-error", .berthError) ?? row("traceparent", .traceparent)
        case 14: known = row("content-length", .contentLength) ?? lookalike(name, "content-length")
        case 16: known = row("proxy-connection", .proxyConnection) ?? row("berth-generation", .berthGeneration)
        case 17: known = row("transfer-encoding", .transferEncoding) ?? lookalike(name, "transfer-encoding")
        case 19: known = row("proxy-authorization", .proxyAuthorization)
        case 20: known = row("berth-socket-timeout", .berthSocketTimeout) ?? row("berth-upstream-error", .berthUpstreamError)
        default: known = nil
        }
        return known ?? .other
    }

    /// Whether `name` spells `spelling` (lowercase letters and '-', of the same length: the caller's switch saw to
    /// it) in any letter case. Fast because it is one to three word compares whatever the length, each a load, an OR
    /// and a compare with constants: the last word is loaded where it ends with the name, overlapping the one before,
    /// instead of a loop over the bytes left, and 0x20 is set only where the spelling has a letter (its bit 0x40
    /// shifted down), so a name byte matches exactly that letter in either case and every other byte itself.
    @inline(__always)
    static func matches(_ name: UnsafeRawBufferPointer, _ spelling: StaticString) -> Bool {
        let n = name.count
        let q = UnsafeRawPointer(spelling.utf8Start)
        @inline(__always) func word(_ i: Int) -> Bool {
            let s = q.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            return name.loadUnaligned(fromByteOffset: i, as: UInt64.self) | ((s & 0x4040_4040_4040_4040) >> 1) == s
        }
        @inline(__always) func half(_ i: Int) -> Bool {
            let s = q.loadUnaligned(fromByteOffset: i, as: UInt32.self)
            return name.loadUnaligned(fromByteOffset: i, as: UInt32.self) | ((s & 0x4040_4040) >> 1) == s
        }
        @inline(__always) func quarter(_ i: Int) -> Bool {
            let s = q.loadUnaligned(fromByteOffset: i, as: UInt16.self)
            return name.loadUnaligned(fromByteOffset: i, as: UInt16.self) | ((s & 0x4040) >> 1) == s
        }
        if n >= 8 {
            var i = 0
            while i &+ 8 < n {
                if !word(i) { return false }
                i &+= 8
            }
            return word(n &- 8)
        }
        if n >= 4 { return half(0) && half(n &- 4) }
        return n >= 2 && quarter(0) && quarter(n &- 2)
    }

    /// `.framingLookalike` when `name` is `framing` with at least one '-' written as '_' (any case).
    static func lookalike(_ name: UnsafeRawBufferPointer, _ framing: StaticString) -> KnownHeader? {
        guard name.contains(UInt8(ascii: "_")) else { return nil }
        let f = framing.utf8Start
        for i in 0..<name.count {
            let c = name[i] == UInt8(ascii: "_") ? UInt8(ascii: "-") : lower(name[i])
            if c != f[i] { return nil }
        }
        return .framingLookalike
    }
}

/// A set of `KnownHeader` kinds in one word (bit `rawValue`).
typealias KindSet = UInt32
