// The release gate: each reason not to reuse a connection, and reuse when none applies.
import XCTest
@testable import BerthCore

final class ReleaseGateTests: XCTestCase {
    private let policy = ReleasePolicy(currentEpoch: 3, paused: false, maxRequests: 100, maxAge: 300_000_000_000)
    private func facts() -> ReleaseFacts {
        ReleaseFacts(responseComplete: true, requestComplete: true, keepAlive: true, failure: nil, requestsServed: 1, openedAt: 0, epoch: 3)
    }

    func testAHealthyConnectionIsReused() {
        XCTAssertNil(ReleaseGate.verdict(facts(), policy: policy, now: 1))
    }

    func testEachReasonIsNamed() {
        var f = facts()
        f.failure = .callerAborted
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .callerAborted)
        f = facts(); f.requestComplete = false
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .requestIncomplete)
        f = facts(); f.responseComplete = false
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .responseIncomplete)
        f = facts(); f.keepAlive = false
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .upstreamClose)
        f = facts(); f.epoch = 2
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .staleEpoch)
        f = facts(); f.requestsServed = 100
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .maxRequests)
        XCTAssertEqual(ReleaseGate.verdict(facts(), policy: policy, now: 300_000_000_000), .maxAge)
        var paused = policy
        paused.paused = true
        XCTAssertEqual(ReleaseGate.verdict(facts(), policy: paused, now: 1), .paused)
    }

    func testAConnectionFromBeforeAResumeIsNeverReusedEvenIfOtherwiseHealthy() {
        var f = facts()
        f.epoch = 1
        XCTAssertEqual(ReleaseGate.verdict(f, policy: policy, now: 1), .staleEpoch)
    }
}
