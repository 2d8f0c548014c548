// Precomputed 256-entry byte classes so the scanning loops do one load and one test per byte.

let CR: UInt8 = 0x0D
let LF: UInt8 = 0x0A
let SP: UInt8 = 0x20
let HTAB: UInt8 = 0x09
let DQUOTE: UInt8 = 0x22
let BACKSLASH: UInt8 = 0x5C
let COLON: UInt8 = 0x3A

/// Bit flags per byte value.
enum CharClass {
    static let token: UInt8 = 1        // RFC 9110 tchar
    static let fieldValue: UInt8 = 2   // VCHAR, obs-text, SP, HTAB
    static let target: UInt8 = 4       // visible ASCII except '#'
    static let hex: UInt8 = 8
    static let regName: UInt8 = 16     // unreserved, sub-delims, '%'
    static let ipv6: UInt8 = 32        // hex, ':', '.'
}

/// The class of every byte value, as a compile-time constant: a StaticString needs no lazy initialisation, so the hot
/// loops pay no `swift_once` check per byte (a closure-initialised global did, about 150 times per request).
/// Generated from the rules in `CharClass`; `CharacterTableTests` recomputes it from them.
let charClassTable: StaticString = "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{2}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{2}\u{17}\u{6}\u{3}\u{17}\u{17}\u{17}\u{17}\u{16}\u{16}\u{17}\u{17}\u{16}\u{17}\u{37}\u{6}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{26}\u{16}\u{6}\u{16}\u{6}\u{6}\u{6}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{6}\u{6}\u{6}\u{7}\u{17}\u{7}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{3f}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{17}\u{6}\u{7}\u{6}\u{17}\u{0}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}\u{2}"

/// Pointer to the 256 class bytes.
@inline(__always) var charClass: UnsafePointer<UInt8> { charClassTable.utf8Start }

@inline(__always) func isToken(_ c: UInt8) -> Bool { charClass[Int(c)] & CharClass.token != 0 }
@inline(__always) func isFieldValue(_ c: UInt8) -> Bool { charClass[Int(c)] & CharClass.fieldValue != 0 }
@inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
@inline(__always) func lower(_ c: UInt8) -> UInt8 { c &- 0x41 < 26 ? c | 0x20 : c }

/// One flag (the byte's high bit) for each byte of `w` below 0x20 or equal to 0x7F: the bytes a field value may not
/// hold, except HTAB. The classic word tricks (`hasless(w, 0x20)`, `haszero(w ^ 0x7F7F...)`): a borrow only starts at
/// such a byte, so the lowest flag is always exact (flags above it may be spurious). Little-endian loads put the
/// first byte lowest, so `trailingZeroBitCount >> 3` of the flags is the index of the first such byte.
@inline(__always)
func controlOrDELFlags(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let below20 = (w &- ones &* 0x20) & ~w & highs
    let d = w ^ (ones &* 0x7F)
    let del = (d &- ones) & ~d & highs
    return below20 | del
}

/// Whether any byte of `w` is below 0x20 or is 0x7F (`controlOrDELFlags`).
@inline(__always)
func wordHasControlOrDEL(_ w: UInt64) -> Bool { controlOrDELFlags(w) != 0 }

/// The index of the first byte in `p[from..<end]` below 0x20 or equal to 0x7F, or `end` when there is none.
/// Fast because it takes eight bytes per step (ten operations), and the word that holds such a byte gives its exact
/// index, so no byte loop follows; only the last 0 to 7 bytes before `end` go one at a time.
@inline(__always)
func firstControlOrDEL(_ p: UnsafeRawPointer, from: Int, end: Int) -> Int {
    var j = from
    while j &+ 8 <= end {
        let f = controlOrDELFlags(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: j, as: UInt64.self)))
        if f != 0 { return j &+ (f.trailingZeroBitCount &>> 3) }
        j &+= 8
    }
    while j < end {
        let c = p.load(fromByteOffset: j, as: UInt8.self)
        if c < 0x20 || c == 0x7F { return j }
        j &+= 1
    }
    return end
}

