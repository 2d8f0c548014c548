// A growable raw byte buffer for multi-megabyte admin answers (/stats, /metrics) built piece by piece.
import Glibc
import EventLoop

/// Appends bytes to raw memory it owns.
///
/// Not an Array: /stats and /metrics at 10,000 upstreams append a few hundred thousand small pieces, and Array's
/// uniqueness and capacity checks on each were most of those answers' time. Noncopyable, so the memory has exactly
/// one owner and is freed once; `finishOwned` hands it to the socket without a copy.
struct ByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    /// Whether `base` is an mmap of its own (large buffers) rather than malloc memory.
    private var mapped: Bool

    /// An empty buffer with room for `capacity` bytes (its own mapping from 1 MiB up).
    init(capacity: Int = 4096) {
        let c = max(capacity, 64)
        (base, self.capacity, mapped) = ByteWriter.allocate(c)
    }

    deinit { OwnedBytes.free(base, capacity: capacity, mapped: mapped) }

    /// Buffers from 1 MiB up get an mmap of their own, handed back to the kernel whole. No transparent huge pages:
    /// a page's first touch is one fault, and a fresh 2 MB page cost ~6.9 ms in a Firecracker guest (the host backs
    /// it on first touch), one stall of the loop per 2 MB of /stats at 10,000 upstreams; 4 KB faults spread over the
    /// slices, each of which looks at the clock.
    private static let mapThreshold = 1 << 20
    private static let hugePage = 2 << 20

    private static func allocate(_ n: Int) -> (UnsafeMutablePointer<UInt8>, Int, Bool) {
        if n >= mapThreshold {
            let size = (n + hugePage - 1) / hugePage * hugePage
            let m = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let m, m != MAP_FAILED {
                return (m.assumingMemoryBound(to: UInt8.self), size, true)
            }
        }
        return (.allocate(capacity: n), n, false)
    }

    /// What has been written, as an array (one copy).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// What has been written, as text (tests).
    var text: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    /// Forgets what was written and keeps the memory, for a buffer reused piece after piece (access-log lines).
    mutating func removeAll() { count = 0 }

    /// Calls `body` with what has been written, in place.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Hands the written bytes over without copying them.
    consuming func finishOwned() -> OwnedBytes {
        let owned = OwnedBytes(base: base, count: count, capacity: capacity, mapped: mapped)
        discard self
        return owned
    }

    /// Makes room for `n` more bytes.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count &+ n) }
    }

    @inline(never)
    private mutating func grow(_ need: Int) {
        let (p, newCapacity, newMapped) = ByteWriter.allocate(max(need, capacity * 2))
        p.update(from: base, count: count)
        OwnedBytes.free(base, capacity: capacity, mapped: mapped)
        base = p
        capacity = newCapacity
        mapped = newMapped
    }

    /// One byte.
    @inline(__always)
    mutating func put(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count &+= 1
    }

    /// `n` bytes from `p`.
    @inline(__always)
    mutating func put(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count &+= n
    }

    /// A program constant.
    @inline(__always)
    mutating func put(_ s: StaticString) {
        put(s.utf8Start, s.utf8CodeUnitCount)
    }

    /// Bytes prepared in advance.
    @inline(__always)
    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { if let p = $0.baseAddress { put(p, $0.count) } }
    }

    /// A string's UTF-8, as it is (no escaping).
    mutating func put(_ s: String) {
        let done: Bool? = s.utf8.withContiguousStorageIfAvailable { u in
            if let p = u.baseAddress { put(p, u.count) }
            return true
        }
        if done == nil {
            var copy = s
            copy.withUTF8 { if let p = $0.baseAddress { put(p, $0.count) } }
        }
    }

    /// Decimal digits of `v`, written straight into the buffer.
    @inline(__always)
    mutating func decimal(_ v: UInt64) {
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

    /// A signed integer in decimal.
    @inline(__always)
    mutating func decimal(_ v: Int) {
        if v < 0 { put(UInt8(ascii: "-")) }
        decimal(UInt64(v.magnitude))
    }
}
