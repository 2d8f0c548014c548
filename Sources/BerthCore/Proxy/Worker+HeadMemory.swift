// The bound on bytes held in unfinished request heads (--head-memory): who gives way when the worker's share is spent.
import EventLoop
import Logging

extension Worker {
    /// The worker's unfinished heads hold more than its share of --head-memory: the session holding the most (the
    /// oldest among equals, as `closeOldestIdle` picks) is answered 431 `head-memory` and closed, until the total fits
    /// again, as nginx bounds each connection's large header buffers and HAProxy each one's buffer, but in total. A
    /// session past its head (a body, a response, a tunnel) holds none and is never picked. Off the hot path: it runs
    /// only past the budget, and scans; each victim frees at least the average held, and a few victims end the look.
    func shedHeadMemory() {
        var victims = 0
        while headBytes > settings.headMemory && victims < 4 {
            var biggest: ProxySession?
            for s in sessions.values where s.headHeld > 0 {
                guard let b = biggest else { biggest = s; continue }
                if s.headHeld > b.headHeld || (s.headHeld == b.headHeld && s.idleSince < b.idleSince) { biggest = s }
            }
            guard let s = biggest else { return }
            logger.debug("answered the largest unfinished head at head-memory",
                         metadata: ["held": "\(s.headHeld)", "total": "\(headBytes)"])
            s.answerHeadMemory()
            victims += 1
        }
    }
}

extension ProxySession {
    /// Gives this session's unfinished head bytes back to the worker's total (the head completed, was refused, or
    /// the session ended).
    @inline(__always)
    func releaseHeadBytes() {
        worker.headBytes &-= headHeld
        headHeld = 0
    }

    /// Chosen by `Worker.shedHeadMemory`: the head's bytes are dropped and the caller answered and closed, lingering
    /// as berth's other answers to a head do.
    func answerHeadMemory() {
        caller.discardInput()
        let held = headHeld
        answer(.headMemory, detail: "request head not finished while berth held the most unfinished head bytes "
                   + "(\(held) bytes; head-memory)", closeAfter: true)
    }
}
