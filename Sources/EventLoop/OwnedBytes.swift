// Bytes handed to the loop with their memory, so a socket sends them in place and frees them once it is done.
import Glibc

/// Bytes owned by one reference: a socket can send them in place (`Channel.writeOwned`) and the memory goes when
/// the last holder lets go. Built by BerthCore's `ByteWriter`; here because the channel holds them while they go out.
package final class OwnedBytes: @unchecked Sendable {
    package let base: UnsafeMutablePointer<UInt8>
    package let count: Int
    private let capacity: Int
    private let mapped: Bool

    /// Takes over `capacity` bytes at `base` (an mmap of their own when `mapped`, else `allocate` memory), of which
    /// the first `count` are the content.
    package init(base: UnsafeMutablePointer<UInt8>, count: Int, capacity: Int, mapped: Bool) {
        self.base = base
        self.count = count
        self.capacity = capacity
        self.mapped = mapped
    }

    deinit { OwnedBytes.free(base, capacity: capacity, mapped: mapped) }

    /// Gives back memory of the kind this type owns; the one place that knows how (ByteWriter frees through it too).
    package static func free(_ p: UnsafeMutablePointer<UInt8>, capacity: Int, mapped: Bool) {
        if mapped { munmap(p, capacity) } else { p.deallocate() }
    }

    /// A copy as an array (tests, small answers).
    package var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
