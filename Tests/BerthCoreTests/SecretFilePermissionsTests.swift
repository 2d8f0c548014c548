// Who may read or change the admin token file, and what a file that is not a regular one is called (on disk: tests/hostile).
import XCTest
import Glibc
@testable import BerthCore

final class SecretFilePermissionsTests: XCTestCase {
    private let berth: uid_t = 65532

    /// Should accept a file only berth's own user may read, and refuse any bit for group or others, naming the mode.
    func testOwnedByBerthsUser() {
        for mode: UInt32 in [0o100600, 0o100400, 0o100700] {
            XCTAssertNil(SecretFilePermissions.problem(mode: mode, owner: berth, user: berth), String(mode, radix: 8))
        }
        for mode: UInt32 in [0o100640, 0o100604, 0o100620, 0o100644, 0o100660, 0o100610, 0o100601] {
            let problem = SecretFilePermissions.problem(mode: mode, owner: berth, user: berth)
            XCTAssertNotNil(problem, String(mode, radix: 8))
            XCTAssertTrue(problem?.contains("has mode 0\(String(mode & 0o777, radix: 8))") ?? false, problem ?? "")
        }
    }

    /// Should let root's file be read by the group (a Kubernetes Secret with fsGroup), but no more.
    func testOwnedByRoot() {
        for mode: UInt32 in [0o100600, 0o100640, 0o100440, 0o100400] {
            XCTAssertNil(SecretFilePermissions.problem(mode: mode, owner: 0, user: berth), String(mode, radix: 8))
            XCTAssertNil(SecretFilePermissions.problem(mode: mode, owner: 0, user: 0), String(mode, radix: 8))
        }
        for mode: UInt32 in [0o100644, 0o100660, 0o100604, 0o100650] {
            XCTAssertNotNil(SecretFilePermissions.problem(mode: mode, owner: 0, user: berth), String(mode, radix: 8))
        }
    }

    /// Should refuse a file another user owns, whatever its mode: that user could change the token.
    func testOwnedBySomeoneElse() {
        let problem = SecretFilePermissions.problem(mode: 0o100600, owner: 1000, user: berth)
        XCTAssertEqual(problem?.contains("owned by uid 1000"), true, problem ?? "")
    }

    /// Should name each kind of file that is not a regular one.
    func testFileKinds() {
        XCTAssertNil(FileKind.notRegular(UInt32(S_IFREG) | 0o644))
        XCTAssertEqual(FileKind.notRegular(UInt32(S_IFIFO) | 0o644), "a FIFO")
        XCTAssertEqual(FileKind.notRegular(UInt32(S_IFDIR) | 0o755), "a directory")
        XCTAssertEqual(FileKind.notRegular(UInt32(S_IFCHR) | 0o666), "a character device")
        XCTAssertEqual(FileKind.notRegular(UInt32(S_IFSOCK) | 0o666), "a socket")
    }
}
