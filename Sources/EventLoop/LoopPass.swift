// Which pass of its loop a callback runs in, for an owner asking whether the loop has polled a socket since it parked it.
internal import CLoopPolls

/// The passes of one loop, counted at each poll: libevent's `epoll_wait` is berth's own (CLoopPolls), which adds one
/// to the count of the loop its thread runs (`EventBase.run`) and polls. A pooled connection parked in a pass has not
/// been polled since (`Channel.wentIdleThisPass`). A count of polls, not the time libevent caches at each poll: that
/// time is read with the coarse clock (one tick, 1 to 4 ms, holds many passes), and the precise one makes libevent
/// 2.1 arm a timerfd before every poll, a system call per pass (rev20); and not one `event_base_loop(EVLOOP_ONCE)`
/// per pass, whose entry cost ~290 instructions a pass (h-perf5). Should libevent ever poll through another call,
/// the count stands still and every checkout reads its connection once more: slower, never unsafe.
///
/// Posted work (`PostedEvents`) counts as part of the pass that posted it (`heldOver`), as it must: it is activated
/// at the urgent priority, and libevent runs it after polling again, first, ahead of the idle reads that poll found,
/// so an idle connection's FIN found there is still unread when a hand-off (a caller answered and going on to its
/// pipelined request) checks the connection out (reliability 154).
package final class LoopPass {
    /// Polls so far, where `epoll_wait` counts them: a pooled connection stamped with it when parked
    /// (`Channel.noteIdle`) was parked in this pass while it is unchanged.
    private let polls = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    /// While a posted turn runs: the count of the pass that activated it; otherwise `Int.min`.
    var heldOver = Int.min

    init() { polls.initialize(to: 0) }

    deinit { polls.deallocate() }

    /// Passes so far (`polls`).
    @inline(__always)
    var count: Int { polls.pointee }

    /// The pass is over: the loop polls next (a test that is the loop calls it before each event).
    @inline(__always)
    package func ended() { polls.pointee &+= 1 }

    /// Whether `stamp` was taken in the running pass, or in the pass the running posted turn belongs to.
    @inline(__always)
    func isCurrent(_ stamp: Int) -> Bool { stamp == polls.pointee || stamp == heldOver }

    /// The loop runs on this thread from now on: its polls count here, until `leave`.
    func enter() { berth_count_polls(polls) }

    /// The loop no longer runs on this thread.
    func leave() { berth_count_polls(nil) }
}
