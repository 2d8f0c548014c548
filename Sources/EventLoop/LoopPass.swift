// Which pass of its loop a callback runs in, for an owner asking whether the loop has polled a socket since it parked it.

/// The passes of one loop, counted by `EventBase.run`: a pass is one `event_base_loop(EVLOOP_ONCE)`, a poll and the
/// callbacks of the events it found and of those they activated (libevent polls again, without waiting, while any
/// is active, so one pass may hold several polls: a parked connection is then looked at once more than it needed).
/// A pooled connection parked in a pass has not been polled since (`Channel.wentIdleThisPass`). A counter, not the
/// time libevent caches at each poll: that time is read with the coarse clock (one tick, 1 to 4 ms, holds many
/// passes), and the precise one makes libevent 2.1 arm a timerfd before every poll, a system call per pass (rev20).
///
/// Posted work (`PostedEvents`) counts as part of the pass that posted it. It is activated at the urgent priority,
/// and libevent runs it after polling again, first, ahead of the idle reads that poll found: an idle connection's
/// FIN, found by that poll, is still unread when a hand-off delivered there (a caller answered and going on to its
/// pipelined request, an admin command served behind a drain notice) checks the connection out, exactly as in the
/// pass that parked it (reliability 154). Within one `EVLOOP_ONCE` it is the same pass anyway; `heldOver` keeps
/// that true whatever runs the loop.
package final class LoopPass {
    /// Passes run so far.
    private(set) var count = 0
    /// While a posted turn runs: the stamp of the pass that posted it; otherwise `Int.min`.
    var heldOver = Int.min

    /// The pass is over: the loop polls next (`EventBase.run`; a test that is the loop calls it before each event).
    @inline(__always)
    package func ended() { count &+= 1 }

    /// The running pass, to stamp a parked connection with.
    @inline(__always)
    var stamp: Int { count }

    /// Whether `stamp` was taken in the running pass, or in the pass the running posted turn belongs to.
    @inline(__always)
    func isCurrent(_ taken: Int) -> Bool { taken == count || taken == heldOver }
}
