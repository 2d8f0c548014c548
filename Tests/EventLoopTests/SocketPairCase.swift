// The fixture the channel tests share: an event base and channels on one end of non-blocking socket pairs.
import Glibc
import XCTest
@testable import EventLoop

/// A test case whose `channel()` gives a channel on one end of a socket pair and the other end for the test to drive;
/// the base and every peer end are released after each test.
class SocketPairCase: XCTestCase {
    var base: EventBase!
    var peers: [CInt] = []

    override func setUp() {
        base = EventBase()
    }

    override func tearDown() {
        for fd in peers { close(fd) }
        peers = []
        base.free()
    }

    /// A channel on one end of a non-blocking socket pair; the other end is returned for the test to drive.
    func channel() -> (Channel, CInt) {
        var fds: [CInt] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds), 0)
        peers.append(fds[1])
        return (Channel(base: base, fd: fds[0]), fds[1])
    }
}
