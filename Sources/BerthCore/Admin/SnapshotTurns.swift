// One full snapshot of the pools at a time (/stats, /metrics): the answers that copy every upstream take turns.
import EventLoop

/// Lets one snapshot of every pool (/stats, /metrics) be taken, merged and rendered at a time; the others wait, in
/// the order they came. Each holds a copy of every upstream's counters (~12 MiB at 10,000 upstreams) until its body
/// is rendered: 16 admin clients asking at once held 16 copies, ~200 MiB, whether or not they read their answers
/// (a scraper retrying, a few dashboards). Taking turns holds one copy; each client then keeps only its own answer,
/// which the connection stops at the high-water mark. Touched only on the admin's thread.
final class SnapshotTurns {
    private unowned let admin: AdminServer
    private var current: SnapshotTurn?
    private var waiting: [(life: AdminConnectionLife, start: (SnapshotTurn) -> Void)] = []
    private var head = 0
    /// When the current turn began: one held past `stuck` (a worker whose reply never comes, at a shutdown) is
    /// passed over by the next request, so one lost reply cannot stall every later /stats and /metrics.
    private var since: Nanos = 0
    /// How long a turn may hold the others back before a new request passes it over.
    static let stuck: Nanos = 30_000_000_000

    init(admin: AdminServer) { self.admin = admin }

    /// Runs `start` now if no snapshot is under way, else once those before it have ended. Its turn ends with
    /// `SnapshotTurn.end`, or with the body `SnapshotTurn.holding` wraps. A connection closed while it waited is
    /// skipped: nobody is left to answer.
    func take(life: AdminConnectionLife, _ start: @escaping (SnapshotTurn) -> Void) {
        if let stale = current, MonotonicClock.now() - since > Self.stuck { ended(stale) }
        guard current == nil else { return waiting.append((life, start)) }
        let turn = SnapshotTurn(self)
        current = turn
        since = MonotonicClock.now()
        start(turn)
    }

    /// `turn` is over: the next waiting one starts on a later loop turn (never inside the end of this one, which may
    /// be deep in a connection's close).
    fileprivate func ended(_ turn: SnapshotTurn) {
        guard current === turn else { return }
        current = nil
        while head < waiting.count, waiting[head].life.isClosed { head += 1 }
        guard head < waiting.count else {
            waiting.removeAll()
            head = 0
            return
        }
        let next = waiting[head].start
        head += 1
        if head == waiting.count {
            waiting.removeAll()
            head = 0
        }
        let turn = SnapshotTurn(self)
        current = turn
        since = MonotonicClock.now()
        admin.later { next(turn) }
    }
}

/// One snapshot's turn; ends once, whichever way comes first.
final class SnapshotTurn {
    private weak var turns: SnapshotTurns?
    private var over = false

    fileprivate init(_ turns: SnapshotTurns) { self.turns = turns }

    /// The snapshot and what was rendered from it are gone, or handed to the connection as a finished body.
    func end() {
        guard !over else { return }
        over = true
        turns?.ended(self)
    }

    /// `respond`, ending the turn with the answer: at once for a finished one, when its body is rendered (or dropped
    /// by a client that left) for one rendered in slices (/stats).
    func ending(_ respond: @escaping (AdminResponse) -> Void) -> (AdminResponse) -> Void {
        { [self] r in
            guard let body = r.sliced else {
                end()
                return respond(r)
            }
            var held = r
            held.sliced = TurnHoldingBody(body, turn: self)
            respond(held)
        }
    }
}

/// A sliced body whose snapshot turn lasts until it is rendered or dropped. Made and released on the admin's thread.
private final class TurnHoldingBody: SlicedBody {
    private let body: SlicedBody
    private let turn: SnapshotTurn

    init(_ body: SlicedBody, turn: SnapshotTurn) {
        self.body = body
        self.turn = turn
    }

    func step(until deadline: Nanos) -> Bool { body.step(until: deadline) }

    func finish() -> OwnedBytes {
        let bytes = body.finish()
        turn.end()
        return bytes
    }

    deinit { turn.end() }
}
