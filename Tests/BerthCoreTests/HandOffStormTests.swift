// Seeded storms of releases while other sessions wait at --max-total: each waiter is granted on a later loop turn, never inside the release.
import XCTest
import Glibc
@testable import BerthCore

/// Callers of two upstream names (one Unix socket) at a small --max-total, so that most requests wait for a slot
/// another pool frees, with the upstream answering (releases), idle connections closing, callers leaving and timing
/// out, and /evict, /pause and /resume in between. The test takes the loop's turns itself, as one event among the
/// others, so what a step posts may wait several steps for its turn. After every other step, every session that was
/// waiting before it and did not itself leave must still be waiting: nothing was granted inside a release, a close or
/// a command. After every turn, nothing posted is left and the waiters it granted have their connection or slot.
/// After every step, the pools' counts equal what the sessions hold plus what is on its way to them.
final class HandOffStormTests: XCTestCase {
    private enum Event: CaseIterable {
        case caller, callerOther, upstreamAnswers, upstreamAnswersAndCloses, callerLeaves, waiterTimesOut, idleServerCloses
        case evict, pause, resume, turn
    }

    /// Turns as often as releases, so that grants both wait and arrive.
    private static let weighted: [Event] = Event.allCases + [.caller, .callerOther, .upstreamAnswers, .turn, .turn, .turn]
    private static let keys = [PoolKey(host: "fn", port: 80), PoolKey(host: "other", port: 80)]

    private struct Storm {
        let e: EmbeddedSession
        var callers: [EmbeddedSession.Caller] = []
        /// Callers that left: their sessions may still finish an exchange (a half-closed caller gets its response).
        var gone: [EmbeddedSession.Caller] = []
        var rng: SeededRandom
        /// Waiters granted on a turn, and grants taken back by a waiter that left before its turn.
        var granted = 0, takenBack = 0
    }

    private var totals = (granted: 0, takenBack: 0)

