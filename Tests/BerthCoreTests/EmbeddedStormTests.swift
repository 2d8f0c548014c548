// Seeded random storms of callers, upstream faults and admin commands through embedded sessions, counts checked after every step.
import XCTest
import Glibc
@testable import BerthCore

/// The fault storm in process and in order: callers that send and leave at any moment, toward a healthy upstream (a
/// Unix socket), a refused port and a missing socket, with the upstream answering, closing or staying silent, and
/// pause, resume and evict in between. After every step each pool's counts must be whole and agree with what the
/// sessions hold. The sequence is the seed's: a failure prints it.
final class EmbeddedStormTests: XCTestCase {
    private enum Event: CaseIterable {
        case caller, callerToRefusedPort, callerToMissingSocket, callerLeaves, callerSendsAndLeaves, connectOutcomes
        case upstreamAnswers, upstreamCloses, upstreamTimesOut, idleServerCloses, pause, resume, evict
    }

    private struct Storm {
        let e: EmbeddedSession
        var callers: [EmbeddedSession.Caller] = []
        /// Callers that left: their sessions may still finish an exchange (a half-closed caller gets its response).
        var gone: [EmbeddedSession.Caller] = []
        var rng: SeededRandom
    }

    /// Should keep every count whole through 200 seeded storms of 150 steps.
    func testSeededStormsKeepEveryCountWhole() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["BERTH_STORM_SEED"] ?? "") ?? 20261201
        for n in 0..<200 {
            let seed = base &+ UInt64(n)
            if let failure = try run(seed: seed, steps: 150) {
                return XCTFail("seed \(seed) (rerun with BERTH_STORM_SEED=\(seed)): \(failure)")
            }
        }
        // The storms must have reached every path they are about, or the counts above prove little.
        if ProcessInfo.processInfo.environment["BERTH_STORM_PRINT"] != nil { print("storm totals \(totals)") }
        XCTAssertGreaterThan(totals.requests, 1_000, "\(totals)")
        XCTAssertGreaterThan(totals.reused, 50, "\(totals)")
        XCTAssertGreaterThan(totals.refused, 200, "\(totals)")
        XCTAssertGreaterThan(totals.retries, 10, "\(totals)")
    }

    /// What the storms did, summed over their pools.
    private var totals = (requests: UInt64(0), reused: UInt64(0), refused: UInt64(0), retries: UInt64(0))

    private func run(seed: UInt64, steps: Int) throws -> String? {
        var s = Storm(e: try EmbeddedSession { c in
            c.destinations.append({ var d = DestinationOverride(match: "gone:80"); d.unixSocket = "/nonexistent/berth.sock"; return d }())
            c.limits.maxTotal = 6
        }, rng: SeededRandom(state: seed))
        for step in 0..<steps {
            let event = Event.allCases.randomElement(using: &s.rng)!
            try apply(event, &s)
            // The admin commands are callbacks of their own: what they posted runs after them.
            s.e.loopTurn()
            if let v = violation(s) { return "step \(step) after \(event): \(v)" }
        }
        for c in s.callers { c.close(); c.deliverReadable() }
        s.gone += s.callers
        s.callers.removeAll()
        // What is left in flight ends the way it would on a loop: connects resolve, upstreams answer or time out.
        for c in s.gone { c.deliverConnectOutcome(); c.deliverUpstreamTimeout() }
        if let v = violation(s) { return "after every caller left: \(v)" }
        if let fn = s.e.worker.manager.existingPool(PoolKey(host: "fn", port: 80))?.counters {
            totals.requests += fn[.requests]
            totals.reused += fn[.reused]
            totals.retries += fn[.retries]
        }
        totals.refused += s.e.worker.manager.existingPool(PoolKey(host: "127.0.0.1", port: 9))?.counters.failureCount(.connectRefused) ?? 0
        return nil
    }

    private func request(_ host: String) -> String { "GET http://\(host)/s HTTP/1.1\r\nHost: \(host)\r\n\r\n" }

    private func apply(_ event: Event, _ s: inout Storm) throws {
        let e = s.e
        switch event {
        case .caller, .callerToRefusedPort, .callerToMissingSocket:
            let c = try EmbeddedSession.Caller(of: e)
            let host = event == .caller ? EmbeddedSession.upstream : event == .callerToRefusedPort ? "127.0.0.1:9" : "gone:80"
            c.sends(request(host))
            c.deliverReadable()
            s.callers.append(c)
        case .callerLeaves, .callerSendsAndLeaves:
            guard let i = s.callers.indices.randomElement(using: &s.rng) else { return }
            let c = s.callers.remove(at: i)
            s.gone.append(c)
            if event == .callerSendsAndLeaves { c.sends(request(EmbeddedSession.upstream)) }
            c.close()
            c.deliverReadable()
        case .connectOutcomes:
            for c in s.callers + s.gone { c.deliverConnectOutcome() }
        case .upstreamAnswers:
            e.acceptUpstreams()
            for fd in e.upstreamEnds where fd >= 0 && !EmbeddedSession.readAll(fd).isEmpty {
                EmbeddedSession.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", strict: false)
            }
            for c in s.callers + s.gone { c.deliverUpstreamReadable() }
        case .upstreamCloses:
            e.acceptUpstreams()
            guard let i = e.upstreamEnds.indices.filter({ e.upstreamEnds[$0] >= 0 }).randomElement(using: &s.rng) else { return }
            e.closeUpstreamEnd(i)
            for c in s.callers + s.gone { c.deliverUpstreamReadable() }
        case .upstreamTimesOut:
            s.callers.randomElement(using: &s.rng)?.deliverUpstreamTimeout()
        case .idleServerCloses:
            e.acceptUpstreams()
            for i in e.upstreamEnds.indices where e.upstreamEnds[i] >= 0 && Bool.random(using: &s.rng) { e.closeUpstreamEnd(i) }
            e.idleUpstreamsReadable()
        case .pause:
            _ = e.worker.manager.pause(PoolKey(host: "fn", port: 80), rejectNew: Bool.random(using: &s.rng), hold: nil, now: e.worker.now)
        case .resume:
            _ = e.worker.manager.resume(PoolKey(host: "fn", port: 80), now: e.worker.now)
        case .evict:
            _ = e.worker.manager.evict(nil, idleFor: nil, now: e.worker.now)
        }
    }

    /// What is wrong with the counts now, if anything.
    private func violation(_ s: Storm) -> String? {
        var open = 0
        for key in [PoolKey(host: "fn", port: 80), PoolKey(host: "127.0.0.1", port: 9), PoolKey(host: "gone", port: 80)] {
            guard let p = s.e.worker.manager.existingPool(key)?.state else { continue }
            if p.connecting < 0 || p.busy < 0 || p.open < 0 { return "\(key): connecting \(p.connecting), busy \(p.busy), open \(p.open)" }
            if p.open != p.idle.count + p.busy + p.connecting { return "\(key): open \(p.open) is not idle + busy + connecting" }
            open += p.open
        }
        let total = s.e.worker.manager.totalOpen
        if total != open { return "the worker counts \(total) open, its pools \(open)" }
        if total > 6 { return "\(total) open over --max-total 6" }
        let all = s.callers + s.gone
        let connecting = all.filter { $0.session.machine.state.holdsConnectSlot }.count
        let busy = all.filter { $0.session.machine.state.connection != nil }.count
        let pools = [PoolKey(host: "fn", port: 80), PoolKey(host: "127.0.0.1", port: 9), PoolKey(host: "gone", port: 80)]
            .compactMap { s.e.worker.manager.existingPool($0)?.state }
        if connecting != pools.map(\.connecting).reduce(0, +) { return "sessions hold \(connecting) connect slots" }
        if busy != pools.map(\.busy).reduce(0, +) { return "sessions hold \(busy) leases" }
        return nil
    }
}
