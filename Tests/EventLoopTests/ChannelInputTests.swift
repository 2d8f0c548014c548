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
}
