// The `/pause?drain=` waits on the pools: registered by the admin, told on the loop's next turn once nothing is in flight.
import EventLoop

extension PoolManager {
    /// `notice` runs once nothing is in flight on `pool` (busy connections, connects), on a loop turn of its own,
    /// unless `stopAwaitingDrain` takes the returned waiter back first.
    @discardableResult
    func awaitDrain(_ pool: Upstream, _ notice: @escaping () -> Void) -> DrainWaiter {
        if pool.drainWaiters.isEmpty { draining.append(pool) }
        let waiter = DrainWaiter(notice)
        pool.drainWaiters.append(waiter)
        return waiter
    }

    /// Takes back a waiter whose `/pause?drain=` is over (its time ran out, or its admin connection closed); one
    /// already told is not there any more.
    func stopAwaitingDrain(_ pool: Upstream, _ waiter: DrainWaiter) {
        guard let i = pool.drainWaiters.firstIndex(where: { $0 === waiter }) else { return }
        pool.drainWaiters.remove(at: i)
        if pool.drainWaiters.isEmpty { draining.removeAll { $0 === pool } }
    }

    /// Posts the notices waiting for `pool` once nothing is in flight on it (after each release, tunnel end, connect
    /// given back and prewarm, so it sits with them). They run on the loop's next turn (`DrainNotices`), never on
    /// this stack: each answers an admin connection, which then serves the commands pipelined behind it (which may
    /// pause, evict or forget pools) from inside a release, a tunnel's end or another /pause.
    /// Fast path: the empty check is in line at the caller, since it is what every release finds (no waiter), and
    /// reads no pool state; the call it saves cost ~20 instructions per request.
    @inline(__always)
    func notifyDrained(_ pool: Upstream) {
        guard _slowPath(!pool.drainWaiters.isEmpty) else { return }
        postDrained(pool)
    }

    /// `notifyDrained` when `pool` has waiters. Out of line: only while a `/pause?drain=` waits.
    @inline(never)
    private func postDrained(_ pool: Upstream) {
        guard pool.inFlight == 0 else { return }
        drainNotices.post(pool.drainWaiters.map(\.notice))
        pool.drainWaiters.removeAll()
        draining.removeAll { $0 === pool }
    }

    /// `notifyDrained` for the pools at `slot` (a connect given back names its slot only); a forgotten one among them,
    /// whose slot another pool may have taken, has nothing in flight.
    func notifyDrained(at slot: PoolSlot) {
        guard !draining.isEmpty else { return }
        for pool in draining where pool.slot == slot { notifyDrained(pool) }
    }
}

/// One `/pause?drain=`'s wait on one pool (`PoolManager.awaitDrain`), a class so it can be taken back by identity.
final class DrainWaiter {
    let notice: () -> Void
    init(_ notice: @escaping () -> Void) { self.notice = notice }
}
