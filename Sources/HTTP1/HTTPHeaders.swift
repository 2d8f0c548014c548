// Header fields kept as their raw lines in one reusable buffer; only the lines whose names berth acts on get a record.

/// Where one stored line lies in `HTTPHeaders.storage`; the raw line keeps the sender's exact spelling for forwarding.
struct FieldLine {
    var lineStart: Int
    var nameEnd: Int
    /// The value, OWS trimmed, is `valueStart..<valueEnd`.
    var valueStart: Int
    var valueEnd: Int
    /// The line's CR: its LF follows, then the next line.
    var lineEnd: Int
}

/// The record of a line whose name is one of the `KnownHeader` kinds: where it lies and its place among all lines.
/// Eight bytes, so that the records of a head stay small enough to be copied with the head in a few moves.
struct FieldRecord: Sendable {
    var lineStart: UInt32 = 0
    /// The line without its CRLF.
    var lineLength: UInt16 = 0
    var ordinal: UInt8 = 0
    var kind: KnownHeader = .other

    /// The line's parts, found from the record and the line's bytes in `b` (a known name's length is its kind's;
    /// the value follows the colon and OWS, and ends where trailing OWS starts).
    @inline(__always)
    func line(_ b: UnsafeRawBufferPointer) -> FieldLine {
        let start = Int(lineStart)
        let end = start &+ Int(lineLength)
        var nameEnd = start &+ kind.nameLength
        if kind.nameLength == 0 { nameEnd = start; while b[nameEnd] != COLON { nameEnd &+= 1 } }
        var v = nameEnd &+ 1
        while v < end && (b[v] == SP || b[v] == HTAB) { v &+= 1 }
        var e = end
        while e > v && (b[e &- 1] == SP || b[e &- 1] == HTAB) { e &-= 1 }
        return FieldLine(lineStart: start, nameEnd: nameEnd, valueStart: v, valueEnd: e, lineEnd: end)
    }
}

/// Header fields with order and duplicates kept, looked up case-insensitively.
///
/// Storing a field is cheap because most fields are only bytes: the lines arrive in one copy per slice
/// (`commitParsed`), and only a line whose name is a `KnownHeader` kind (Host, Content-Length, Connection...) gets a
/// record, kept inline (no Array append per field). What reads a known kind reads the records; what looks for any
/// other name scans the stored lines, which are well formed by construction.
public struct HTTPHeaders: Sendable {
    /// The field lines, each followed by CRLF, so that consecutive lines forwarded unchanged are copied as one run:
    /// `storage[0..<byteCount]`. The storage is scratch space whose count only grows: clearing a head sets
    /// `byteCount` to 0, and storing lines copies them into space already there, so neither pays an Array append or
    /// removal (`replaceSubrange`), only a uniqueness check per slice.
    @usableFromInline var storage: [UInt8] = []
    var byteCount: Int32 = 0
    /// The first `recordCount` are the records of the known lines, in line order.
    var records = InlineArray<8, FieldRecord>(repeating: FieldRecord())
    /// Where the next parsed line starts: `byteCount` plus the lines `commitParsed` has not stored yet.
    var end: Int32 = 0
    /// Lines stored, duplicates counted. The counters are narrow so that a head, copied whole several times per
    /// exchange, stays small (a head has at most `maxHeaderCount` lines).
    var lineCount: Int32 = 0
    var recordCount: UInt8 = 0
    /// More known lines than `records` holds (unusual heads): readers then find every line by scanning the stored lines.
    var overflowed = false
    /// Content-Length was a list or repeated (`HeaderFacts.contentLengthRepeated`): its lines are left out and the
    /// serializer writes the one value.
    var foldContentLength = false
    /// The kinds the Connection fields list, and the lengths (`NameLengths`) of the names they list that are no
    /// kind: noted as each Connection line is stored, so forwarding does not walk the lines for them, and only a head
    /// whose Connection names some other field has its lines without a record looked at.
    var connectionOtherLengths: UInt64 = 0
    var connectionKinds: KindSet = 0
    /// The kinds of the known lines, so that looking up a known name the head lacks (Berth-Socket-Timeout, per
    /// request) is one test.
    var present: KindSet = 0

