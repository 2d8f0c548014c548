// How much buffer capacity a parsed head and its parser keep between messages, and giving back the rest.

/// The capacity a head's buffers (its text and field lines, the lexer's carried line) keep for the next message.
/// Kept, an ordinary head (under 1 KiB from curl or a browser, a few KiB with cookies) is parsed with no allocation;
/// past it, the capacity a large head made goes back once that message is done, as nginx frees its large header
/// buffers when a connection goes idle. Without this, each kept connection held the largest head it ever carried
/// (up to the 64 KiB head limit, twice over for a line that came in pieces), in memory nothing bounded.
public enum HeadBuffers {
    /// Bytes of capacity kept per head (all its buffers together) and per carried line: 8 KiB, nginx's
    /// `large_client_header_buffers` size.
    public static let kept = 8 * 1024
}

extension HeadLexer {
    /// Empties the carried line, giving its buffer back when a long line made it large.
    @inline(__always)
    mutating func emptyPending() {
        if _slowPath(pending.capacity > HeadBuffers.kept) { pending = [] } else { pending.removeAll(keepingCapacity: true) }
    }
}

extension RequestHead {
    /// The capacity its buffers hold: a small head may sit in the buffers a large one made.
    @inlinable
    var heldCapacity: Int { text.capacity &+ headers.storage.capacity }

    /// Once the message is done with (a kept connection's exchange ended): when its buffers hold more than
    /// `HeadBuffers.kept`, the head is cleared and they go back. Inlinable and in place: per request it costs two
    /// loads and a compare, no call and no reference count.
    @inlinable
    public mutating func shedIfLarge() {
        if _slowPath(heldCapacity > HeadBuffers.kept) { clearShedding() }
    }

    /// Clears the head and gives its buffers back when they hold more than `HeadBuffers.kept`.
    @usableFromInline
    mutating func clearShedding() {
        clear()
        if heldCapacity > HeadBuffers.kept { text = []; headers.storage = [] }
    }
}

extension ResponseHead {
    /// The capacity its buffers hold.
    @inlinable
    var heldCapacity: Int { text.capacity &+ headers.storage.capacity }

    /// Clears the head and gives its buffers back when they hold more than `HeadBuffers.kept`.
    mutating func clearShedding() {
        clear()
        if heldCapacity > HeadBuffers.kept { text = []; headers.storage = [] }
    }
}

extension ResponseHeadParser {
    /// Once the exchange is over (a kept caller's): when the last response head's buffers and the carried line hold
    /// more than `HeadBuffers.kept`, the parser is reset and they go back. In place, as `RequestHead.shedIfLarge`.
    @inlinable
    public mutating func shedIfLarge() {
        if _slowPath(lexer.pending.capacity &+ sink.head.heldCapacity > HeadBuffers.kept) { resetShedding() }
    }

    /// Readies the parser for the next message as `reset()` does, giving back buffers past `HeadBuffers.kept`.
    @usableFromInline
    mutating func resetShedding() {
        lexer.reset()
        lexer.emptyPending()
        sink.head.clearShedding()
    }
}
