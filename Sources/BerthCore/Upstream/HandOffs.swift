// The connections, connect slots and refusals the pools hand to waiting requests, held until the loop's next turn delivers them.
import EventLoop

/// What a pool hands a request that waited: each is given to its waiter exactly once, or back to the pool.
enum PoolGrant: ~Copyable {
    /// A connection, busy with the waiter's request.
    case lease(UpstreamLease)
    /// A reserved slot: the waiter opens a connection.
    case ticket(ConnectTicket)
    /// Nothing will come (a /pause that rejects new requests).
    case rejected(ErrorCause)
}

/// Grants made and not yet delivered, first made first delivered. A grant is posted where the pool frees what it
/// grants (another session's release, an admin command) and delivered by `PostedEvents` once that callback has
/// returned, so the waiter's send or connect never runs on the releasing session's stack. A waiter that goes away in
/// between takes its grant back out (`take(for:)`) for the pool; nothing else removes one.
final class HandOffs: PostedRunner {
    /// One grant on its way.
    private struct Entry: ~Copyable {
        let waiter: ProxySession
        let grant: PoolGrant
    }

    /// Entries in `head..<tail` of a buffer of `capacity`; moved in once and out once (grants are non-copyable, so
    /// an array cannot hold them).
    private var buffer: UnsafeMutablePointer<Entry>
    private var capacity = 16
    private var head = 0
    private var tail = 0
    private unowned let posted: PostedEvents

    /// An empty list whose deliveries run on `posted`.
    init(posted: PostedEvents) {
        self.posted = posted
        buffer = .allocate(capacity: capacity)
        posted.add(self)
    }

    deinit {
        precondition(head == tail, "\(tail - head) hand-offs were never delivered")
        buffer.deallocate()
    }

    /// Grants waiting for the next turn.
    var count: Int { tail - head }

    /// Whether a grant waits for `waiter`.
    func isPosted(to waiter: ProxySession) -> Bool {
        (head..<tail).contains { buffer[$0].waiter === waiter }
    }

    /// The connections and connect slots on their way (the tests add them to what the sessions hold).
    var inTransit: (leases: Int, tickets: Int) {
        var out = (leases: 0, tickets: 0)
        for i in head..<tail {
            switch buffer[i].grant {
            case .lease: out.leases += 1
            case .ticket: out.tickets += 1
            case .rejected: break
            }
        }
        return out
    }

    /// The waiters of `pool` a connection (true) or a connect slot (false) is on its way to: a pause overtakes them.
    func granted(at pool: Upstream) -> [(waiter: ProxySession, lease: Bool)] {
        var out: [(waiter: ProxySession, lease: Bool)] = []
        for i in head..<tail where buffer[i].waiter.exchange.pool === pool {
            switch buffer[i].grant {
            case .lease: out.append((buffer[i].waiter, true))
            case .ticket: out.append((buffer[i].waiter, false))
            case .rejected: break
            }
        }
        return out
    }

    /// Hands `grant` to `waiter` on the loop's next turn.
    func post(_ grant: consuming PoolGrant, to waiter: ProxySession) {
        if tail == capacity { makeRoom() }
        (buffer + tail).initialize(to: Entry(waiter: waiter, grant: grant))
        tail += 1
        posted.post()
    }

    /// Takes back the grant posted to `waiter`, if one waits (a waiter is granted once per wait).
    func take(for waiter: ProxySession) -> PoolGrant? {
        var i = head
        while i < tail && buffer[i].waiter !== waiter { i += 1 }
        guard i < tail else { return nil }
        let entry = (buffer + i).move()
        (buffer + i).moveInitialize(from: buffer + i + 1, count: tail - i - 1)
        tail -= 1
        if head == tail { (head, tail) = (0, 0) }
        return entry.grant
    }

    func runPosted(budget: Int) {
        var left = budget
        // Deliveries may post more (a waiter whose connect fails at once frees its slot): they run in this loop.
        while left > 0 && head < tail {
            left -= 1
            let entry = (buffer + head).move()
            head += 1
            if head == tail { (head, tail) = (0, 0) }
            let waiter = entry.waiter
            switch consume entry.grant {
            case .lease(let lease): waiter.poolGranted(lease)
            case .ticket(let ticket): waiter.poolMayConnect(ticket)
            case .rejected(let cause): waiter.poolRejected(cause)
            }
        }
    }

    var hasPosted: Bool { head < tail }

    /// Room at the tail: the live entries move to the front, into a larger buffer when more than half full.
    private func makeRoom() {
        let n = tail - head
        if n * 2 > capacity {
            let larger = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
            larger.moveInitialize(from: buffer + head, count: n)
            buffer.deallocate()
            buffer = larger
            capacity *= 2
        } else {
            buffer.moveInitialize(from: buffer + head, count: n)
        }
        (head, tail) = (0, n)
    }
}