    /// No fields.
    public init() {}

    /// Number of fields, duplicates counted.
    public var count: Int { Int(lineCount) }

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
        try withBytes { b in
            let l = line(at: index, b)
            return try body(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd]))
        }
    }

    /// Calls `body` with the value's bytes (OWS trimmed), without making a String.
    public func withValueBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withBytes { b in
            let l = line(at: index, b)
            return try body(UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]))
        }
    }

    /// Appends the value at `index` (OWS trimmed) to `out`: a copy that needs no closure from the caller.
    public func appendValue(at index: Int, to out: inout [UInt8]) {
        withBytes { b in
            let l = line(at: index, b)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]))
        }
    }

    /// Calls `body` with the whole field line as received (`name: value`, CRLF excluded).
    public func withLineBytes<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withBytes { b in
            let l = line(at: index, b)
            return try body(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.lineEnd]))
        }
    }

    /// First value of `name`, case-insensitive.
    public subscript(name: String) -> String? {
        guard let i = firstIndex(named: name) else { return nil }
        return value(at: i)
    }

    /// Every value of `name` in order, case-insensitive.
    public func values(named name: String) -> [String] {
        var name = name
        var out: [String] = []
        name.withUTF8 { q in
            withBytes { b in
                forEachLine(named: UnsafeRawBufferPointer(q)) { _, l in
                    out.append(String(decoding: UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]), as: UTF8.self))
                    return true
                }
            }
        }
        return out
    }

    /// Index of the first field called `name`, case-insensitive.
    public func firstIndex(named name: String) -> Int? {
        // Looked up per request on the proxy's hot path (Host, Berth-Socket-Timeout): a known name reads the
        // records alone, and nothing is allocated.
        var name = name
        var found: Int? = nil
        name.withUTF8 { q in
            forEachLine(named: UnsafeRawBufferPointer(q)) { i, _ in found = i; return false }
        }
        return found
    }

    /// Whether a field called `name` is present, case-insensitive.
    public func contains(_ name: String) -> Bool { firstIndex(named: name) != nil }

    /// Indices of every field called `name`, case-insensitive.
    public func indices(named name: String) -> [Int] {
        var name = name
        var out: [Int] = []
        name.withUTF8 { q in
            forEachLine(named: UnsafeRawBufferPointer(q)) { i, _ in out.append(i); return true }
        }
        return out
    }

    /// Appends a field, written as `name: value`.
    public mutating func append(name: String, value: String) {
        precondition(end == byteCount, "no parsed lines are waiting for their bytes")
        let line = Array(name.utf8) + [COLON, SP] + Array(value.utf8) + [CR, LF]
        let nameEnd = name.utf8.count
        line.withUnsafeBytes { l in
            appendParsed(line: UnsafeRawBufferPointer(rebasing: l[0..<(l.count - 2)]), nameEnd: nameEnd, valueStart: nameEnd + 2,
                         valueEnd: l.count - 2)
            commitParsed(l)
        }
    }

    /// Removes every field called `name`, case-insensitive. Rare (heads built by hand), so it may allocate.
    public mutating func removeAll(named name: String) {
        var kept = HTTPHeaders()
        var name = name
        name.withUTF8 { q in
            withBytes { b in
                HTTPHeaders.forEachLine(b) { l in
                    if !equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd]), UnsafeRawBufferPointer(q)) {
                        kept.appendParsed(line: UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.lineEnd]), nameEnd: l.nameEnd - l.lineStart,
                                          valueStart: l.valueStart - l.lineStart, valueEnd: l.valueEnd - l.lineStart)
                        kept.commitParsed(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<(l.lineEnd + 2)]))
                    }
                    return true
                }
            }
        }
        self = kept
    }

    /// Removes every field.
    public mutating func removeAll(keepingCapacity: Bool) {
        if !keepingCapacity { storage = [] }
        byteCount = 0
        recordCount = 0
        overflowed = false
        foldContentLength = false
        lineCount = 0
        end = 0
        connectionKinds = 0
        connectionOtherLengths = 0
        present = 0
    }

    /// Every field as (name, value) Strings, in order.
    public var elements: [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        withBytes { b in
            HTTPHeaders.forEachLine(b) { l in
                out.append((String(decoding: UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd]), as: UTF8.self),
                            String(decoding: UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]), as: UTF8.self)))
                return true
            }
        }
        return out
    }

    /// Counts a parsed line (its bytes come later with those of the lines after it, through `commitParsed`, so a head
    /// costs one copy instead of one per line) and tells whether its name may be a known kind, in which case
    /// `appendKnown` must follow. Fast because for most lines this is all: three additions and the classification's
    /// filter, inlined into the lexer's loop; nothing is stored for them.
    @inline(__always)
    mutating func countLine(_ line: UnsafeRawBufferPointer, nameEnd: Int) -> Bool {
        end &+= Int32(truncatingIfNeeded: line.count &+ 2)
        lineCount &+= 1
        return KnownHeader.mayBeKnown(line, length: nameEnd)
    }

    /// Classifies the line just counted, whose name passed the filter, and keeps its record when it is known
    /// (offsets relative to `line`). Returns its kind.
    mutating func appendKnown(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int) -> KnownHeader {
        let kind = KnownHeader.classifyRows(UnsafeRawBufferPointer(rebasing: line[0..<nameEnd]))
        guard kind != .other else { return .other }
        let base = Int(end) &- line.count &- 2
        present |= kind.bit
        record(kind, lineStart: base, lineEnd: base &+ line.count)
        if kind == .connection { noteConnection(UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd])) }
        return kind
    }

    /// `countLine` and `appendKnown` together (a rebuilt head's lines).
    @discardableResult
    mutating func appendParsed(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int, valueEnd: Int) -> KnownHeader {
        guard countLine(line, nameEnd: nameEnd) else { return .other }
        return appendKnown(line: line, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd)
    }

    /// Notes what a Connection value lists: the names that are kinds as a set, the others' lengths (`NameLengths`).
    /// A value that is one known name (`keep-alive`, `close`, what nearly every head sends) is classified whole,
    /// without walking it for commas; fast path: `keep-alive` by one word compare in line (classify's call: ~31).
    mutating func noteConnection(_ v: UnsafeRawBufferPointer) {
        if v.count == 10 && KnownHeader.matches(v, "keep-alive") { connectionKinds |= KnownHeader.keepAlive.bit; return }
        let whole = KnownHeader.classify(v)
        if whole != .other { connectionKinds |= whole.bit; return }
        forEachListElement(v) { token in
            let kind = KnownHeader.classify(token)
            if kind == .other { connectionOtherLengths |= NameLengths.bit(token.count) } else { connectionKinds |= kind.bit }
        }
    }

    /// Keeps the record of the line just counted, a known one; past what a record can say (more known lines than
    /// `records` holds, an index or a line too long), the head is marked for readers that scan every line.
    mutating func record(_ kind: KnownHeader, lineStart: Int, lineEnd: Int) {
        let ordinal = count &- 1
        guard Int(recordCount) < records.count, ordinal <= Int(UInt8.max), lineEnd &- lineStart <= Int(UInt16.max),
              lineStart <= Int(UInt32.max) else {
            overflowed = true
            return
        }
        records[Int(recordCount)] = FieldRecord(lineStart: UInt32(truncatingIfNeeded: lineStart),
                                           lineLength: UInt16(truncatingIfNeeded: lineEnd &- lineStart),
                                           ordinal: UInt8(truncatingIfNeeded: ordinal), kind: kind)
        recordCount &+= 1
    }

    /// The bytes of every line counted since the last call, each with its CRLF: one copy per slice of the head.
    mutating func commitParsed(_ lines: UnsafeRawBufferPointer) {
        let start = Int(byteCount)
        let newCount = start &+ lines.count
        // Heads are far below 2 GiB (`maxHeaderSectionBytes`); a wrapped `end` would show here.
        precondition(newCount == Int(end), "the lexer hands over exactly the lines it reported")
        guard let source = lines.baseAddress else { return }
        if storage.count < newCount { storage.append(contentsOf: repeatElement(0, count: Swift.max(newCount, 256) &- storage.count)) }
        storage.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: start).copyMemory(from: source, byteCount: lines.count) }
        byteCount = end
    }

    /// Calls `body` with the stored lines.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(byteCount)
        return try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

