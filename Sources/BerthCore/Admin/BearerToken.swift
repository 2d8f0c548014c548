// The admin's bearer-token check: the Authorization header against the configured token, in constant time.
import HTTP1

/// Compares a presented bearer token with the configured one.
enum BearerToken {
    /// Whether `head` carries one `Authorization: Bearer <token>`. The scheme is case-insensitive and one or more
    /// spaces may follow it (RFC 9110 11.1 and 11.4, RFC 6750 2.1); a second Authorization field is refused
    /// whatever its order, as the field is a singleton and a client and a proxy that each add one disagree.
    static func authorized(_ head: RequestHead, token: String) -> Bool {
        let fields = head.headers.values(named: "authorization")
        guard fields.count == 1 else { return false }
        let v = Array(fields[0].utf8)
        let scheme = Array("bearer".utf8)
        guard v.count > scheme.count, v[scheme.count] == UInt8(ascii: " ") else { return false }
        for i in 0..<scheme.count where v[i] | 0x20 != scheme[i] { return false }
        var start = scheme.count
        while start < v.count && v[start] == UInt8(ascii: " ") { start += 1 }
        return matches(Array(v[start...]), Array(token.utf8))
    }

    /// Whether `given` equals `want`, in time that depends on `want`'s length alone. The loop always runs over the
    /// whole configured token and never stops at a mismatch, and a presented token of another length is read
    /// cyclically rather than cut short, so how long a refusal takes says nothing about how close the guess was, nor
    /// about the token's length. (The token guards who may close every connection.)
    static func matches<Want: RandomAccessCollection>(_ given: [UInt8], _ want: Want) -> Bool
    where Want.Element == UInt8, Want.Index == Int {
        var diff = UInt(bitPattern: given.count ^ want.count)
        let n = max(given.count, 1)
        for i in 0..<want.count {
            let g = given.isEmpty ? 0 : given[i % n]
            diff |= UInt(g ^ want[want.startIndex + i])
        }
        return diff == 0
    }
}
