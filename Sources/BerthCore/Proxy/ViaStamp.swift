// This instance's Via name: the configured value with a per-process token, so berth knows its own hop when a request comes back.

/// The Via value berth writes and the name it recognises as itself. The token is random per process (32 bits, from
/// the system's generator) and lives as long as the process, reloads included: two berths, or one restarted, never
/// share it, so only a request that really passed through this instance is refused.
enum ViaStamp {
    /// Eight hex digits, drawn once.
    static let token: String = {
        let n = UInt32.random(in: .min ... .max)
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }()

    /// `configured` with the token joined to its received-by (`1.1 berth` → `1.1 berth-3f9a1c2b`), and that
    /// received-by alone as bytes; nil when berth adds no Via (then only the listener check catches loops).
    static func stamp(_ configured: String?) -> (value: String, receivedBy: [UInt8])? {
        guard let configured, !configured.isEmpty else { return nil }
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        guard let gap = configured.firstIndex(where: isSpace) else {
            let name = configured + "-" + token
            return (name, Array(name.utf8))
        }
        let proto = configured[..<gap]
        let rest = configured[gap...].drop(while: isSpace)
        let end = rest.firstIndex(where: isSpace) ?? rest.endIndex
        let name = rest[..<end] + "-" + token
        return (proto + " " + name + rest[end...], Array(name.utf8))
    }
}
