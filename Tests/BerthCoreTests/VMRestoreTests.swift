// The VM restore watch's pure parts: the uevent decoder and its restore test, the gate that coalesces bursts, and
// what a restore does to a worker's pools.
import XCTest
@testable import BerthCore

final class VMRestoreTests: XCTestCase {
    /// A datagram as the kernel sends it: the header, then each field, every one ended by a NUL.
    private func datagram(_ header: String, _ fields: [String]) -> [UInt8] {
        ([header] + fields).flatMap { Array($0.utf8) + [0] }
    }

    private func isRestore(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { VMRestoreSignal.isRestore($0) } }

    /// Should decode the header and every KEY=VALUE, skip a field without `=`, keep a value holding `=`, and refuse
    /// a message with no `ACTION@DEVPATH` header (udev's re-broadcasts).
    func testDecodesHeaderAndFields() throws {
        let bytes = datagram("change@/devices/platform/VMGENCTR:00",
                             ["ACTION=change", "DEVPATH=/devices/platform/VMGENCTR:00", "junk", "SUBSYSTEM=platform", "A=b=c", "NEW_VMGENID=1", "SEQNUM=42"])
        let m = try XCTUnwrap(bytes.withUnsafeBytes { UeventMessage($0) })
        XCTAssertEqual(m.action, "change")
        XCTAssertEqual(m.devpath, "/devices/platform/VMGENCTR:00")
        XCTAssertEqual(m.fields.map(\.key), ["ACTION", "DEVPATH", "SUBSYSTEM", "A", "NEW_VMGENID", "SEQNUM"])
        XCTAssertEqual(m["A"], "b=c")
        XCTAssertEqual(m["NEW_VMGENID"], "1")
        XCTAssertNil(m["junk"])
        XCTAssertNil(datagram("libudev", ["ACTION=change"]).withUnsafeBytes { UeventMessage($0) })
        XCTAssertNil(datagram("@/devices/x", ["ACTION=change"]).withUnsafeBytes { UeventMessage($0) })
        XCTAssertNil([UInt8]().withUnsafeBytes { UeventMessage($0) })
    }

    /// Should call the kernel's vmgenid change a restore, and root's synthetic one on the vmgenid device, and nothing
    /// else: other actions, other devices' synthetic changes (udevadm trigger), a cut message, a 0 value.
    func testOnlyVMGenerationChangesAreRestores() {
        let path = "/devices/platform/VMGENCTR:00"
        XCTAssertTrue(isRestore(datagram("change@" + path, ["ACTION=change", "DEVPATH=" + path, "NEW_VMGENID=1", "SEQNUM=7"])))
        XCTAssertTrue(isRestore(datagram("change@" + path, ["ACTION=change", "SYNTH_UUID=0", "SYNTH_ARG_NEWVMGENID=1", "DRIVER=vmgenid"])))
        // udevadm trigger: a synthetic change with no argument.
        XCTAssertFalse(isRestore(datagram("change@" + path, ["ACTION=change", "SYNTH_UUID=0", "DRIVER=vmgenid"])))
        // The synthetic argument on another device.
        XCTAssertFalse(isRestore(datagram("change@/devices/virtual/net/lo", ["ACTION=change", "SYNTH_ARG_NEWVMGENID=1", "DRIVER=e1000"])))
        XCTAssertFalse(isRestore(datagram("add@" + path, ["ACTION=add", "NEW_VMGENID=1"])))
        XCTAssertFalse(isRestore(datagram("change@" + path, ["ACTION=change", "NEW_VMGENID=0"])))
        XCTAssertFalse(isRestore(Array("change@/devices/platform/VMGENCTR:00\0NEW_VMGEN".utf8)))
        XCTAssertFalse(isRestore(datagram("libudev", ["NEW_VMGENID=1"])))
    }

    /// Should act on the first signal at once, fold every signal within the spacing into one action at its end, and
    /// act at once again after a quiet spacing.
    func testGateCoalescesBursts() {
        var gate = RestoreGate(spacing: 1000)
        XCTAssertEqual(gate.signal(now: 10), .act)
        XCTAssertEqual(gate.signal(now: 20), .wait(until: 1010))
        for t in 21..<500 { XCTAssertEqual(gate.signal(now: Nanos(t)), .joined) }
        XCTAssertFalse(RestoreGate(spacing: 5).pending)
        XCTAssertTrue(gate.fired(now: 1010))
        XCTAssertFalse(gate.fired(now: 1011), "a second firing with nothing waiting does nothing")
        XCTAssertEqual(gate.signal(now: 1500), .wait(until: 2010))
        XCTAssertTrue(gate.fired(now: 2010))
        XCTAssertEqual(gate.signal(now: 5000), .act)
    }

    /// Should close a pool's idle connections and move its epoch on without pausing it: a busy connection of the old
    /// epoch closes `stale-epoch` when it comes back, and the next request connects afresh.
    func testMovingTheEpochTakesIdleAndStalesBusy() {
        var set = FakeLedger(maxTotal: 10)
        let s = set.add(maxPerRoute: 4, maxPending: 4)
        let idle = set.connected(set.checkout(s, waiter: FakeWaiter(-1), allowReuse: false).ticket()!, conn: FakeConn(1))
        let busy = set.connected(set.checkout(s, waiter: FakeWaiter(-2), allowReuse: false).ticket()!, conn: FakeConn(2))
        _ = set.release(idle, verdict: nil, openedAt: 0, now: 1)
        XCTAssertEqual(set.moveEpoch(s).map(\.id), [1])
        XCTAssertEqual(set[s].epoch, 2)
        XCTAssertFalse(set.isPaused(s))
        // The gate every release passes, as PoolManager asks it: the busy connection was opened in epoch 1.
        let facts = ReleaseFacts(responseComplete: true, requestComplete: true, keepAlive: true, failure: nil,
                                 requestsServed: 1, openedAt: 0, epoch: 1)
        let verdict = ReleaseGate.verdict(facts, policy: ReleasePolicy(currentEpoch: set.epoch(s), paused: set.isPaused(s),
                                                                       maxRequests: 100, maxAge: .max), now: 2)
        XCTAssertEqual(verdict, .staleEpoch)
        guard case .close(_, let conn) = set.release(busy, verdict: verdict, openedAt: 0, now: 2) else { return XCTFail("pooled a stale connection") }
        XCTAssertEqual(conn.id, 2)
        guard let fresh = set.checkout(s, waiter: FakeWaiter(3), allowReuse: true).ticket() else { return }
        XCTAssertEqual(fresh.epoch, 2)
        set.connectFailed(fresh)
        XCTAssertNil(set.invariantViolation())
    }
}