    /// Should grant every waiter on a later turn, never inside the step that freed its connection or slot, through
    /// 150 seeded storms of 120 steps.
    func testSeededStormsGrantWaitersOnALaterTurnOnly() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["BERTH_HANDOFF_SEED"] ?? "") ?? 20261206
        for n in 0..<150 {
            let seed = base &+ UInt64(n)
            if let failure = try run(seed: seed, steps: 120) {
                return XCTFail("seed \(seed) (rerun with BERTH_HANDOFF_SEED=\(seed)): \(failure)")
            }
        }
        if ProcessInfo.processInfo.environment["BERTH_HANDOFF_PRINT"] != nil { print("hand-off storm totals \(totals)") }
        // The storms must have reached the paths they are about.
        XCTAssertGreaterThan(totals.granted, 500, "waiters granted on a turn: \(totals)")
        XCTAssertGreaterThan(totals.takenBack, 10, "grants taken back by a waiter that left first: \(totals)")
    }

    private func get(_ host: String) -> String { "GET http://\(host)/s HTTP/1.1\r\nHost: \(host)\r\n\r\n" }

    private func run(seed: UInt64, steps: Int) throws -> String? {
        var rng = SeededRandom(state: seed)
        let maxTotal = Int.random(in: 1...3, using: &rng)
        let e = try EmbeddedSession { c in
            c.limits.maxTotal = maxTotal
            var other = DestinationOverride(match: "other:80")
            other.unixSocket = c.destinations[0].unixSocket
            c.destinations.append(other)
        }
        e.turnsAfterEachEvent = false
        var s = Storm(e: e, rng: rng)
        for step in 0..<steps {
            let event = HandOffStormTests.weighted.randomElement(using: &s.rng)!
            let waiting = s.callers.filter { $0.session.isQueued }
            let acted = try apply(event, &s)
            if event == .turn {
                if e.worker.manager.handOffs.count != 0 { return "step \(step): \(e.worker.manager.handOffs.count) grants left after a turn" }
                s.granted += waiting.filter { !$0.session.isQueued }.count
            } else if let early = waiting.first(where: { $0 !== acted && !$0.session.isQueued }) {
                let what = early.session.machine.state.connection != nil ? "a connection" : "a connect slot or an answer"
                return "step \(step): a waiter was given \(what) inside \(event), not on a later turn"
            }
            if let v = violation(s) { return "step \(step) after \(event): \(v)" }
        }
        for c in s.callers {
            c.close()
            c.deliverReadable()
        }
        s.gone += s.callers
        s.callers.removeAll()
        for c in s.gone { c.deliverUpstreamTimeout() }
        e.loopTurn()
        if e.worker.manager.handOffs.count != 0 { return "grants left after every caller left" }
        if let v = violation(s) { return "after every caller left: \(v)" }
        totals.granted += s.granted
        totals.takenBack += s.takenBack
        return nil
    }

    /// Carries out one event; returns the caller it acted on, if any (a caller that leaves stops waiting itself).
    private func apply(_ event: Event, _ s: inout Storm) throws -> EmbeddedSession.Caller? {
        let e = s.e
        let manager = e.worker.manager
        switch event {
        case .caller, .callerOther:
            let c = try EmbeddedSession.Caller(of: e)
            c.sends(get(event == .caller ? EmbeddedSession.upstream : "other:80"))
            c.deliverReadable()
            s.callers.append(c)
            return c
        case .upstreamAnswers, .upstreamAnswersAndCloses:
            e.acceptUpstreams()
            let close = event == .upstreamAnswersAndCloses ? "Connection: close\r\n" : ""
            for fd in e.upstreamEnds where fd >= 0 && !EmbeddedSession.readAll(fd).isEmpty {
                EmbeddedSession.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\(close)\r\nok", strict: false)
            }
            for c in s.callers + s.gone { c.deliverUpstreamReadable() }
            return nil
        case .callerLeaves, .waiterTimesOut:
            let candidates = event == .waiterTimesOut ? s.callers.filter { $0.session.isQueued } : s.callers
            guard let c = candidates.randomElement(using: &s.rng) else { return nil }
            if manager.handOffs.isPosted(to: c.session) { s.takenBack += 1 }
            if event == .waiterTimesOut {
                c.session.channelTimedOut(c.session.caller)
            } else {
                s.callers.removeAll { $0 === c }
                s.gone.append(c)
                c.close()
                c.deliverReadable()
            }
            return c
        case .idleServerCloses:
            e.acceptUpstreams()
            for i in e.upstreamEnds.indices where e.upstreamEnds[i] >= 0 && Bool.random(using: &s.rng) { e.closeUpstreamEnd(i) }
            for key in HandOffStormTests.keys {
                for idle in manager.existingPool(key)?.state.idle ?? [] { idle.conn.channel.delegate?.channelReadable(idle.conn.channel) }
            }
            return nil
        case .evict:
            _ = manager.evict(nil, idleFor: nil, now: e.worker.now)
            return nil
        case .pause:
            _ = manager.pause(HandOffStormTests.keys.randomElement(using: &s.rng)!, rejectNew: Bool.random(using: &s.rng), hold: nil, now: e.worker.now)
            return nil
        case .resume:
            _ = manager.resume(HandOffStormTests.keys.randomElement(using: &s.rng)!, now: e.worker.now)
            return nil
        case .turn:
            e.loopTurn()
            return nil
        }
    }

    /// What is wrong with the counts now, if anything: the pools hold what the sessions hold and what is on its way.
    private func violation(_ s: Storm) -> String? {
        let manager = s.e.worker.manager
        let pools = HandOffStormTests.keys.compactMap { manager.existingPool($0)?.state }
        let open = pools.map(\.open).reduce(0, +)
        if open != manager.totalOpen { return "the worker counts \(manager.totalOpen) open, its pools \(open)" }
        if open > manager.settings.maxTotal { return "\(open) open over --max-total \(manager.settings.maxTotal)" }
        let transit = manager.handOffs.inTransit
        let all = s.callers + s.gone
        let connecting = all.filter { $0.session.machine.state.holdsConnectSlot }.count + transit.tickets
        let busy = all.filter { $0.session.machine.state.connection != nil }.count + transit.leases
        if connecting != pools.map(\.connecting).reduce(0, +) { return "sessions and hand-offs hold \(connecting) connect slots, the pools count \(pools.map(\.connecting))" }
        if busy != pools.map(\.busy).reduce(0, +) { return "sessions and hand-offs hold \(busy) leases, the pools count \(pools.map(\.busy))" }
        return nil
    }
}
