// The header names the codec acts on, as a table: recognising a new one is adding a case and a row.

/// Header names the codec acts on, recognised once when a field is stored.
enum KnownHeader: UInt8, Sendable {
    case other, host, contentLength, transferEncoding, connection, upgrade, expect
    case keepAlive, proxyConnection, proxyAuthorization, te, trailer, via
    /// berth's own cause header: an upstream's is renamed on the way to the caller (a chained berth's cause).
    case berthError
    /// berth's generation header on a request (`Berth-Generation`): only a head that has one is searched for it.
    case berthGeneration

    /// The table: one row per recognised name, written lowercase, under the case of its length. Fast because the
    /// switch on the length is a jump, and most names on the wire (User-Agent, Accept, Date, Server, Content-Type...)
    /// have no row of theirs or differ from it in the first byte compared; a name is known exactly when a row
    /// spells it. Adding a name is adding a row (a `?:` to the case when one of that length is there already).
    static func classify(_ name: UnsafeRawBufferPointer) -> KnownHeader {
        @inline(__always) func row(_ spelling: StaticString, _ kind: KnownHeader) -> KnownHeader? {
            equalsLowercase(name, spelling) ? kind : nil
        }
        let known: KnownHeader?
        switch name.count {
        case 2: known = row("te", .te)
        case 3: known = row("via", .via)
        case 4: known = row("host", .host)
        case 6: known = row("expect", .expect)
        case 7: known = row("upgrade", .upgrade) ?? row("trailer", .trailer)
        case 10: known = row("connection", .connection) ?? row("keep-alive", .keepAlive)
        case 11: known = row("berth-error", .berthError)
        case 14: known = row("content-length", .contentLength)
        case 16: known = row("proxy-connection", .proxyConnection) ?? row("berth-generation", .berthGeneration)
        case 17: known = row("transfer-encoding", .transferEncoding)
        case 19: known = row("proxy-authorization", .proxyAuthorization)
        default: known = nil
        }
        return known ?? .other
    }
}
