// Claiming a Unix socket path: the stale file of a crashed run is replaced, a live one, a non-socket and a missing
// directory are refused with what to do, the mode is in place before anyone can connect, and close removes only ours.
import EventLoop
import Glibc
import XCTest

final class UnixSocketFileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/berth-unix-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        directory = String(cString: made)
    }

    override func tearDown() {
        if let d = opendir(directory) {
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(d)
        }
        rmdir(directory)
    }

    func address(_ name: String) -> SocketAddress { SocketAddress(unixPath: directory + "/" + name)! }

    func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    func mode(_ path: String) -> UInt32 {
        var st = stat()
        lstat(path, &st)
        return UInt32(st.st_mode) & 0o777
    }

    /// A socket bound at `path` that does not listen: what a crashed run leaves (its file, no one accepting).
    func leaveStaleSocket(_ a: SocketAddress) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let rc = a.path.withCString { p -> Int32 in
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &sun.sun_path) { buf in
                for (i, b) in a.path.utf8.enumerated() { buf[i] = b }
            }
            _ = p
            return withUnsafePointer(to: &sun) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        }
        XCTAssertEqual(rc, 0)
        close(fd)
        XCTAssertTrue(exists(a.path))
    }

    /// Should bind a fresh path with the mode asked for, and remove the file at close.
    func testAFreshPathIsBoundWithItsModeAndRemovedAtClose() throws {
        let a = address("p.sock")
        let (fd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o640))
        XCTAssertEqual(mode(a.path), 0o640)
        close(fd)
        file.remove()
        XCTAssertFalse(exists(a.path))
    }

    /// Should replace a socket file nobody listens on.
    func testAStaleSocketFileIsReplaced() throws {
        let a = address("stale.sock")
        leaveStaleSocket(a)
        let (fd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        defer { close(fd); file.remove() }
        XCTAssertEqual(mode(a.path), 0o600)
    }

    /// Should refuse a path where a listener is still accepting, and leave its file alone.
    func testALivePathIsRefused() throws {
        let a = address("live.sock")
        let (fd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        defer { close(fd); file.remove() }
        XCTAssertThrowsError(try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))) { error in
            XCTAssertEqual("\(error)", "listen unix:\(a.path): another process is listening on \(a.path) (is another berth running?); stop it or choose another path")
        }
        XCTAssertTrue(exists(a.path))
    }

    /// Should refuse to replace a file that is not a socket.
    func testARegularFileIsNotReplaced() throws {
        let a = address("file.sock")
        let fd = open(a.path, O_CREAT | O_WRONLY, 0o644)
        close(fd)
        XCTAssertThrowsError(try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))) { error in
            XCTAssertTrue("\(error)".contains("exists and is not a socket"), "\(error)")
        }
        XCTAssertTrue(exists(a.path))
    }

    /// Should name the missing directory.
    func testAMissingDirectoryIsNamed() {
        let a = SocketAddress(unixPath: directory + "/nope/p.sock")!
        XCTAssertThrowsError(try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))) { error in
            XCTAssertEqual("\(error)", "listen unix:\(a.path): the directory \(directory)/nope does not exist; create it (or mount the shared volume there) first")
        }
    }

    /// Should leave the path alone at close when another listener has taken it over since.
    func testCloseRemovesOnlyItsOwnFile() throws {
        let a = address("taken.sock")
        let (fd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        close(fd)
        // File times tick with the kernel's coarse clock (a jiffy, up to 10 ms): a takeover within the same tick with
        // a recycled inode number would look like the same file. A real takeover comes a restart later.
        usleep(20_000)
        // The first listener stopped; its file looks stale and a second one replaces it.
        let (fd2, file2) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        file.remove()
        XCTAssertTrue(exists(a.path), "the first listener removed the second one's file")
        close(fd2)
        file2.remove()
        XCTAssertFalse(exists(a.path))
    }

    /// Should refuse connections until the mode is set: bind leaves the file at the umask's mode, listen comes last.
    func testTheFileTakesItsModeBeforeListening() throws {
        let old = umask(0)
        defer { umask(old) }
        let a = address("mode.sock")
        let (fd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        defer { close(fd); file.remove() }
        XCTAssertEqual(mode(a.path), 0o600, "umask 0 would have left 0777")
    }

    /// Should read back the peer's uid and pid on a Unix connection, and nothing on TCP.
    func testPeerCredentialsNameTheConnectingProcess() throws {
        let a = address("cred.sock")
        let (lfd, file) = try UnixSocketFile.listen(a, permissions: UnixSocketPermissions(mode: 0o600))
        defer { close(lfd); file.remove() }
        let (cfd, _, err) = Socket.connect(to: a)
        XCTAssertEqual(err, 0)
        defer { close(cfd) }
        var accepted: CInt? = nil
        for _ in 0..<100 where accepted == nil {
            accepted = try Socket.accept(lfd)
            if accepted == nil { usleep(1000) }
        }
        let sfd = try XCTUnwrap(accepted)
        defer { close(sfd) }
        let peer = try XCTUnwrap(Socket.peerCredentials(sfd))
        XCTAssertEqual(peer.uid, getuid())
        XCTAssertEqual(peer.pid, getpid())
        // The connecting side never bound a name, so there is no address to log: the credentials are the record.
        XCTAssertNil(Socket.peerAddress(sfd))

        let tcp = try Socket.listen(SocketAddress(numericHost: "127.0.0.1", port: 0)!, reusePort: false)
        defer { close(tcp) }
        let (tfd, _, _) = Socket.connect(to: Socket.localAddress(tcp)!)
        defer { close(tfd) }
        XCTAssertNil(Socket.peerCredentials(tfd))
    }

    /// Should spell and bound Unix socket addresses as the listen settings do.
    func testUnixAddressesReadAndPrint() {
        let a = SocketAddress(unixPath: "/run/berth/proxy.sock")!
        XCTAssertEqual(a.description, "unix:/run/berth/proxy.sock")
        XCTAssertEqual(a.family, .unix)
        XCTAssertTrue(a.isLoopback)
        XCTAssertNil(SocketAddress(unixPath: ""))
        XCTAssertNil(SocketAddress(unixPath: "/a\u{0}b"))
        XCTAssertNotEqual(a, SocketAddress(unixPath: "/run/berth/admin.sock"))
    }
}