extension HTTPHeaders {
    /// Calls `body` with each line stored in `b` (this head's bytes) in order, until it returns false. The lines are
    /// well formed (`name:` OWS value OWS CRLF, checked by the lexer or written so by `append`), so the colon and the
    /// CR are all there is to find. The path of names that have no record: rare lookups and unusual heads.
    static func forEachLine(_ b: UnsafeRawBufferPointer, _ body: (FieldLine) -> Bool) {
        let n = b.count
        var i = 0
        while i < n {
            let start = i
            while i < n && b[i] != COLON { i &+= 1 }
            let nameEnd = i
            i &+= 1
            while i < n && (b[i] == SP || b[i] == HTAB) { i &+= 1 }
            let valueStart = i
            // Eight bytes at a time while none is a control byte: a value holds none but HTAB, so a long head (an
            // unusual one is what takes this path) is crossed quickly.
            while i &+ 8 <= n && !wordHasControlOrDEL(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt64.self))) {
                i &+= 8
            }
            while i < n && b[i] != CR { i &+= 1 }
            var e = i
            while e > valueStart && (b[e &- 1] == SP || b[e &- 1] == HTAB) { e &-= 1 }
            if !body(FieldLine(lineStart: start, nameEnd: nameEnd, valueStart: valueStart, valueEnd: e, lineEnd: i)) { return }
            i &+= 2
        }
    }

    /// The line at `index` in `b` (this head's bytes): a known line's record, else found by scanning.
    func line(at index: Int, _ b: UnsafeRawBufferPointer) -> FieldLine {
        precondition(index >= 0 && index < count, "field index out of range")
        let span = records.span
        for i in 0..<Int(recordCount) where Int(span[i].ordinal) == index { return span[i].line(b) }
        var ordinal = 0
        var found = FieldLine(lineStart: 0, nameEnd: 0, valueStart: 0, valueEnd: 0, lineEnd: 0)
        HTTPHeaders.forEachLine(b) { l in
            if ordinal == index { found = l; return false }
            ordinal &+= 1
            return true
        }
        return found
    }

    /// Calls `body` with the index, kind and place of each known line in order, until it returns false: the records,
    /// or every line classified again when they overflowed.
    @inline(__always)
    func forEachKnownLine(_ b: UnsafeRawBufferPointer, _ body: (Int, KnownHeader, FieldLine) -> Bool) {
        if !overflowed {
            let span = records.span
            for i in 0..<Int(recordCount) {
                let r = span[i]
                if !body(Int(r.ordinal), r.kind, r.line(b)) { return }
            }
            return
        }
        var ordinal = 0
        HTTPHeaders.forEachLine(b) { l in
            defer { ordinal &+= 1 }
            let kind = KnownHeader.classify(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd]))
            return kind == .other || body(ordinal, kind, l)
        }
    }

    /// Calls `body` with the index and place of each field called `query` (any case) in order, until it returns false.
    func forEachLine(named query: UnsafeRawBufferPointer, _ body: (Int, FieldLine) -> Bool) {
        let kind = KnownHeader.classify(query)
        if kind != .other && present & kind.bit == 0 { return }
        withBytes { b in
            @inline(__always) func named(_ l: FieldLine) -> Bool {
                l.nameEnd &- l.lineStart == query.count
                    && equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd]), query)
            }
            if kind != .other {
                // Every line of that kind, and only those, can have that name; the one kind that two names share is
                // the look-alikes'.
                forEachKnownLine(b) { i, k, l in
                    guard k == kind, k != .framingLookalike || named(l) else { return true }
                    return body(i, l)
                }
                return
            }
            var ordinal = 0
            HTTPHeaders.forEachLine(b) { l in
                defer { ordinal &+= 1 }
                return !named(l) || body(ordinal, l)
            }
        }
    }
}

extension HTTPHeaders: Sequence {
    /// Iterates (name, value) pairs in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        elements.makeIterator()
    }
}
