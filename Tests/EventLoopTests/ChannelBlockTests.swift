// A channel's own blocks over a real socket pair: input that outgrows its block, blocks handed between channels, and
// output order across the front block and the evbuffer behind it.
import Glibc
import XCTest
@testable import EventLoop

final class ChannelBlockTests: SocketPairCase {
    private func bytes(_ count: Int, from seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31) }
    }

    private func send(_ data: [UInt8], from peer: CInt) {
        XCTAssertEqual(data.withUnsafeBytes { Glibc.send(peer, $0.baseAddress, $0.count, 0) }, data.count)
    }

    /// Reads everything the peer has into `into`, up to `count` bytes in all.
    private func receive(_ count: Int, at peer: CInt) -> [UInt8] {
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while got.count < count {
            let n = recv(peer, &buf, buf.count, 0)
            guard n > 0 else { break }
            got += buf.prefix(n)
        }
        return got
    }

    func testInputThatOutgrowsItsBlockKeepsEveryByteInOrder() {
        let (ch, peer) = channel()
        let first = bytes(3000, from: 0), second = bytes(3000, from: 7), third = bytes(4000, from: 13)
        send(first, from: peer)
        XCTAssertEqual(ch.read(), .data(3000))
        ch.drainInput(2900)  // 100 left at the block's end: the next read moves them to the front
        send(second, from: peer)
        XCTAssertEqual(ch.read(), .data(3000))
        send(third, from: peer)
        while ch.pendingInput < 7100 {
            guard case .data = ch.read() else { return XCTFail("the third run was not read") }
        }
        XCTAssertEqual(ch.inputChunk().map { Array($0) }, Array(first[2900...]) + second + third)
        ch.close()
    }

    func testAnEmptyInputHoldsNoBlock() {
        let (ch, peer) = channel()
        send(bytes(10, from: 1), from: peer)
        XCTAssertEqual(ch.read(), .data(10))
        XCTAssertNotNil(ch.input.base)
        ch.drainInput(10)
        XCTAssertNil(ch.input.base, "a drained input gave its block back")
        XCTAssertEqual(ch.read(), .wouldBlock)
        XCTAssertNil(ch.input.base, "a read that found nothing keeps no block")
        ch.close()
    }

    func testAWholeBlockMovedIntoAnEmptyOutputBecomesItsFront() {
        let (from, fromPeer) = channel()
        let (to, toPeer) = channel()
        let body = bytes(1000, from: 3)
        send(body, from: fromPeer)
        XCTAssertEqual(from.read(), .data(1000))
        let block = from.input.base
        from.moveAllInput(to: to)
        XCTAssertEqual(from.pendingInput, 0)
        XCTAssertNil(from.input.base)
        XCTAssertEqual(to.front.base, block, "handed over, not copied")
        XCTAssertEqual(to.pendingOutput, 1000)
        XCTAssertTrue(to.flush())
        XCTAssertEqual(receive(1000, at: toPeer), body)
        XCTAssertNil(to.front.base, "a sent front gives its block back")
        from.close()
        to.close()
    }

    func testALongRunBehindAHeadGoesByReferenceAndLeavesInOrder() {
        let (from, fromPeer) = channel()
        let (to, toPeer) = channel()
        let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8), body = bytes(6000, from: 5)
        to.write([UInt8](head))
        send(body, from: fromPeer)
        while from.pendingInput < 6000 {
            guard case .data = from.read() else { return XCTFail("the body was not read") }
        }
        from.moveInput(6000, to: to)
        XCTAssertTrue(to.outputSpilled, "the run went behind the front, into the evbuffer")
        XCTAssertEqual(to.pendingOutput, head.count + 6000)
        XCTAssertTrue(to.flush())
        XCTAssertEqual(to.pendingOutput, 0)
        XCTAssertEqual(receive(head.count + 6000, at: toPeer), head + body)
        from.close()
        to.close()
    }

    func testWritesAfterTheEvbufferHoldsBytesGoBehindThem() {
        let (ch, peer) = channel()
        ch.write(Array("a".utf8))
        let queue = ByteQueue()
        XCTAssertTrue(Array("b".utf8).withUnsafeBytes { queue.append($0) })
        ch.write(moving: queue)
        ch.write(Array("c".utf8))
        XCTAssertTrue(ch.writeInPlace { reserve in
            guard let p = reserve(1) else { return 0 }
            p.storeBytes(of: UInt8(ascii: "d"), as: UInt8.self)
            return 1
        })
        XCTAssertEqual(ch.pendingOutput, 4)
        XCTAssertTrue(ch.flush())
        XCTAssertEqual(String(decoding: receive(4, at: peer), as: UTF8.self), "abcd")
        XCTAssertFalse(ch.outputSpilled, "an emptied evbuffer takes writes back to the front")
        ch.write(Array("e".utf8))
        XCTAssertEqual(ch.front.count, 1)
        ch.close()
    }
}
