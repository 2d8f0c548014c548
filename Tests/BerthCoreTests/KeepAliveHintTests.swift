// Tests of the keep-alive timeouts' arithmetic: the upstream hint's margin, the idle deadline, berth's announcement.
import XCTest
@testable import BerthCore

final class KeepAliveHintTests: XCTestCase {
    let s: Nanos = 1_000_000_000

    /// Should keep a tenth of the hint as margin, at least 1 s, at most half of it.
    func testMarginBeforeTheAnnouncedTimeout() {
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: -1), .max)
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: 0), .max)  // Node's floor of a sub-second timeout
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: 1), s / 2)
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: 2), 1 * s)
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: 5), 4 * s)
        XCTAssertEqual(KeepAliveHint.idleLimit(announcedSeconds: 75), 75 * s - 75 * s / 10)
    }

    /// Should take the smaller of the hint and berth's idle timeout, naming the hint only when it decided.
    func testIdleDeadlineTakesTheHintWhenShorter() {
        let hinted = FakeLedger.Pool.idleDeadline(since: 100, openedAt: 0, idleTimeout: 50, hinted: 30, maxAge: 1000)
        XCTAssertEqual(hinted.at, 130)
        XCTAssertEqual(hinted.reason, .keepAliveHint)
        let own = FakeLedger.Pool.idleDeadline(since: 100, openedAt: 0, idleTimeout: 50, hinted: 80, maxAge: 1000)
        XCTAssertEqual(own.at, 150)
        XCTAssertEqual(own.reason, .idleTimeout)
        let age = FakeLedger.Pool.idleDeadline(since: 100, openedAt: 0, idleTimeout: 50, hinted: 30, maxAge: 110)
        XCTAssertEqual(age.at, 110)
        XCTAssertEqual(age.reason, .maxAge)
        XCTAssertTrue(CloseReason.keepAliveHint.closesWithReset)
    }

    /// Should announce a second under the caller idle timeout, at least 1, and nothing below one second.
    func testAnnouncedCallerTimeout() {
        XCTAssertNil(announcedKeepAlive(callerIdleTimeout: s / 2))
        XCTAssertNil(announcedKeepAlive(callerIdleTimeout: s - 1))
        XCTAssertEqual(announcedKeepAlive(callerIdleTimeout: s), 1)
        XCTAssertEqual(announcedKeepAlive(callerIdleTimeout: 2 * s), 1)
        XCTAssertEqual(announcedKeepAlive(callerIdleTimeout: 3 * s - 1), 1)
        XCTAssertEqual(announcedKeepAlive(callerIdleTimeout: 3 * s), 2)
        XCTAssertEqual(announcedKeepAlive(callerIdleTimeout: 60 * s), 59)
    }
}
