// The dead-peer decision with an injected view of the kernel's counts: acknowledged or not, and retry or 502.
import XCTest
import EventLoop
@testable import BerthCore

final class DeadPeerTests: XCTestCase {
    /// A view in which the peer acknowledged `acked` data bytes, with `unacked` segments still out.
    private func view(acked: UInt64, unacked: UInt32 = 1, notSent: UInt32 = 0) -> TCPAckView {
        TCPAckView(bytesAcked: acked, notSentBytes: notSent, unackedSegments: unacked)
    }

    /// Should call the peer dead when it acknowledged nothing past the bytes sent before the request.
    func testNothingAcknowledgedPastTheEarlierBytesIsADeadPeer() {
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_000), sentBefore: 1_000, headBytes: 200, lastLook: 0), .unacknowledged)
        XCTAssertEqual(DeadPeer.judge(view(acked: 0, unacked: 0, notSent: 300), sentBefore: 0, headBytes: 300, lastLook: 0), .unacknowledged)
    }

    /// Should keep today's rules once the whole head was acknowledged (a slow server, not a dead one).
    func testTheWholeHeadAcknowledgedMeansTheServerMayHaveReadIt() {
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_200), sentBefore: 1_000, headBytes: 200, lastLook: 0), .acknowledged)
        XCTAssertEqual(DeadPeer.judge(view(acked: 5_000, unacked: 0), sentBefore: 1_000, headBytes: 200, lastLook: 0), .acknowledged)
    }

    /// Should not take part of a head for the request (h-drain: a 40 KB head acknowledged up to a small window by a
    /// peer that then vanished was "acknowledged", a 504): the server cannot have acted on it. A head that took not
    /// one byte more over a whole dead-peer timeout is taken for dead (safe: no server acts on half a head); one still
    /// taking bytes is looked at again.
    func testPartOfTheHeadAcknowledgedIsNotTheRequest() {
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_001), sentBefore: 1_000, headBytes: 200, lastLook: 0), .headPartly(stalled: false))
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_199), sentBefore: 1_000, headBytes: 200, lastLook: 0), .headPartly(stalled: false))
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_150), sentBefore: 1_000, headBytes: 200, lastLook: 1_100), .headPartly(stalled: false))
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_100), sentBefore: 1_000, headBytes: 200, lastLook: 1_100), .headPartly(stalled: true))
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_200), sentBefore: 1_000, headBytes: 200, lastLook: 1_100), .acknowledged)
    }

    /// Should know nothing where the kernel gives no TCP view (a Unix socket), so nothing is retried.
    func testNoViewIsUnknown() {
        XCTAssertEqual(DeadPeer.judge(nil, sentBefore: 10, headBytes: 10, lastLook: 0), .unknown)
    }

    /// Should send a request again whatever its body, once, only when every body byte sent is held for a replay.
    func testTheActionRetriesOnceWhenTheBodyCanGoAgain() {
        XCTAssertEqual(DeadPeer.action(retryEnabled: true, retried: false, bodyBytesSent: 0, replayHeld: nil), .retry)
        XCTAssertEqual(DeadPeer.action(retryEnabled: true, retried: false, bodyBytesSent: 42, replayHeld: 42), .retry)
        XCTAssertEqual(DeadPeer.action(retryEnabled: true, retried: false, bodyBytesSent: 42, replayHeld: nil),
                       .fail(.bodyNotKept))
        XCTAssertEqual(DeadPeer.action(retryEnabled: true, retried: false, bodyBytesSent: 42, replayHeld: 10),
                       .fail(.bodyNotKept))
        XCTAssertEqual(DeadPeer.action(retryEnabled: true, retried: true, bodyBytesSent: 0, replayHeld: nil),
                       .fail(.alreadyRetried))
        XCTAssertEqual(DeadPeer.action(retryEnabled: false, retried: false, bodyBytesSent: 0, replayHeld: nil),
                       .fail(.retryOff))
    }

    /// Should read a real connection's counts: the SYN is not counted, and sent bytes are acknowledged on loopback.
    func testTheKernelViewOfALoopbackConnection() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(listener, $0, len); _ = getsockname(listener, $0, &len) }
        }
        XCTAssertEqual(listen(listener, 1), 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let rc = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, len) } }
        XCTAssertEqual(rc, 0)
        XCTAssertEqual(Socket.ackView(client)?.bytesAcked, 0)
        XCTAssertEqual(send(client, "hello", 5, 0), 5)
        var acked: UInt64 = 0
        for _ in 0..<100 where acked < 5 {
            acked = Socket.ackView(client)?.bytesAcked ?? 0
            usleep(10_000)
        }
        XCTAssertEqual(acked, 5)
    }
}
