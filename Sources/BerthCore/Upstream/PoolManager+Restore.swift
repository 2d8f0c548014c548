// What a VM restore does to one worker's pools: every epoch moves on, every idle connection closes, TLS sessions go.
import EventLoop

extension PoolManager {
    /// The VM was started from a snapshot (VMRestoreWatch): no pooled connection can be trusted, since its peer's TCP
    /// state moved on while the snapshot slept. Every pool, paused or not, moves to a new epoch: idle connections
    /// close now (`stale-epoch`, with a reset), busy and connecting ones close when they come back, and the next
    /// request of each upstream goes out on a fresh connection, with a full TLS handshake (the session the snapshot
    /// held is every clone's). Returns how many idle connections closed.
    func vmRestored(now: Nanos) -> Int {
        var closed = 0
        for pool in pools.values {
            closed += moveEpoch(pool)
            pool.tls?.forgetSession()
        }
        noRoomUntil = 0
        return closed
    }
}
