// Unix socket settings: unix:/path listeners, socket file modes and owners, and the per-destination unix: key.
import EventLoop
import XCTest
@testable import BerthCore

final class ConfigUnixSocketTests: XCTestCase {
    /// Should read unix:/path for either listener, through every source, and count a Unix socket as local.
    func testListenersTakeAUnixSocketPath() throws {
        XCTAssertEqual(try ListenAddress.parse("unix:/run/berth/proxy.sock"), .unix(path: "/run/berth/proxy.sock"))
        XCTAssertEqual(try ListenAddress.parse("UNIX:/run/berth/proxy.sock"), .unix(path: "/run/berth/proxy.sock"))
        XCTAssertTrue(try ListenAddress.parse("unix:/x.sock").isLoopback)
        let c = try resolve(["profile": ["same-region"], "listen": ["unix:/run/berth/proxy.sock"]],
                            environment: ["BERTH_ADMIN": "unix:/run/berth/admin.sock"])
        XCTAssertEqual(c.listen.description, "unix:/run/berth/proxy.sock")
        XCTAssertEqual(c.admin.description, "unix:/run/berth/admin.sock")
        XCTAssertTrue(c.renderedAsYAML().contains("\nlisten: \"unix:/run/berth/proxy.sock\"\n"), c.renderedAsYAML())
        let file = try resolve(["config": ["b.yaml"]], files: ["b.yaml": "profile: same-region\nadmin: unix:/run/berth/admin.sock\n"])
        XCTAssertEqual(file.admin, .unix(path: "/run/berth/admin.sock"))
    }