/// Case-insensitive comparison of wire bytes with an ASCII lowercase literal. Eight bytes at a time while eight
/// remain (`asciiLowercased` lowers a word exactly as `lower` lowers each byte), then byte by byte: header names
/// and list tokens are mostly 4 to 17 bytes, so this is one or two word compares instead of a loop per byte.
@inline(__always)
func equalsLowercase(_ p: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
    let n = p.count
    guard n == s.utf8CodeUnitCount else { return false }
    let q = UnsafeRawPointer(s.utf8Start)
    var i = 0
    while i &+ 8 <= n {
        let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if asciiLowercased(w) != q.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i &+= 8
    }
    while i < n {
        if lower(p[i]) != q.load(fromByteOffset: i, as: UInt8.self) { return false }
        i &+= 1
    }
    return true
}

/// `lower` applied to each byte of `w` at once: 0x20 is added to every byte in 'A'...'Z' and to no other. Each
/// byte's test is done in its own 8 bits without carries (its low seven bits plus at most 0x3F stay below 0x100), and
/// bytes of 0x80 and above are left out by their own high bit.
@inline(__always)
func asciiLowercased(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let low7 = w & (ones &* 0x7F)
    let atLeastA = low7 &+ ones &* (0x80 - 0x41)     // high bit set where the byte is 'A' or above
    let aboveZ = low7 &+ ones &* (0x80 - 0x5B)       // high bit set where the byte is above 'Z'
    let capitals = atLeastA & ~aboveZ & ~w & (ones &* 0x80)
    return w | (capitals >> 2)
}

/// Whether `p` holds a byte in 'A'...'Z': eight bytes at a time (`asciiLowercased` changes a word exactly when it
/// holds one), then byte by byte.
@inline(__always)
func hasCapital(_ p: UnsafeRawBufferPointer) -> Bool {
    let n = p.count
    var i = 0
    while i &+ 8 <= n {
        let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if asciiLowercased(w) != w { return true }
        i &+= 8
    }
    while i < n {
        if p[i] &- 0x41 < 26 { return true }
        i &+= 1
    }
    return false
}

/// Case-insensitive comparison of two byte runs.
@inline(__always)
func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where lower(a[i]) != lower(b[i]) { return false }
    return true
}

/// Exact comparison of two byte runs, eight bytes at a time (`loadUnaligned`). From eight bytes on, the tail is the
/// last word, loaded where it ends with the runs and overlapping the one before (every byte is in some word), not a
/// loop over up to seven bytes (8 instructions each); shorter runs go byte by byte.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let n = a.count
    guard n == b.count else { return false }
    var i = 0
    if n >= 8 {
        while i &+ 8 < n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i &+= 8
        }
        return a.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
    }
    while i < n {
        if a[i] != b[i] { return false }
        i &+= 1
    }
    return true
}

/// Trims SP/HTAB off both ends of a byte run inside `p`.
@inline(__always)
func trimOWS(_ p: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int> {
    var s = start, e = end
    while s < e && (p[s] == SP || p[s] == HTAB) { s += 1 }
    while e > s && (p[e - 1] == SP || p[e - 1] == HTAB) { e -= 1 }
    return s..<e
}

/// Calls `body` with each comma-separated element of `p`, OWS trimmed and empty elements skipped (RFC 9110 5.6.1).
@inline(__always)
func forEachListElement(_ p: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    var start = 0
    var i = 0
    while i <= p.count {
        if i == p.count || p[i] == 0x2C {
            let r = trimOWS(p, start, i)
            if !r.isEmpty { body(UnsafeRawBufferPointer(rebasing: p[r])) }
            start = i + 1
        }
        i += 1
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes through a typed buffer so it is one memcpy rather than a per-element copy.
    @inline(__always)
    mutating func appendRaw(_ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: p.count))
    }

    /// Copies `p` into this Array used as scratch space at `start`, its logical length (the Array's own count only
    /// bounds it), growing the Array when it is too short, and returns the new logical length. A head's text is kept
    /// this way: emptying it is setting its length to 0, and a copy into it is a uniqueness check and a copy, where
    /// `removeAll(keepingCapacity:)` and `append(contentsOf:)` cost ~80 and ~70 instructions per call.
    @inline(__always)
    mutating func putRaw(_ p: UnsafeRawBufferPointer, at start: Int) -> Int {
        guard let source = p.baseAddress, p.count > 0 else { return start }
        let end = start &+ p.count
        if count < end { append(contentsOf: repeatElement(0, count: Swift.max(end, 64) &- count)) }
        // Short copies (a reason phrase, a target) without memcpy's call (`copyBytes`).
        withUnsafeMutableBytes { copyBytes($0.baseAddress.unsafelyUnwrapped.advanced(by: start), source, p.count) }
        return end
    }
}
