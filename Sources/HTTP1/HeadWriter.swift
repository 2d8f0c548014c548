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

    @inline(__always)
    mutating func raw(_ p: UnsafeRawBufferPointer) {
        guard let src = p.baseAddress, p.count > 0 else { return }
        precondition(p.count <= capacity &- count, "head bound too small")
        (base + count).copyMemory(from: src, byteCount: p.count)
        count &+= p.count
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

    /// A non-negative decimal (negative values are written as 0), at most 19 digits.
    mutating func decimal(_ value: Int) {
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
