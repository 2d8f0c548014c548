// A minimal JSON builder for admin answers that writes bytes, not Strings: /stats for 10,000 upstreams is ~10 MB.
import Glibc

/// Appends JSON tokens to a growable byte buffer; the caller keeps the structure balanced.
///
/// The buffer is raw memory, not an Array: each of the ~350,000 members of /stats at 10,000 upstreams would otherwise
/// pay Array's uniqueness and capacity checks on every appended piece, which was most of that answer's time.
/// Noncopyable, so the memory has exactly one owner and is freed once.
struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    /// One bit per open object or array: whether its next member needs a comma. Nesting is never deeper than 64.
    private var commaBits: UInt64 = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The finished document with a final newline.
    consuming func finish() -> [UInt8] {
        put(10)
        return bytes
    }

    /// What has been written so far (tests, precomputed names).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The document as text (tests).
    var text: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    // MARK: raw output

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count &+ n) }
    }

    @inline(never)
    private mutating func grow(_ need: Int) {
        let newCapacity = max(need, capacity * 2)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        p.update(from: base, count: count)
        base.deallocate()
        base = p
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func put(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count &+= 1
    }

    @inline(__always)
    private mutating func put(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count &+= n
    }

    @inline(__always)
    private mutating func put(_ s: StaticString) {
        put(s.utf8Start, s.utf8CodeUnitCount)
    }

    // MARK: structure

    @inline(__always)
    private mutating func separator() {
        if commaBits & 1 != 0 { put(UInt8(ascii: ",")) }
        commaBits |= 1
    }

    /// Keys are program constants (StaticString), so they are copied as they are, with no escaping scan.
    @inline(__always)
    private mutating func key(_ k: StaticString) {
        separator()
        reserve(k.utf8CodeUnitCount &+ 3)
        base[count] = UInt8(ascii: "\"")
        (base + (count &+ 1)).update(from: k.utf8Start, count: k.utf8CodeUnitCount)
        count &+= k.utf8CodeUnitCount &+ 1
        base[count] = UInt8(ascii: "\"")
        base[count &+ 1] = UInt8(ascii: ":")
        count &+= 2
    }

    @inline(__always)
    private mutating func key(_ k: JSONName) {
        separator()
        k.quoted.withUnsafeBufferPointer { put($0.baseAddress!, $0.count) }
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
            decimal(v.magnitude.toUInt64)
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
            var text = String(v)
            text.withUTF8 { put($0.baseAddress!, $0.count) }
        }
    }

    /// A null member.
    mutating func null(_ k: StaticString) {
        key(k)
        put("null")
    }

    // MARK: values

    /// Decimal digits of `v`, written straight into the buffer.
    @inline(__always)
    private mutating func decimal(_ v: UInt64) {
        if v < 10 {
            put(UInt8(truncatingIfNeeded: v) &+ 48)
            return
        }
        var digits = 1
        var x = v / 10
        while x > 0 {
            digits &+= 1
            x /= 10
        }
        reserve(digits)
        var y = v
        var i = count &+ digits
        while i > count {
            i &-= 1
            base[i] = UInt8(truncatingIfNeeded: y % 10) &+ 48
            y /= 10
        }
        count &+= digits
    }

    /// `s` in quotes, escaped per RFC 8259.
    mutating func quoted(_ s: String) {
        put(UInt8(ascii: "\""))
        // Native strings hand out their UTF-8 without a copy; only bridged or lazily built ones take the slow path.
        if s.utf8.withContiguousStorageIfAvailable({ escaped($0) }) == nil {
            var copy = s
            copy.withUTF8 { escaped($0) }
        }
        put(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ u: UnsafeBufferPointer<UInt8>) {
        // Names and most values are plain ASCII with nothing to escape: append them whole.
        if !u.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            if let p = u.baseAddress { put(p, u.count) }
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
        bytes.withUnsafeBufferPointer { if let p = $0.baseAddress { put(p, $0.count) } }
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
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
