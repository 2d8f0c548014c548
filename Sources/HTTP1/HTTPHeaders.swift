// Header fields kept as raw line bytes in one reusable buffer plus index ranges, so parsing allocates no Strings.

/// One field's offsets into `HTTPHeaders.bytes`; the raw line keeps the sender's exact spelling for forwarding.
struct FieldRange: Sendable {
    var lineStart: Int32
    var nameEnd: Int32
    var valueStart: Int32
    var valueEnd: Int32
    var lineEnd: Int32
    var kind: KnownHeader
}

/// Header fields with order and duplicates kept, looked up case-insensitively.
public struct HTTPHeaders: Sendable {
    /// The field lines, each followed by CRLF (`lineEnd` is the CR), so that consecutive lines forwarded unchanged
    /// are copied as one run.
    var bytes: [UInt8] = []
    var fields: [FieldRange] = []
    /// Bytes of parsed lines whose offsets are in `fields` but which `commitParsed` has not appended yet.
    var uncommitted = 0

    /// No fields.
    public init() {}

    /// Number of fields, duplicates counted.
    public var count: Int { fields.count }

    /// The name at `index` as sent.
    public func name(at index: Int) -> String {
        withNameBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value at `index`, surrounding whitespace removed.
    public func value(at index: Int) -> String {
        withValueBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the name's bytes, without making a String.
    public func withNameBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let f = fields[index]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(f.lineStart)..<Int(f.nameEnd)])) }
    }

    /// Calls `body` with the value's bytes (OWS trimmed), without making a String.
    public func withValueBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let f = fields[index]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(f.valueStart)..<Int(f.valueEnd)])) }
    }

    /// Calls `body` with the whole field line as received (`name: value`, CRLF excluded).
    public func withLineBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let f = fields[index]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(f.lineStart)..<Int(f.lineEnd)])) }
    }

    /// First value of `name`, case-insensitive.
    public subscript(name: String) -> String? {
        guard let i = firstIndex(named: name) else { return nil }
        return value(at: i)
    }

    /// Every value of `name` in order, case-insensitive.
    public func values(named name: String) -> [String] {
        var out: [String] = []
        for i in indices(named: name) { out.append(value(at: i)) }
        return out
    }

    /// Index of the first field called `name`, case-insensitive.
    public func firstIndex(named name: String) -> Int? {
        // Looked up per request on the proxy's hot path: scan without building an index array.
        var name = name
        return name.withUTF8 { q in
            let query = UnsafeRawBufferPointer(q)
            return bytes.withUnsafeBytes { b in
                for (i, f) in fields.enumerated() where Int(f.nameEnd - f.lineStart) == query.count {
                    if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: b[Int(f.lineStart)..<Int(f.nameEnd)]), query) { return i }
                }
                return nil
            }
        }
    }

    /// Whether a field called `name` is present, case-insensitive.
    public func contains(_ name: String) -> Bool { firstIndex(named: name) != nil }

    /// Indices of every field called `name`, case-insensitive.
    public func indices(named name: String) -> [Int] {
        var name = name
        return name.withUTF8 { q in
            let query = UnsafeRawBufferPointer(q)
            var out: [Int] = []
            bytes.withUnsafeBytes { b in
                for (i, f) in fields.enumerated() {
                    let n = UnsafeRawBufferPointer(rebasing: b[Int(f.lineStart)..<Int(f.nameEnd)])
                    if equalsIgnoringCase(n, query) { out.append(i) }
                }
            }
            return out
        }
    }

    /// Appends a field, written as `name: value`.
    public mutating func append(name: String, value: String) {
        let start = bytes.count
        bytes.append(contentsOf: name.utf8)
        let nameEnd = bytes.count
        bytes.append(COLON); bytes.append(SP)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        let end = bytes.count
        bytes.append(CR); bytes.append(LF)
        let kind = bytes.withUnsafeBytes { KnownHeader.classify(UnsafeRawBufferPointer(rebasing: $0[start..<nameEnd])) }
        fields.append(FieldRange(lineStart: Int32(start), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
                                 valueEnd: Int32(end), lineEnd: Int32(end), kind: kind))
    }

    /// A copy whose `Berth-Error` lines read `Berth-Upstream-Error: <value>` (an upstream's cause is never passed
    /// off as this proxy's own); every other line stays byte for byte. Rare (only heads that carry one), so it may
    /// allocate.
    func renamingBerthErrors() -> HTTPHeaders {
        var copy = HTTPHeaders()
        bytes.withUnsafeBytes { b in
            for f in fields {
                let base = copy.bytes.count
                if f.kind == .berthError {
                    let name = HeadSerializer.upstreamErrorName  // the name and ": "
                    copy.bytes.appendRaw(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                    let valueStart = copy.bytes.count
                    let nameEnd = valueStart - 2
                    copy.bytes.appendRaw(UnsafeRawBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)]))
                    let end = copy.bytes.count
                    copy.bytes.append(CR); copy.bytes.append(LF)
                    copy.fields.append(FieldRange(lineStart: Int32(base), nameEnd: Int32(nameEnd), valueStart: Int32(valueStart),
                                                  valueEnd: Int32(end), lineEnd: Int32(end), kind: .other))
                } else {
                    copy.bytes.appendRaw(UnsafeRawBufferPointer(rebasing: b[Int(f.lineStart)..<Int(f.lineEnd + 2)]))
                    let shift = Int32(base) - f.lineStart
                    copy.fields.append(FieldRange(lineStart: f.lineStart + shift, nameEnd: f.nameEnd + shift, valueStart: f.valueStart + shift,
                                                  valueEnd: f.valueEnd + shift, lineEnd: f.lineEnd + shift, kind: f.kind))
                }
            }
        }
        return copy
    }

    /// Removes every field called `name`, case-insensitive; their bytes stay in the buffer until `removeAll`.
    public mutating func removeAll(named name: String) {
        let drop = Set(indices(named: name))
        guard !drop.isEmpty else { return }
        var kept: [FieldRange] = []
        kept.reserveCapacity(fields.count)
        for (i, f) in fields.enumerated() where !drop.contains(i) { kept.append(f) }
        fields = kept
    }

    /// Removes every field.
    public mutating func removeAll(keepingCapacity: Bool) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        fields.removeAll(keepingCapacity: keepingCapacity)
        uncommitted = 0
    }

    /// Every field as (name, value) Strings, in order.
    public var elements: [(name: String, value: String)] {
        (0..<count).map { (name(at: $0), value(at: $0)) }
    }

    /// Stores a parsed line's offsets; they are relative to `line`. Its bytes come later with those of the lines
    /// after it, through `commitParsed`, so a head costs one copy instead of one per line.
    @inline(__always) @discardableResult
    mutating func appendParsed(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int) -> KnownHeader {
        let base = bytes.count &+ uncommitted
        uncommitted &+= line.count &+ 2
        let kind = KnownHeader.classify(UnsafeRawBufferPointer(rebasing: line[0..<nameEnd]))
        fields.append(FieldRange(lineStart: Int32(base), nameEnd: Int32(base + nameEnd), valueStart: Int32(base + valueStart),
                                 valueEnd: Int32(base + valueEnd), lineEnd: Int32(base + line.count), kind: kind))
        return kind
    }

    /// The bytes of every line stored by `appendParsed` since the last call, each with its CRLF.
    mutating func commitParsed(_ lines: UnsafeRawBufferPointer) {
        precondition(lines.count == uncommitted, "the lexer hands over exactly the lines it reported")
        bytes.appendRaw(lines)
        uncommitted = 0
    }
}

extension HTTPHeaders: Sequence {
    /// Iterates (name, value) pairs in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        elements.makeIterator()
    }
}
