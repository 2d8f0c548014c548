// The process's one VM restore watch: made on worker 0's loop, each restore fanned out to every worker's pools.
import Logging
import EventLoop

extension BerthServer {
    /// Starts or stops the watch as `vm-restore-watch` says (at start and after each reload), on worker 0's loop.
    /// Starting logs one line: the sources watched, or that there are none, so an operator knows whether a
    /// snapshot restore is covered here or needs the orchestrator's `berth ctl evict`.
    func applyRestoreWatch(places: VMRestoreWatch.Places = .system) {
        guard configuration.vmRestoreWatch else {
            restoreWatch?.close()
            restoreWatch = nil
            return
        }
        guard restoreWatch == nil, let home = workers.first else { return }
        let watch = VMRestoreWatch(base: home.base, places: places, moveNow: { [unowned self] in self.movePools() }) { [unowned self] cause in
            self.vmRestored(cause)
        }
        for problem in watch.problems { logger.warning("VM restore watch: source not opened", metadata: ["problem": "\(problem)"]) }
        if watch.sources.isEmpty {
            watch.close()
            logger.info("VM restore watch: no VM generation source here (no vmgenid device, no /dev/vmclock0); use `berth ctl evict` after a restore")
            return
        }
        logger.info("VM restore watch", metadata: ["sources": "\(watch.sources.joined(separator: ","))"])
        restoreWatch = watch
    }

    /// The watch heard a restore (on worker 0's loop): counted once here, then every worker moves its pools on, on its
    /// own thread, as a command from the admin does.
    private func vmRestored(_ cause: VMRestoreWatch.Cause) {
        guard let home = workers.first else { return }
        home.counters[.vmRestores] &+= 1
        logger.notice("VM restored: dropping every pooled connection", metadata: ["signal": "\(cause.rawValue)"])
        if restoreWatch?.reseedFailed == true {
            logger.warning("VM restored: OpenSSL's random generator could not be reseeded; it reseeds within 7 minutes on its own")
        }
        movePools()
    }

    /// Every worker moves its pools to a new epoch, closes their idle connections and forgets its cached DNS answers
    /// (their ages skipped the snapshot's sleep), on its own thread.
    private func movePools() {
        guard let home = workers.first else { return }
        for w in workers {
            let job = {
                w.resolver.dns.forgetAnswers()
                _ = w.manager.vmRestored(now: MonotonicClock.now())
            }
            if w === home { job() } else { w.waker.post(job) }
        }
    }
}
