// A minimal JSON builder for admin answers that writes bytes, not Strings: /stats for 10,000 upstreams is ~10 MB.
import Glibc

/// Appends JSON tokens to a `ByteWriter`; the caller keeps the structure balanced. Keys are StaticStrings (or
/// precomputed `JSONName`s), copied as they are: at 10,000 upstreams /stats writes ~350,000 of them.
struct JSONWriter: ~Copyable {
    private var out: ByteWriter
    /// One bit per open object or array: whether its next member needs a comma. Nesting is never deeper than 64.
    private var commaBits: UInt64 = 0

    /// An empty document with room for `capacity` bytes.
    init(capacity: Int = 4096) {
        out = ByteWriter(capacity: capacity)
    }

    /// The finished document with a final newline.
    consuming func finish() -> [UInt8] {
        out.put(10)
        return out.bytes
    }

    /// The finished document with a final newline, handed over without a copy (large answers).
    consuming func finishOwned() -> OwnedBytes {
        out.put(10)
        return out.finishOwned()
    }

    /// What has been written so far (precomputed names).
    var bytes: [UInt8] { out.bytes }

    /// The document as text (tests).
    var text: String { out.text }

    @inline(__always)
    private mutating func put(_ b: UInt8) { out.put(b) }

    @inline(__always)
    private mutating func put(_ s: StaticString) { out.put(s) }

    @inline(__always)
    private mutating func decimal(_ v: UInt64) { out.decimal(v) }

    // MARK: structure

    @inline(__always)
    private mutating func separator() {
        if commaBits & 1 != 0 { put(UInt8(ascii: ",")) }
        commaBits |= 1
    }

    @inline(__always)
    private mutating func key(_ k: StaticString) {
        separator()
        out.put(UInt8(ascii: "\""))
        out.put(k)
        out.put("\":")
    }

    @inline(__always)
    private mutating func key(_ k: JSONName) {
        separator()
        out.put(k.quoted)
    }

    /// Opens an object (the document, or an array element).
    mutating func beginObject() {
        separator()
        put(UInt8(ascii: "{"))
        commaBits <<= 1
    }

    /// Opens an object as a member named `k`.
    mutating func beginObject(_ k: StaticString) {
        key(k)
        put(UInt8(ascii: "{"))
        commaBits <<= 1
    }

    /// Opens an object under a precomputed name.
    mutating func beginObject(_ k: JSONName) {
        key(k)
        put(UInt8(ascii: "{"))
        commaBits <<= 1
    }

    /// Closes the innermost object.
    mutating func endObject() {
        commaBits >>= 1
        put(UInt8(ascii: "}"))
    }

    /// Opens an array as a member named `k`.
    mutating func beginArray(_ k: StaticString) {
        key(k)
        put(UInt8(ascii: "["))
        commaBits <<= 1
    }

    /// Closes the innermost array.
    mutating func endArray() {
        commaBits >>= 1
        put(UInt8(ascii: "]"))
    }

    // MARK: members

    /// A string member, escaped per RFC 8259.
    mutating func field(_ k: StaticString, _ v: String) {
        key(k)
        quoted(v)
    }

    /// An integer member.
    mutating func field(_ k: StaticString, _ v: Int) {
        key(k)
        if v < 0 {
            put(UInt8(ascii: "-"))
            decimal(UInt64(v.magnitude))
        } else {
            decimal(UInt64(v))
        }
    }

    /// An unsigned integer member.
    mutating func field(_ k: StaticString, _ v: UInt64) {
        key(k)
        decimal(v)
    }

    /// A count under a name known only at run time (an enum's raw value), quoted once in advance.
    mutating func field(_ k: JSONName, _ v: UInt64) {
        key(k)
        decimal(v)
    }

    /// A boolean member.
    mutating func field(_ k: StaticString, _ v: Bool) {
        key(k)
        put(v ? "true" : "false")
    }

    /// A number member; infinities and NaN, which JSON cannot express, become null.
    mutating func field(_ k: StaticString, _ v: Double) {
        key(k)
        if !v.isFinite {
            put("null")
        } else if v == v.rounded(), abs(v) < 1e15 {
            // Whole numbers (most millisecond figures) skip the float formatter.
            if v < 0 { put(UInt8(ascii: "-")) }
            decimal(UInt64(abs(v)))
        } else {
            out.put(String(v))
        }
    }

    /// A null member.
    mutating func null(_ k: StaticString) {
        key(k)
        put("null")
    }

    // MARK: values

    /// `s` in quotes, escaped per RFC 8259.
    mutating func quoted(_ s: String) {
        put(UInt8(ascii: "\""))
        // Native strings hand out their UTF-8 without a copy; only bridged or lazily built ones take the slow path.
        let done: Bool? = s.utf8.withContiguousStorageIfAvailable { u in
            escaped(u)
            return true
        }
        if done == nil {
            var copy = s
            copy.withUTF8 { escaped($0) }
        }
        put(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ u: UnsafeBufferPointer<UInt8>) {
        // Names and most values are plain ASCII with nothing to escape: append them whole.
        if !u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            if let p = u.baseAddress { out.put(p, u.count) }
            return
        }
        for b in u {
            switch b {
            case 0x22: put("\\\"")
            case 0x5C: put("\\\\")
            case 0x0A: put("\\n")
            case 0x0D: put("\\r")
            case 0x09: put("\\t")
            case ..<0x20:
                let hex: StaticString = "0123456789abcdef"
                put("\\u00")
                put(hex.utf8Start[Int(b >> 4)])
                put(hex.utf8Start[Int(b & 15)])
            default: put(b)
            }
        }
    }

    /// Appends raw bytes that are already valid JSON.
    mutating func raw(_ bytes: [UInt8]) {
        out.put(bytes)
    }
}

/// A member name computed at run time, stored already quoted and escaped with its colon, for names written many times.
struct JSONName: Sendable {
    let quoted: [UInt8]

    init(_ name: String) {
        var w = JSONWriter(capacity: 64)
        w.quoted(name)
        w.raw([UInt8(ascii: ":")])
        quoted = w.bytes
    }
}
