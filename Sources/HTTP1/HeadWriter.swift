// A bounded writer over raw memory, so forwarded heads are serialised straight into the output buffer.

/// Writes bytes into memory the caller reserved. The serializer states how much a head can need
/// (`HeadSerializer.forwardRequestBound` and `forwardResponseBound`), so running past `capacity` is a bug in those
/// bounds: it traps rather than write outside the reservation. Internal: other modules reach it only through the
/// serializer's `reserve:` and Array entry points.
struct HeadWriter {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes written so far.
    private(set) var count = 0

    /// A writer over `capacity` bytes at `base`.
    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        precondition(count < capacity, "head bound too small")
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    /// Fast for the short pieces of a head (a method, a version, a Host value, a short run of lines): see `copyBytes`.
    @inline(__always)
    mutating func raw(_ p: UnsafeRawBufferPointer) {
        guard let src = p.baseAddress, p.count > 0 else { return }
        let n = p.count
        precondition(n <= capacity &- count, "head bound too small")
        copyBytes(base + count, src, n)
        count &+= n
    }

    @inline(__always)
    mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw($0) }
    }

    @inline(__always)
    mutating func literal(_ s: StaticString) {
        raw(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func crlf() {
        precondition(2 <= capacity &- count, "head bound too small")
        base.storeBytes(of: CR, toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: LF, toByteOffset: count &+ 1, as: UInt8.self)
        count &+= 2
    }

    /// A non-negative decimal (negative values are written as 0), at most 19 digits. Three digits (every status
    /// code) are written without the loop's divisions.
    mutating func decimal(_ value: Int) {
        if value >= 100 && value < 1000 {
            precondition(3 <= capacity &- count, "head bound too small")
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ value / 100), toByteOffset: count, as: UInt8.self)
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ value / 10 % 10), toByteOffset: count &+ 1, as: UInt8.self)
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ value % 10), toByteOffset: count &+ 2, as: UInt8.self)
            count &+= 3
            return
        }
        var v = value < 0 ? 0 : value
        var digits = 1
        var p = 10
        while digits < 19 && v >= p { digits += 1; p &*= 10 }
        precondition(digits <= capacity &- count, "head bound too small")
        var i = count &+ digits
        repeat {
            i &-= 1
            base.storeBytes(of: UInt8(0x30 &+ v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
        } while v > 0
        count &+= digits
    }
}

extension Array where Element == UInt8 {
    /// Appends what `write` puts in a HeadWriter of `bound` bytes (for tests, fuzzing and other callers that want an
    /// Array; the proxy writes into its output buffer directly).
    mutating func appendHead(bound: Int, _ write: (inout HeadWriter) -> Void) {
        let start = count
        var written = 0
        append(contentsOf: repeatElement(0, count: bound))
        withUnsafeMutableBytes { b in
            var w = HeadWriter(base: b.baseAddress! + start, capacity: bound)
            write(&w)
            written = w.count
        }
        removeLast(bound - written)
    }
}

/// Copies `n` bytes, `n` > 0, from `src` to `dst` (not overlapping). Up to 32 bytes are two loads and two stores of
/// a size that fits, overlapping where the length needs it (two pairs above 16), with no call to memcpy, whose
/// dispatch on the length costs more than such a copy (~17 instructions for two bytes).
@inline(__always)
func copyBytes(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) {
    if n >= 8 && n <= 16 {
        let a = src.loadUnaligned(as: UInt64.self), b = src.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        dst.storeBytes(of: a, as: UInt64.self)
        dst.storeBytes(of: b, toByteOffset: n &- 8, as: UInt64.self)
    } else if n > 16 && n <= 32 {
        let a = src.loadUnaligned(as: UInt64.self), b = src.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let c = src.loadUnaligned(fromByteOffset: n &- 16, as: UInt64.self)
        let d = src.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        dst.storeBytes(of: a, as: UInt64.self)
        dst.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
        dst.storeBytes(of: c, toByteOffset: n &- 16, as: UInt64.self)
        dst.storeBytes(of: d, toByteOffset: n &- 8, as: UInt64.self)
    } else if n >= 4 && n < 8 {
        let a = src.loadUnaligned(as: UInt32.self), b = src.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
        dst.storeBytes(of: a, as: UInt32.self)
        dst.storeBytes(of: b, toByteOffset: n &- 4, as: UInt32.self)
    } else if n >= 2 && n < 4 {
        let a = src.loadUnaligned(as: UInt16.self), b = src.loadUnaligned(fromByteOffset: n &- 2, as: UInt16.self)
        dst.storeBytes(of: a, as: UInt16.self)
        dst.storeBytes(of: b, toByteOffset: n &- 2, as: UInt16.self)
    } else if n == 1 {
        dst.storeBytes(of: src.load(as: UInt8.self), as: UInt8.self)
    } else {
        dst.copyMemory(from: src, byteCount: n)
    }
}
