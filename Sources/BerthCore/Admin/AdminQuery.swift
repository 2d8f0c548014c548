// Parses and validates admin query strings: percent-decoding, known parameter names, typed values with clear errors.

/// A rejected admin request: status and message.
struct AdminError: Error {
    var status: Int
    var message: String
    static func bad(_ m: String) -> AdminError { AdminError(status: 400, message: m) }
}

/// The parameters of one admin request.
struct AdminQuery {
    private(set) var values: [String: String] = [:]

    /// Parses `a=b&c=d`; repeated or unknown names are errors, so a typo never silently does something else.
    init(_ query: Substring, allowed: Set<String>) throws(AdminError) {
        guard !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = AdminQuery.percentDecode(parts[0]) else { throw .bad("malformed percent-encoding in \(pair)") }
            guard allowed.contains(name) else {
                // Quoted: an empty name (`?=x`) or one with spaces must show where it starts and ends.
                throw .bad("unknown parameter \"\(name)\"; this endpoint takes: \(allowed.sorted().joined(separator: ", "))")
            }
            guard values[name] == nil else { throw .bad("parameter \(name) given twice") }
            let raw = parts.count > 1 ? parts[1] : ""
            guard let value = AdminQuery.percentDecode(raw) else { throw .bad("malformed percent-encoding in \(name)") }
            values[name] = value
        }
    }

    /// `upstream=HOST:PORT` in canonical form. `https://HOST:PORT`, the name /stats, /metrics, the status page and
    /// `berth ctl stats` give a TLS pool, names the same endpoint: the page's buttons send the row's name, and every
    /// one of them was a 400 on a TLS row (adv11). The commands act on every pool of the endpoint either way.
    func upstream(required: Bool) throws(AdminError) -> PoolKey? {
        guard let given = values["upstream"] else {
            if required { throw .bad("missing upstream=HOST:PORT") }
            return nil
        }
        let tlsPrefix = "https://"
        let text = given.lowercased().hasPrefix(tlsPrefix) ? String(given.dropFirst(tlsPrefix.count)) : given
        guard let key = PoolKey(parsing: text) else {
            throw .bad("upstream must be HOST:PORT with a port in 1-65535, IPv6 in brackets (got \(given))")
        }
        // What the proxy refuses to route to, the admin refuses to name: no entry for a destination no request reaches.
        if let why = key.refusal { throw .bad("upstream: \(why)") }
        return key
    }

    /// A duration parameter (`125ms`, `2s`, `5m`); with `zero`, also a zero one (`0s`), for a threshold that zero
    /// makes match everything rather than a timeout that zero would make meaningless.
    func duration(_ name: String, zero: Bool = false) throws(AdminError) -> Nanos? {
        guard let text = values[name] else { return nil }
        if zero && DurationSyntax.isZero(text) { return 0 }
        do throws(ValueProblem) {
            return DurationSyntax.nanoseconds(try DurationSyntax.parse(text))
        } catch {
            // The parser's reason (too long, too short, no unit, negative), then the rule it breaks.
            let rule = zero ? "0s or a duration of 1ms to 24h" : "a duration is 1ms to 24h"
            throw .bad("\(name): \(error.message); \(rule), a number with a unit ms, s, m or h")
        }
    }

    /// A non-negative integer parameter up to `max`.
    func integer(_ name: String, max: Int) throws(AdminError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let n = Int(text), n >= 0, n <= max else { throw .bad("\(name) must be an integer from 0 to \(max) (got \(text))") }
        return n
    }

    /// A boolean parameter: true/false/1/0.
    func boolean(_ name: String) throws(AdminError) -> Bool? {
        guard let text = values[name] else { return nil }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .bad("\(name) must be true or false (got \(text))")
        }
    }

    /// One of a fixed set of words.
    func choice(_ name: String, _ options: [String]) throws(AdminError) -> String? {
        guard let text = values[name] else { return nil }
        guard options.contains(text) else { throw .bad("\(name) must be one of \(options.joined(separator: ", ")) (got \(text))") }
        return text
    }

    /// Decodes %XX and '+'; nil on a malformed escape or invalid UTF-8.
    static func percentDecode(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }
}
