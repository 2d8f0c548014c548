// What one worker tells the others on their own loops: a generation it saw, the counts of a share it forgot.
import EventLoop

extension BerthServer {
    /// With several workers, a new generation one of them saw is told to the others on their own loops (the later
    /// stamp wins everywhere, `Generations.heard`). Only a change posts; a request that names the current one does not.
    static func shareGenerations(_ all: [Worker]) {
        guard all.count > 1 else { return }
        for w in all {
            let others = all.filter { $0 !== w }.map(WorkerRef.init)
            w.manager.generationAnnounced = { endpoint, token, stamp in
                for o in others {
                    let peer = o.worker
                    peer.waker.post { peer.manager.generationHeard(token, stamp: stamp, at: endpoint, now: MonotonicClock.now()) }
                }
            }
        }
    }
}

extension BerthServer {
    /// With several workers, the counts of an upstream's share one of them forgot are offered to the others on their
    /// own loops; the first that still knows the upstream takes them (`PoolManager.takeShare`), so the upstream's
    /// counters do not go down while it is served (adv11).
    static func shareForgottenShares(_ all: [Worker]) {
        guard all.count > 1 else { return }
        for w in all {
            let others = all.filter { $0 !== w }.map(WorkerRef.init)
            w.manager.shareForgotten = { key, counts in
                let claim = ShareClaim()
                for o in others {
                    let peer = o.worker
                    peer.waker.post { peer.manager.takeShare(key, counts, claim: claim) }
                }
            }
        }
    }
}

/// A worker another worker's closure refers to: the server owns every worker for the process's life, so the
/// reference is not counted (a counted one would make a cycle through the managers).
struct WorkerRef {
    unowned let worker: Worker
}
