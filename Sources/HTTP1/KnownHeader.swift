// The header names the codec acts on, as a table: recognising a new one is adding a case and a row.

/// Header names the codec acts on, recognised once when a field is stored.
enum KnownHeader: UInt8, Sendable {
    case other, host, contentLength, transferEncoding, connection, upgrade, expect
    case keepAlive, proxyConnection, proxyAuthorization, te, trailer, via
    /// berth's own cause header: an upstream's is renamed on the way to the caller (a chained berth's cause).
    case berthError

    /// The table: one row per recognised name, written lowercase, keyed by its length and first letter. Fast because
    /// most names on the wire (User-Agent, Accept, Date, Server, Content-Type...) fall through the switch on those
    /// two numbers without a byte compared; a row whose key matches compares the whole name, so a name is known
    /// exactly when a row spells it. Rows may share a key: the next row is tried when a name does not match.
    static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        guard let first = name.first else { return .other }
        @inline(__always) func row(_ spelling: StaticString) -> Bool { equalsLowercase(name, spelling) }
        switch (name.count, first | 0x20) {
        case (4, 0x68 /* h */) where row("host"): return .host
        case (14, 0x63 /* c */) where row("content-length"): return .contentLength
        case (17, 0x74 /* t */) where row("transfer-encoding"): return .transferEncoding
        case (10, 0x63 /* c */) where row("connection"): return .connection
        case (7, 0x75 /* u */) where row("upgrade"): return .upgrade
        case (6, 0x65 /* e */) where row("expect"): return .expect
        case (10, 0x6B /* k */) where row("keep-alive"): return .keepAlive
        case (16, 0x70 /* p */) where row("proxy-connection"): return .proxyConnection
        case (19, 0x70 /* p */) where row("proxy-authorization"): return .proxyAuthorization
        case (2, 0x74 /* t */) where row("te"): return .te
        case (7, 0x74 /* t */) where row("trailer"): return .trailer
        case (3, 0x76 /* v */) where row("via"): return .via
        case (11, 0x62 /* b */) where row("berth-error"): return .berthError
        default: return .other
        }
    }
}
