// Finding a proxy's own name among the hops a Via field lists, as Squid does to refuse forwarding loops.

extension HTTPHeaders {
    /// Whether any Via element names `receivedBy` as the host that handled it (RFC 9110 7.6.3: each element is
    /// `protocol received-by [comment]`). Elements are compared word by word rather than as substrings, so a longer
    /// name that merely contains the token does not match.
    public func viaNames(_ receivedBy: [UInt8]) -> Bool {
        guard !receivedBy.isEmpty else { return false }
        var found = false
        withBytes { b in
            receivedBy.withUnsafeBytes { token in
                forEachKnownLine(b) { _, kind, l in
                    guard kind == .via else { return true }
                    forEachListElement(UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd])) { element in
                        if !found { found = Self.elementNames(element, token) }
                    }
                    return !found
                }
            }
        }
        return found
    }

    /// Whether the received-by word of one Via element (its second word, or the only one) is `token`.
    private static func elementNames(_ element: UnsafeRawBufferPointer, _ token: UnsafeRawBufferPointer) -> Bool {
        var words = 0
        var i = 0
        let n = element.count
        while i < n && words < 2 {
            while i < n && (element[i] == SP || element[i] == HTAB) { i += 1 }
            let start = i
            while i < n && element[i] != SP && element[i] != HTAB { i += 1 }
            if i > start {
                words += 1
                if i - start == token.count && hasPrefix(element, start, token) { return true }
            }
        }
        return false
    }

    /// Whether `p[start...]` begins with exactly the bytes of `token`.
    private static func hasPrefix(_ p: UnsafeRawBufferPointer, _ start: Int, _ token: UnsafeRawBufferPointer) -> Bool {
        for j in 0..<token.count where p[start + j] != token[j] { return false }
        return true
    }
}
