// One contiguous block of bytes, held only while it has any: a channel's input and the front of its output.
internal import CLibevent

/// Bytes in one contiguous block from the chain-block cache (berth_block_alloc): a channel's unread input, and the
/// front of its output. Fast because nothing here calls libevent: the length, the chunk and a drain are a few loads
/// and stores, where an evbuffer cost a call each (peek ~55, drain ~60–150, reserve and commit ~450 per read). The
/// block is taken when the bytes stop being empty and given back when they are empty again, so an idle connection
/// holds none.
struct ByteBlock {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    private(set) var start = 0
    private(set) var end = 0

    /// Bytes buffered.
    @inline(__always)
    var count: Int { end &- start }

    /// All buffered bytes, in place; nil when there are none. Valid until the input next changes.
    @inline(__always)
    var chunk: UnsafeRawBufferPointer? {
        guard end != start, let base else { return nil }
        return UnsafeRawBufferPointer(start: base + start, count: end &- start)
    }

    /// Drops the first `n` bytes; the block goes back once nothing is left.
    @inline(__always)
    mutating func drain(_ n: Int, to pool: BlockPool) {
        start &+= n
        if start >= end { release(to: pool) }
    }

    /// Gives the block back and forgets every byte.
    @inline(__always)
    mutating func release(to pool: BlockPool) {
        if let base { pool.give(base, capacity: capacity) }
        forget()
    }

    /// Forgets the block without freeing it: its owner is now another block or an output it was handed to.
    @inline(__always)
    mutating func forget() {
        base = nil
        capacity = 0
        start = 0
        end = 0
    }

    /// Free space after the buffered bytes for a read of up to `want` bytes (a power of two): a block of `want` when
    /// there is none; otherwise the tail, after moving the bytes to the front or into a larger block when less than
    /// half of `want` is free. Nil when there is no memory.
    @inline(__always)
    mutating func room(for want: Int, from pool: BlockPool) -> UnsafeMutableRawBufferPointer? {
        if let base, capacity &- end >= want {
            return UnsafeMutableRawBufferPointer(start: base + end, count: want)
        }
        if base == nil && want == BlockPool.size, let fresh = pool.take() {
            base = fresh
            capacity = want
            return UnsafeMutableRawBufferPointer(start: fresh, count: want)
        }
        return makeRoom(for: want, from: pool)
    }

    @inline(never)
    private mutating func makeRoom(for want: Int, from pool: BlockPool) -> UnsafeMutableRawBufferPointer? {
        guard let old = base else {
            guard let fresh = berth_block_alloc(want) else { return nil }
            base = fresh
            capacity = want
            return UnsafeMutableRawBufferPointer(start: fresh, count: want)
        }
        let live = count
        if start > 0 {
            old.copyMemory(from: old + start, byteCount: live)  // memmove: the ranges may overlap
            start = 0
            end = live
        }
        if capacity &- end < want / 2 {
            var size = capacity
            while size < live + want { size <<= 1 }
            guard let fresh = berth_block_alloc(size) else { return nil }
            fresh.copyMemory(from: old, byteCount: live)
            pool.give(old, capacity: capacity)
            base = fresh
            capacity = size
        }
        return UnsafeMutableRawBufferPointer(start: base! + end, count: min(capacity &- end, want))
    }

    /// Free space after the bytes for a write of `n` (an output's head or short body): a block of at least 4 KiB
    /// when there is none; nil when the tail has less (the bytes go to the evbuffer behind it) or `n` is over
    /// `largestCopy`, or there is no memory.
    @inline(__always)
    mutating func tail(atLeast n: Int, from pool: BlockPool) -> UnsafeMutableRawPointer? {
        if let base { return capacity &- end >= n ? base + end : nil }
        guard n <= ByteBlock.largestCopy else { return nil }
        var size = BlockPool.size
        while size < n { size <<= 1 }
        guard let fresh = size == BlockPool.size ? pool.take() : berth_block_alloc(size) else { return nil }
        base = fresh
        capacity = size
        return fresh
    }

    /// Keeps `n` bytes a read or a write put into the room.
    @inline(__always)
    mutating func commit(_ n: Int) { end &+= n }

    /// A read (or a write) brought nothing: an empty block goes back, so an idle connection holds no memory.
    @inline(__always)
    mutating func readNothing(to pool: BlockPool) {
        if end == start && base != nil { release(to: pool) }
    }

    /// Runs at least this long are handed over rather than copied.
    static let handOverBytes = 4096
    /// Writes longer than this never start a block (an admin answer goes to the evbuffer, and is not copied twice).
    static let largestCopy = 65536
}

/// Spare 4 KiB blocks for one loop's channels, the size every head and short body takes: each request takes and
/// gives back four (two inputs, two fronts), and a pop or push here costs a few instructions where libevent's
/// allocator entry and the chain-block cache behind it cost ~90 a pair. Other sizes, and blocks past the spares
/// kept, go to the cache; any block may come back to any pool, as all come from the same allocator. None are kept
/// under a sanitizer (`berth_mm_plain_cache`), so that every block's reuse stays visible to it. Touched only from
/// its loop's thread.
final class BlockPool {
    /// The one size kept.
    static let size = 4096
    /// Spares kept: a loop turn rarely has more blocks in flight than this, and the cache behind holds more.
    private static let kept = 16
    private let slots = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: BlockPool.kept)
    private var count = 0
    private let limit: Int

    init() {
        _ = chainBlockAllocator
        limit = berth_mm_plain_cache() != 0 ? BlockPool.kept : 0
    }

    /// A spare block of `size` bytes, else a new one; nil when there is no memory.
    @inline(__always)
    func take() -> UnsafeMutableRawPointer? {
        guard count > 0 else { return berth_block_alloc(BlockPool.size) }
        count &-= 1
        return slots[count]
    }

    /// Takes `block` back: a spare when it has `size` bytes and there is room, else to the cache.
    @inline(__always)
    func give(_ block: UnsafeMutableRawPointer, capacity: Int) {
        guard capacity == BlockPool.size && count < limit else { return berth_block_free(block) }
        slots[count] = block
        count &+= 1
    }

    deinit {
        for i in 0..<count { berth_block_free(slots[i]) }
        slots.deallocate()
    }
}
