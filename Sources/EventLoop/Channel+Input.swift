// What a channel's owner does with buffered input: read it in place, drain it, or move it to another channel uncopied.
internal import CLibevent

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
        input.drain(n, to: blocks)
    }

    /// Drops all buffered input.
    @inline(__always)
    package func discardInput() {
        input.release(to: blocks)
    }

    /// Moves the first `n` input bytes to the end of `other`'s output without copying a whole block: into an empty
    /// output the block itself goes (a body run then leaves with a plain send), behind other bytes a run of
    /// `handOverBytes` or more goes by reference; a shorter run is copied, which costs less than a chain of its own
    /// and lets a head and a short body leave in one send.
    @inline(__always)
    package func moveInput(_ n: Int, to other: Channel) {
        guard n > 0, let chunk = input.chunk else { return }
        // A closed channel's output is never sent: the bytes are only dropped, as its own output was.
        guard !other.closed else { return input.drain(n, to: blocks) }
        if n == chunk.count && other.takeOutput(&input) { return }
        other.append(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
        input.drain(n, to: blocks)
    }

    /// Moves all buffered input to the end of `other`'s output (a tunnel's turn).
    @inline(__always)
    package func moveAllInput(to other: Channel) {
        moveInput(input.count, to: other)
    }

    /// All buffered input as one contiguous run, read in place; nil when nothing is buffered. The input is one
    /// block, so this is `inputChunk()`; valid until the input next changes.
    @inline(__always)
    package func inputPulledUp() -> UnsafeRawBufferPointer? {
        input.chunk
    }
}