    /// Should refuse a relative path, a path the kernel cannot hold, a NUL and a directory, saying why.
    func testBadSocketPathsAreRefusedWithTheReason() {
        XCTAssertTrue(errorMessage { try ListenAddress.parse("unix:run/proxy.sock") }.contains("must be absolute"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("unix:") }.contains("must be absolute"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("unix:@abstract") }.contains("must be absolute"))
        let long = "/" + String(repeating: "a", count: UnixSocketPath.maxBytes)
        XCTAssertEqual(errorMessage { try ListenAddress.parse("unix:" + long) },
                       "\"\(long)\" is \(long.utf8.count) bytes; a Unix socket path must be at most 107 (the kernel's limit)")
        XCTAssertNoThrow(try ListenAddress.parse("unix:" + long.dropLast()))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("unix:/run/\u{0}x") }.contains("NUL"))
        XCTAssertTrue(errorMessage { try ListenAddress.parse("unix:/run/berth/") }.contains("names a directory"))
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "listen": ["unix:proxy.sock"]]) },
                       "--listen: \"proxy.sock\": a Unix socket path must be absolute (start with /), e.g. /run/berth/proxy.sock")
    }

    /// Should hold the same length limit as the kernel's sockaddr_un, which EventLoop reads from the C type.
    func testThePathLimitIsTheKernels() {
        XCTAssertEqual(UnixSocketPath.maxBytes, SocketAddress.maxUnixPathBytes)
        XCTAssertNotNil(SocketAddress(unixPath: "/" + String(repeating: "a", count: SocketAddress.maxUnixPathBytes - 1)))
        XCTAssertNil(SocketAddress(unixPath: "/" + String(repeating: "a", count: SocketAddress.maxUnixPathBytes)))
    }

    /// Should refuse two listeners on one socket path, as on one port.
    func testListenAndAdminCannotShareAPath() {
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "listen": ["unix:/run/b.sock"], "admin": ["unix:/run/b.sock"]]) },
                       "listen and admin are both unix:/run/b.sock; give them different paths")
    }

    /// Should default the proxy socket to 0660 and the admin socket to 0600, and read modes as chmod does.
    func testSocketModesReadAsOctal() throws {
        let defaults = try resolve(["profile": ["same-region"]])
        XCTAssertEqual(defaults.listenSocket.mode, 0o660)
        XCTAssertEqual(defaults.adminSocket.mode, 0o600)
        for (text, mode) in [("0666", 0o666), ("644", 0o644), ("0o640", 0o640), ("0000", 0)] {
            XCTAssertEqual(try resolve(["profile": ["same-region"], "admin-socket-mode": [text]]).adminSocket.mode, UInt32(mode), text)
        }
        for text in ["0888", "66", "07777", "rw-rw----", "1666", ""] {
            XCTAssertTrue(errorMessage { try resolve(["profile": ["same-region"], "listen-socket-mode": [text]]) }
                .hasPrefix("--listen-socket-mode: \"\(text)\" is not a file mode"), text)
        }
        // Unquoted in YAML, 0660 is still the text 0660 (not YAML 1.1's octal integer 432).
        let file = try resolve(["config": ["b.yaml"]], files: ["b.yaml": "profile: same-region\nlisten-socket-mode: 0640\n"])
        XCTAssertEqual(file.listenSocket.mode, 0o640)
    }

    /// Should read USER, USER:GROUP and :GROUP by number or by name, and refuse names the system does not know.
    func testSocketOwnersReadAsChownDoes() throws {
        let owner = { (text: String) throws -> SocketOwner? in
            try resolve(["profile": ["same-region"], "listen-socket-owner": [text]]).listenSocket.owner
        }
        XCTAssertEqual(try owner("1000:2000")?.uid, 1000)
        XCTAssertEqual(try owner("1000:2000")?.gid, 2000)
        XCTAssertNil(try owner(":2000")?.uid)
        XCTAssertEqual(try owner(":2000")?.gid, 2000)
        XCTAssertEqual(try owner("root")?.uid, 0)
        XCTAssertNil(try owner("root")?.gid)
        XCTAssertEqual(try owner("root:root")?.description, "root:root")
        XCTAssertNil(try owner(""))
        XCTAssertEqual(errorMessage { try owner("no-such-user-here") },
                       "--listen-socket-owner: there is no user named \"no-such-user-here\" on this system")
        XCTAssertEqual(errorMessage { try owner(":no-such-group-here") },
                       "--listen-socket-owner: there is no group named \"no-such-group-here\" on this system")
        XCTAssertTrue(errorMessage { try owner(":") }.contains("is not an owner"))
    }

    /// Should map a destination to a socket path, and give the pool of a matching upstream that path, first match
    /// winning as for every per-destination key.
    func testADestinationMapsItsUpstreamToASocket() throws {
        let file = """
            profile: same-region
            destinations:
              - {match: "fn-42:8080", unix: /run/fn/42/http.sock, max-per-route: 4}
              - {match: fn-42, unix: /run/fn/42/other.sock}
              - {match: 10.20.0.0/16, unix: /run/fn/router.sock}
            """
        let c = try resolve(["config": ["b.yaml"]], files: ["b.yaml": file])
        XCTAssertEqual(c.destinations.map(\.unixSocket), ["/run/fn/42/http.sock", "/run/fn/42/other.sock", "/run/fn/router.sock"])
        let base = EventBase()
        defer { base.free() }
        let manager = PoolManager(base: base, settings: ManagerSettings(c))
        defer { manager.posted.free() }
        let route = { (host: String, port: Int) in manager.routeSettings(for: PoolKey(host: host, port: port)) }
        XCTAssertEqual(route("fn-42", 8080).unixPath, "/run/fn/42/http.sock")
        XCTAssertEqual(route("fn-42", 8080).maxPerRoute, 4)
        XCTAssertEqual(route("fn-42", 9090).unixPath, "/run/fn/42/other.sock")
        XCTAssertEqual(route("10.20.3.4", 80).unixPath, "/run/fn/router.sock")
        XCTAssertNil(route("fn-43", 8080).unixPath)
        XCTAssertTrue(errorMessage { try resolve(["config": ["b.yaml"]], files: ["b.yaml": "profile: same-region\ndestinations:\n  - {match: fn-1, unix: fn.sock}\n"]) }
            .hasPrefix("b.yaml:3: destinations[0].unix: \"fn.sock\": a Unix socket path must be absolute"))
    }
}
