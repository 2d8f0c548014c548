// Channel's input methods over a real socket pair: read in place, drain, and move bytes to another channel's output.
import Glibc
import XCTest
@testable import EventLoop

final class ChannelInputTests: SocketPairCase {
    /// Sends `text` from the peer and reads it into the channel's input.
    private func deliver(_ text: String, from peer: CInt, to ch: Channel) {
        XCTAssertEqual(text.withCString { send(peer, $0, strlen($0), 0) }, text.utf8.count)
        XCTAssertEqual(ch.read(), .data(text.utf8.count))
    }

    private func text(_ chunk: UnsafeRawBufferPointer?) -> String? {
        chunk.map { String(decoding: $0, as: UTF8.self) }
    }

    func testAnEmptyInputHasNoChunk() {
        let (ch, _) = channel()
        XCTAssertNil(ch.inputChunk())
        ch.close()
    }

    func testTheChunkShowsBufferedBytesInPlaceUntilTheyAreDrained() {
        let (ch, peer) = channel()
        deliver("GET / HTTP/1.1\r\n", from: peer, to: ch)
        XCTAssertEqual(text(ch.inputChunk()), "GET / HTTP/1.1\r\n")
        ch.drainInput(4)
        XCTAssertEqual(text(ch.inputChunk()), "/ HTTP/1.1\r\n")
        XCTAssertEqual(ch.pendingInput, 12)
        ch.discardInput()
        XCTAssertEqual(ch.pendingInput, 0)
        XCTAssertNil(ch.inputChunk())
        ch.close()
    }

    func testMovedInputLeavesInOrderThroughTheOtherChannel() {
        let (from, fromPeer) = channel()
        let (to, toPeer) = channel()
        deliver("0123456789", from: fromPeer, to: from)
        from.moveInput(4, to: to)
        XCTAssertEqual(from.pendingInput, 6)
        XCTAssertEqual(to.pendingOutput, 4)
        from.moveAllInput(to: to)
        XCTAssertEqual(from.pendingInput, 0)
        XCTAssertEqual(to.pendingOutput, 10)
        XCTAssertTrue(to.flush())
        var buf = [UInt8](repeating: 0, count: 32)
        let n = recv(toPeer, &buf, buf.count, 0)
        XCTAssertEqual(String(decoding: buf.prefix(max(n, 0)), as: UTF8.self), "0123456789")
        from.close()
        to.close()
    }

    /// Should keep a reset as an end that is never orderly, though the reads after it return 0 as at a FIN: a
    /// close-delimited body relayed behind a backlog must not take the later EOF for its clean end.
    func testAResetReadStaysAnUncleanEnd() {
        let (ch, peer) = channel()
        ch.write("unread")
        XCTAssertTrue(ch.flush())
        XCTAssertEqual("abc".withCString { send(peer, $0, 3, 0) }, 3)
        // Closing over unread bytes resets a Unix stream socket's peer, as SO_LINGER 0 does a TCP one's.
        close(peer)
        peers.removeAll { $0 == peer }
        XCTAssertEqual(ch.read(), .data(3))
        XCTAssertTrue(ch.endedCleanly)
        XCTAssertEqual(ch.read(), .failed(ECONNRESET))
        XCTAssertTrue(ch.endSeen)
        XCTAssertEqual(ch.read(), .eof)
        XCTAssertFalse(ch.endedCleanly)
        ch.close()
    }
}
