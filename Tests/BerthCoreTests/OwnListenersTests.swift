// Tests of berth's loop checks as pure values: which addresses are its own listeners, and how its Via name is stamped.
import XCTest
import EventLoop
@testable import BerthCore

final class OwnListenersTests: XCTestCase {
    func ip(_ host: String, _ port: Int) -> SocketAddress { SocketAddress(numericHost: host, port: port)! }

    /// Should match a specific bind exactly, its v4-mapped form and the unspecified address, and nothing on other ports.
    func testSpecificBindMatchesItselfOnly() {
        let own = OwnListeners([ip("127.0.0.1", 3128), ip("127.0.0.1", 9901)])
        XCTAssertTrue(own.contains(ip("127.0.0.1", 3128)))
        XCTAssertTrue(own.contains(ip("127.0.0.1", 9901)))
        XCTAssertTrue(own.contains(ip("::ffff:127.0.0.1", 3128)))
        XCTAssertTrue(own.contains(ip("0.0.0.0", 3128)), "a connect to 0.0.0.0 reaches 127.0.0.1")
        XCTAssertFalse(own.contains(ip("127.0.0.2", 3128)), "nobody listens there")
        XCTAssertFalse(own.contains(ip("127.0.0.1", 3129)))
        XCTAssertFalse(OwnListeners().contains(ip("127.0.0.1", 3128)))
    }

    /// Should match any loopback or interface address on a wildcard bind's port, of either family.
    func testWildcardBindMatchesEveryLocalAddressOnItsPort() {
        let own = OwnListeners([ip("0.0.0.0", 3128)])
        for host in ["127.0.0.1", "127.0.0.2", "::1", "::", "0.0.0.0"] {
            XCTAssertTrue(own.contains(ip(host, 3128)), host)
        }
        for local in SocketAddress.localInterfaceAddresses() {
            XCTAssertTrue(own.contains(SocketAddress(bytes: local.bytes, port: 3128)), local.host)
        }
        XCTAssertFalse(own.contains(ip("192.0.2.200", 3128)), "not this machine's (TEST-NET-1)")
        XCTAssertFalse(own.contains(ip("127.0.0.1", 80)))
    }

    /// Should match a Unix listener by its path, and by the file when the path is spelled another way.
    func testUnixListenerMatchesByPathAndFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("own-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.sock").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let own = OwnListeners([SocketAddress(unixPath: path)!])
        XCTAssertTrue(own.contains(SocketAddress(unixPath: path)!))
        XCTAssertTrue(own.contains(SocketAddress(unixPath: dir.path + "/./p.sock")!))
        XCTAssertFalse(own.contains(SocketAddress(unixPath: dir.path + "/other.sock")!))
        XCTAssertFalse(own.contains(ip("127.0.0.1", 0)))
    }

    /// Should join the token to the received-by, keep a comment, and add nothing without a Via.
    func testViaStampJoinsTheTokenToTheReceivedBy() throws {
        let t = ViaStamp.token
        XCTAssertEqual(t.count, 8)
        let plain = try XCTUnwrap(ViaStamp.stamp("1.1 berth"))
        XCTAssertEqual(plain.value, "1.1 berth-\(t)")
        XCTAssertEqual(plain.receivedBy, Array("berth-\(t)".utf8))
        XCTAssertEqual(ViaStamp.stamp("1.1  edge (berth)")?.value, "1.1 edge-\(t) (berth)")
        XCTAssertEqual(ViaStamp.stamp("edge")?.value, "edge-\(t)")
        XCTAssertNil(ViaStamp.stamp(nil))
        XCTAssertNil(ViaStamp.stamp(""))
    }
}
