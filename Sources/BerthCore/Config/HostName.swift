// DNS host names as written in allow rules and destination matches: validated and lowercased.

/// Host-name syntax (RFC 1123 labels).
enum HostName {
    /// `text` lowercased without a trailing dot, or a problem explaining why it is not a host name.
    static func normalize(_ text: String) throws(ValueProblem) -> String {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        // No request can name an IPv4 shorthand (400 since item 64), so a rule written with one would never apply.
        if let dotted = PoolKey.shorthandIPv4(name) {
            throw ValueProblem("\"\(text)\" is an IPv4 address in shorthand, which no request may name; write it dotted, as \(dotted)")
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let validLabel = { (label: Substring) in
            (1...63).contains(label.count)
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && label.first != "-" && label.last != "-"
        }
        guard !name.isEmpty, name.count <= 253, labels.allSatisfy(validLabel) else {
            throw ValueProblem("\"\(text)\" is not a host name, a CIDR block or an IP address")
        }
        return name
    }

    /// A host name, or `*.` and a domain for the domain and every subdomain.
    static func normalizePattern(_ text: String) throws(ValueProblem) -> String {
        if text.hasPrefix("*.") { return "*." + (try normalize(String(text.dropFirst(2)))) }
        return try normalize(text)
    }
}
