// The trace id of a W3C `traceparent` request header, for the access log; anything malformed yields nothing.
import HTTP1

/// W3C Trace Context (Level 1, section 3.2) `traceparent` syntax: `version-traceid-parentid-flags`, lowercase hex.
/// Only a value that passes every rule gives its trace id, so a hostile header is never echoed into a log line.
/// The header itself is forwarded as it came; berth only reads it.
enum TraceParent {
    /// The 32 hex digits of the trace id when the request carries exactly one valid `traceparent`, else nil (none,
    /// several, which a proxy may have joined and the spec forbids, or any rule broken).
    static func traceID(of headers: HTTPHeaders) -> [UInt8]? {
        let found = headers.indices(named: "traceparent")
        guard found.count == 1 else { return nil }
        return headers.withValueBytes(at: found[0]) { traceID(value: $0) }
    }

    /// The trace id of one header value, by the spec's rules: version two hex digits other than `ff`; version `00`
    /// exactly 55 characters, a later version at least 55 with a `-` after them (future fields); a trace id of 32
    /// and a parent id of 16 hex digits, neither all zeros; flags two hex digits.
    static func traceID(value v: UnsafeRawBufferPointer) -> [UInt8]? {
        guard v.count >= 55, v[2] == dash, v[35] == dash, v[52] == dash else { return nil }
        guard isHex(v, 0..<2), !(v[0] == f && v[1] == f) else { return nil }
        let version0 = v[0] == zero && v[1] == zero
        if version0 ? v.count != 55 : (v.count > 55 && v[55] != dash) { return nil }
        guard isHex(v, 3..<35), !isZero(v, 3..<35), isHex(v, 36..<52), !isZero(v, 36..<52), isHex(v, 53..<55) else { return nil }
        return Array(v[3..<35])
    }

    private static let dash = UInt8(ascii: "-"), zero = UInt8(ascii: "0"), f = UInt8(ascii: "f")

    /// Lowercase hex only: the spec refuses uppercase.
    private static func isHex(_ v: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        r.allSatisfy { (48...57).contains(v[$0]) || (97...102).contains(v[$0]) }
    }

    private static func isZero(_ v: UnsafeRawBufferPointer, _ r: Range<Int>) -> Bool {
        r.allSatisfy { v[$0] == zero }
    }
}
