// The bound on bytes held in unfinished request heads (--head-memory): who gives way when the worker's share is spent.
import EventLoop
import Logging

extension Worker {
    /// Size classes of unfinished heads: class k holds heads of 2^(k-1) to 2^k - 1 bytes; the last takes all larger
    /// (a head is at most the 64 KiB head limit plus one read, class 17 or 18).
    static let headClasses = 24

    /// The size class of a head holding `held` bytes (its bit length).
    @inline(__always)
    static func headClass(_ held: Int) -> Int { min(Int.bitWidth - held.leadingZeroBitCount, headClasses - 1) }

    /// `s` read more of an unfinished head: it moves to the list of its size class when it crossed into another.
    /// Only on a partial read (a head that comes whole never gets here), O(1).
    @inline(__always)
    func headGrew(_ s: ProxySession) {
        let k = Self.headClass(s.headHeld)
        guard k != s.links.headClass || !s.links.head.linked else { return }
        heldHeads[s.links.headClass].remove(s)
        s.links.headClass = k
        heldHeads[k].append(s)
    }

    /// The worker's unfinished heads hold more than its share of --head-memory: a session holding the most (within a
    /// factor of two: the largest size class, the one that reached it first) is answered 431 `head-memory` and closed,
    /// until the total fits again, as nginx bounds each connection's large header buffers and HAProxy each one's
    /// buffer, but in total. A session past its head (a body, a response, a tunnel) holds none and is never picked.
    /// Off the hot path: it runs only past the budget, and picks from the size classes, never scanning the sessions
    /// (a scan per read past the budget stalled the loop for 0.2-0.3 s at 12,000 partial heads); each victim frees
    /// at least half the largest held, and a few victims end the look.
    func shedHeadMemory() {
        var victims = 0
        while headBytes > settings.headMemory && victims < 4 {
            guard let s = largestHead() else { return }
            logger.debug("answered the largest unfinished head at head-memory",
                         metadata: ["held": "\(s.headHeld)", "total": "\(headBytes)"])
            s.answerHeadMemory()
            victims += 1
        }
    }

    /// The first session of the largest size class that has one.
    private func largestHead() -> ProxySession? {
        var k = Self.headClasses - 1
        while k > 0 {
            if let s = heldHeads[k].first { return s }
            k -= 1
        }
        return nil
    }
}

extension ProxySession {
    /// Gives this session's unfinished head bytes back to the worker's total (the head completed, was refused, or
    /// the session ended).
    @inline(__always)
    func releaseHeadBytes() {
        worker.headBytes &-= headHeld
        headHeld = 0
        worker.heldHeads[links.headClass].remove(self)
    }

    /// Chosen by `Worker.shedHeadMemory`: the head's bytes are dropped and the caller answered and closed, lingering
    /// as berth's other answers to a head do.
    func answerHeadMemory() {
        caller.discardInput()
        let held = headHeld
        answer(.headMemory, detail: "request head not finished while berth held the most unfinished head bytes "
                   + "(\(held) bytes; head-memory)", closeAfter: true)
        // Whatever path the answer took, the session is out of the lists: a pick never finds it again.
        if headHeld != 0 { releaseHeadBytes() }
    }
}
