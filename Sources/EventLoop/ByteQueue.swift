// A buffer of bytes outside any socket: kept aside from a channel's input and handed to a channel's output later.
internal import CLibevent

/// Bytes held apart from any channel (an evbuffer of its own): the replay copy of a request body.
package final class ByteQueue {
    fileprivate let buffer: OpaquePointer

    /// An empty queue.
    package init() {
        // A queue may be the first libevent object of a process: the allocator must be in place before it.
        _ = chainBlockAllocator
        buffer = evbuffer_new()
    }

    /// Bytes held.
    package var count: Int { evbuffer_get_length(buffer) }

    /// Appends a copy of `bytes`; false when memory ran out. (An in-memory channel's replay copy in tests.)
    package func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        evbuffer_add(buffer, bytes.baseAddress, bytes.count) == 0
    }

    /// Drops every byte held.
    package func clear() {
        evbuffer_drain(buffer, evbuffer_get_length(buffer))
    }

    deinit {
        evbuffer_free(buffer)
    }
}

extension Channel {
    /// Appends a copy of the first `n` input bytes to `queue`, leaving the input as it is; false when memory ran out.
    package func copyInput(_ n: Int, to queue: ByteQueue) -> Bool {
        guard n <= input.count else { return false }
        guard let chunk = input.chunk else { return n == 0 }
        return evbuffer_add(queue.buffer, chunk.baseAddress, n) == 0
    }

    /// Appends `queue`'s bytes to the output and empties the queue, moving its chains instead of copying them.
    package func write(moving queue: ByteQueue) {
        guard !closed else { return queue.clear() }
        outputSpilled = true
        evbuffer_add_buffer(output, queue.buffer)
    }
}
