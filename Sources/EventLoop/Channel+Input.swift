// What a channel's owner does with buffered input: read it in place, drain it, or move it to another channel uncopied.
internal import CLibevent

extension Channel {
    /// The first contiguous piece of `input`, read in place; nil when nothing is buffered. Valid until the input next
    /// changes (a drain, a move or a read), so the owner uses it and then says how much it consumed.
    @inline(__always)
    package func inputChunk() -> UnsafeRawBufferPointer? {
        var len = 0
        guard let ptr = berth_evbuffer_first_chunk(input, &len), len > 0 else { return nil }
        return UnsafeRawBufferPointer(start: ptr, count: len)
    }

    /// Drops the first `n` buffered input bytes (consumed in place, or not wanted).
    @inline(__always)
    package func drainInput(_ n: Int) {
        evbuffer_drain(input, n)
    }

    /// Drops all buffered input.
    @inline(__always)
    package func discardInput() {
        evbuffer_drain(input, evbuffer_get_length(input))
    }

    /// Moves the first `n` input bytes to the end of `other`'s output, handing whole chains over where it can
    /// (evbuffer_remove_buffer): body bytes are never copied on the way through.
    @inline(__always)
    package func moveInput(_ n: Int, to other: Channel) {
        evbuffer_remove_buffer(input, other.output, n)
    }

    /// Moves all buffered input to the end of `other`'s output without a copy (evbuffer_add_buffer).
    @inline(__always)
    package func moveAllInput(to other: Channel) {
        evbuffer_add_buffer(other.output, input)
    }

    /// All buffered input as one contiguous run (evbuffer_pullup, which may copy), read in place; nil when nothing
    /// is buffered. For rare paths only; valid until the input next changes.
    package func inputPulledUp() -> UnsafeRawBufferPointer? {
        let n = evbuffer_get_length(input)
        guard n > 0, let ptr = berth_evbuffer_pullup(input, -1) else { return nil }
        return UnsafeRawBufferPointer(start: ptr, count: n)
    }
}
