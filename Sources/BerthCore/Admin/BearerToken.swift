// The admin's bearer-token check: the Authorization header against the configured token, in constant time.
import HTTP1

/// Compares a presented bearer token with the configured one.
enum BearerToken {
    /// Whether `head` carries `Authorization: Bearer <token>`.
    static func authorized(_ head: RequestHead, token: String) -> Bool {
        guard let v = head.headers["authorization"], v.hasPrefix("Bearer ") else { return false }
        return matches(Array(v.dropFirst(7).utf8), Array(token.utf8))
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
