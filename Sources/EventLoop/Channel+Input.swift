// A channel's input as one block of its own: recv fills it, the owner reads it in place, drains it or moves it on.
internal import CLibevent

/// Bytes read and not yet consumed, in one contiguous block from the chain-block cache (berth_block_alloc). Fast
/// because nothing here calls libevent: the length, the chunk and a drain are a few loads and stores, where an
/// evbuffer cost a call each (peek ~55, drain ~60–150, reserve and commit ~450 per read). The block is taken when
/// the input stops being empty and given back when it is empty again, so an idle connection holds none.
struct InputBlock {
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
    mutating func drain(_ n: Int) {
        start &+= n
        if start >= end { release() }
    }

    /// Gives the block back and forgets every byte.
    mutating func release() {
        if let base { berth_block_free(base) }
        forget()
    }

    /// Forgets the block without freeing it: its owner is now an output it was handed to.
    @inline(__always)
    private mutating func forget() {
        base = nil
        capacity = 0
        start = 0
        end = 0
    }

    /// Free space after the buffered bytes for a read of up to `want` bytes (a power of two): a block of `want` when
    /// there is none; otherwise the tail, after moving the bytes to the front or into a larger block when less than
    /// half of `want` is free. Nil when there is no memory.
    @inline(__always)
    mutating func room(for want: Int) -> UnsafeMutableRawBufferPointer? {
        if let base, capacity &- end >= want {
            return UnsafeMutableRawBufferPointer(start: base + end, count: want)
        }
        return makeRoom(for: want)
    }

    @inline(never)
    private mutating func makeRoom(for want: Int) -> UnsafeMutableRawBufferPointer? {
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
            berth_block_free(old)
            base = fresh
            capacity = size
        }
        return UnsafeMutableRawBufferPointer(start: base! + end, count: min(capacity &- end, want))
    }

    /// Keeps `n` bytes a read put into the room.
    @inline(__always)
    mutating func commit(_ n: Int) { end &+= n }

    /// A read brought nothing: an empty input gives its block back, so an idle connection holds no memory.
    @inline(__always)
    mutating func readNothing() {
        if end == start && base != nil { release() }
    }

    /// Appends the first `n` bytes to `output` and drains them: whole blocks of at least `handOverBytes` by
    /// reference (the output frees the block once it is sent), the rest copied, which for a short body costs less
    /// than a chain of its own and leaves the head and body in one piece for one send.
    @inline(__always)
    mutating func move(_ n: Int, to output: OpaquePointer) {
        guard n > 0, let base else { return }
        if n == count && n >= InputBlock.handOverBytes
            && berth_evbuffer_add_block(output, base + start, n, base) == 0 {
            forget()
            return
        }
        evbuffer_add(output, base + start, n)
        drain(n)
    }

    /// Runs at least this long are handed over rather than copied.
    static let handOverBytes = 4096
}

extension Channel {
    /// The first contiguous piece of `input`, read in place; nil when nothing is buffered. Valid until the input next
    /// changes (a drain, a move or a read), so the owner uses it and then says how much it consumed. The input is one
    /// block, so this is every buffered byte.
    @inline(__always)
    package func inputChunk() -> UnsafeRawBufferPointer? {
        input.chunk
    }

    /// Drops the first `n` buffered input bytes (consumed in place, or not wanted).
    @inline(__always)
    package func drainInput(_ n: Int) {
        input.drain(n)
    }

    /// Drops all buffered input.
    @inline(__always)
    package func discardInput() {
        input.release()
    }

    /// Moves the first `n` input bytes to the end of `other`'s output: a whole block of a body run is handed over
    /// uncopied, a short run copied (`InputBlock.move`).
    @inline(__always)
    package func moveInput(_ n: Int, to other: Channel) {
        input.move(n, to: other.output)
    }

    /// Moves all buffered input to the end of `other`'s output (a tunnel's turn).
    @inline(__always)
    package func moveAllInput(to other: Channel) {
        input.move(input.count, to: other.output)
    }
}
