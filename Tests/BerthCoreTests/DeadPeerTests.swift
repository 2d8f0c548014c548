// The dead-peer decision with an injected view of the kernel's counts: acknowledged or not, and retry or 502.
import XCTest
import EventLoop
@testable import BerthCore

final class DeadPeerTests: XCTestCase {
    /// A view in which the peer acknowledged `acked` data bytes, with `unacked` segments still out.
    private func view(acked: UInt64, unacked: UInt32 = 1, notSent: UInt32 = 0, closed: Bool = false) -> TCPAckView {
        TCPAckView(bytesAcked: acked, notSentBytes: notSent, unackedSegments: unacked, peerClosed: closed)
    }

    /// Should call the peer dead when it acknowledged nothing past the bytes sent before the request.
    func testNothingAcknowledgedPastTheEarlierBytesIsADeadPeer() {
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_000), sentBefore: 1_000, headBytes: 200, handed: 1_200, lastLook: 0,
                                      headLeftAtLastLook: false), .unacknowledged)
        XCTAssertEqual(DeadPeer.judge(view(acked: 0, unacked: 0, notSent: 300), sentBefore: 0, headBytes: 300, handed: 300,
                                      lastLook: 0, headLeftAtLastLook: false), .unacknowledged)
    }

    /// Should take a FIN that acknowledged none of the request, then the peer's reset, for a server that closed
    /// before it arrived, and nothing else for it: a reset or a failed write (not `clean`), part of the request
    /// acknowledged, no TCP view.
    func testOnlyAFinAcknowledgingNoneOfTheRequestShowsTheServerClosedFirst() {
        XCTAssertEqual(DeadPeer.crossedClose(view(acked: 1_000, closed: true), sentBefore: 1_000, clean: true), .reset)
        XCTAssertNil(DeadPeer.crossedClose(view(acked: 1_000, closed: true), sentBefore: 1_000, clean: false))
        XCTAssertNil(DeadPeer.crossedClose(view(acked: 1_001, closed: true), sentBefore: 1_000, clean: true))
        XCTAssertNil(DeadPeer.crossedClose(nil, sentBefore: 1_000, clean: true))
    }

    /// Should not take a FIN alone for proof (review13: a peer that only half-closed reads on, CLOSE_WAIT here), but
    /// wait for the reset that may be a round trip behind it (linger2).
    func testAFinAloneWaitsForTheReset() {
        XCTAssertEqual(DeadPeer.crossedClose(view(acked: 1_000), sentBefore: 1_000, clean: true), .awaitReset)
    }

    /// Should wait for the reset about a retransmission timeout (round trip and four variations) from the send:
    /// never less than the floor (loopback), never more than the cap or the dead-peer timeout.
    func testTheResetWaitFollowsTheRoundTripWithinItsBounds() {
        func wait(rtt: UInt32, rttVar: UInt32, deadPeer: Nanos = 250_000_000) -> Nanos {
            DeadPeer.resetWait(TCPAckView(bytesAcked: 0, notSentBytes: 0, unackedSegments: 0, rttMicros: rtt, rttVarMicros: rttVar),
                               deadPeerTimeout: deadPeer)
        }
        XCTAssertEqual(wait(rtt: 40_000, rttVar: 5_000), 60_000_000)
        XCTAssertEqual(wait(rtt: 50, rttVar: 25), DeadPeer.resetWaitFloor)
        XCTAssertEqual(wait(rtt: 150_000, rttVar: 40_000), DeadPeer.resetWaitCap)
        XCTAssertEqual(wait(rtt: 40_000, rttVar: 5_000, deadPeer: 30_000_000), 30_000_000)
        XCTAssertEqual(wait(rtt: 40_000, rttVar: 5_000, deadPeer: 1_000), DeadPeer.resetWaitFloor)
    }

    /// Should not judge before an ACK could be back (adv1): the delayed-ACK allowance (`soonestLook`, whatever the
    /// dead-peer timeout) and a round trip; on loopback that is 250 ms.
    func testALookWaitsARoundTripPastTheDelayedAck() {
        func after(rtt: UInt32, rttVar: UInt32) -> Nanos {
            DeadPeer.judgeableAfter(TCPAckView(bytesAcked: 0, notSentBytes: 0, unackedSegments: 0, rttMicros: rtt,
                                               rttVarMicros: rttVar))
        }
        XCTAssertEqual(after(rtt: 300_000, rttVar: 10_000), 590_000_000)
        // Whatever dead-peer-timeout says: a shorter one judged a live server's delayed ACK (rev18).
        XCTAssertEqual(after(rtt: 50, rttVar: 25), 250_150_000)
    }

    /// Should not judge bytes in flight before a segment berth's kernel sent after them could bring the ACK a lost one
    /// carried (adv5): with `rto_min` 600 ms, not at 250 ms but after the retransmission (the timer an eighth late at
    /// most) and the allowance for its ACK; once one has left (a tail loss probe, 210 ms after the send on loopback),
    /// the allowance after it; nothing in flight, as before.
    func testALookWaitsForASegmentSentAgainWhileBytesAreInFlight() {
        let ms: Nanos = 1_000_000
        func at(now: Nanos, unacked: UInt32 = 1, lastSent: UInt32) -> Nanos {
            DeadPeer.judgeableAt(TCPAckView(bytesAcked: 0, notSentBytes: 0, unackedSegments: unacked, rttMicros: 25,
                                            rttVarMicros: 14, rtoMicros: 600_000, lastDataSentMillis: lastSent),
                                 sentAt: 0, now: now)
        }
        let trip: Nanos = 81_000
        XCTAssertEqual(at(now: 250 * ms, lastSent: 250), 675 * ms + 50 * ms + trip)
        // Within the jiffy slack of the send: not another segment.
        XCTAssertEqual(at(now: 250 * ms, lastSent: 245), 675 * ms + 50 * ms + trip)
        XCTAssertEqual(at(now: 250 * ms, lastSent: 50), 250 * ms + trip)
        XCTAssertEqual(at(now: 300 * ms, lastSent: 90), 260 * ms + trip)
        XCTAssertEqual(at(now: 250 * ms, unacked: 0, lastSent: 250), 250 * ms + trip)
        // A retransmission later than the timer said: looked at again, never judged in the past.
        XCTAssertEqual(at(now: 900 * ms, lastSent: 900), 950 * ms + trip)
    }

    /// Should keep today's rules once the whole head was acknowledged (a slow server, not a dead one).
    func testTheWholeHeadAcknowledgedMeansTheServerMayHaveReadIt() {
        XCTAssertEqual(DeadPeer.judge(view(acked: 1_200), sentBefore: 1_000, headBytes: 200, handed: 1_200, lastLook: 0,
                                      headLeftAtLastLook: false), .acknowledged)
        XCTAssertEqual(DeadPeer.judge(view(acked: 5_000, unacked: 0), sentBefore: 1_000, headBytes: 200, handed: 5_000,
                                      lastLook: 0, headLeftAtLastLook: false), .acknowledged)
    }

    /// Should not take part of a head for the request (h-drain: a 40 KB head acknowledged up to a small window by a
    /// peer that then vanished was "acknowledged", a 504): the server cannot have acted on it. A head whose end has
    /// not left berth's host (`notSent` covers it) and that took not one byte more over a whole dead-peer timeout is
    /// taken for dead (safe: no server acts on half a head); one still taking bytes is looked at again.
    func testPartOfTheHeadAcknowledgedIsNotTheRequest() {
        // sentBefore 1,000, a 200-byte head, all 1,200 bytes handed to the kernel.
        func judge(_ v: TCPAckView, last: UInt64, leftAtLast: Bool = false) -> RequestAcknowledgement {
            DeadPeer.judge(v, sentBefore: 1_000, headBytes: 200, handed: 1_200, lastLook: last, headLeftAtLastLook: leftAtLast)
        }
        XCTAssertEqual(judge(view(acked: 1_001, notSent: 150), last: 0), .headPartly(stalled: false))
        XCTAssertEqual(judge(view(acked: 1_199), last: 0), .headPartly(stalled: false))
        XCTAssertEqual(judge(view(acked: 1_150, notSent: 20), last: 1_100), .headPartly(stalled: false))
        XCTAssertEqual(judge(view(acked: 1_100, notSent: 20), last: 1_100), .headPartly(stalled: true))
        XCTAssertEqual(judge(view(acked: 1_200), last: 1_100), .acknowledged)
    }

    /// Should not call a peer dead because its ACK of the head's end is late when that end left berth's host only
    /// since the previous look (review11). A live server whose window was full at the first look reads, its window
    /// opens, the kernel sends the rest of the head and the server acts on the whole head; its kernel may delay the
    /// ACK up to 200 ms (TCP_DELACK_MAX), so the second look, a dead-peer timeout after the first, can find the
    /// acknowledged bytes unchanged. Taken for dead, the request went again on a fresh connection: a POST twice.
    /// Only an end that had left by the previous look, a whole dead-peer timeout ago, and is still unacknowledged
    /// counts (the rule for a request none of which was acknowledged).
    func testAHeadEndThatLeftSinceThePreviousLookIsNotADeadPeer() {
        let first = view(acked: 1_100, notSent: 100)  // the window full: the rest of the head still in berth's kernel
        let second = view(acked: 1_100, notSent: 0)   // the window opened: the rest sent, its ACK not back yet
        XCTAssertFalse(DeadPeer.headLeft(first, sentBefore: 1_000, headBytes: 200, handed: 1_200))
        XCTAssertTrue(DeadPeer.headLeft(second, sentBefore: 1_000, headBytes: 200, handed: 1_200))
        XCTAssertEqual(DeadPeer.judge(second, sentBefore: 1_000, headBytes: 200, handed: 1_200, lastLook: 1_100,
                                      headLeftAtLastLook: false), .headPartly(stalled: false))
        // Its end gone a whole dead-peer timeout ago and still unacknowledged: dead, as a request none of which was.
        XCTAssertEqual(DeadPeer.judge(second, sentBefore: 1_000, headBytes: 200, handed: 1_200, lastLook: 1_100,
                                      headLeftAtLastLook: true), .headPartly(stalled: true))
        // Body bytes handed after the head count as sent only once the kernel has sent them.
        let withBody = view(acked: 1_100, notSent: 5_000)
        XCTAssertFalse(DeadPeer.headLeft(withBody, sentBefore: 1_000, headBytes: 200, handed: 5_300))
        XCTAssertTrue(DeadPeer.headLeft(view(acked: 1_100, notSent: 4_100), sentBefore: 1_000, headBytes: 200, handed: 5_300))
    }

    /// Should know nothing where the kernel gives no TCP view (a Unix socket), so nothing is retried.
    func testNoViewIsUnknown() {
        XCTAssertEqual(DeadPeer.judge(nil, sentBefore: 10, headBytes: 10, handed: 20, lastLook: 0, headLeftAtLastLook: false), .unknown)
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
