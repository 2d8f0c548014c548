// Which pass of its loop a callback runs in, for an owner asking whether the loop has polled a socket since it parked it.

/// The passes of one loop, counted by `EventBase.run`: a pass is one `event_base_loop(EVLOOP_ONCE)`, a poll and the
/// callbacks of the events it found and of those they activated (libevent polls again, without waiting, while any
/// is active, so one pass may hold several polls: a parked connection is then looked at once more than it needed).
/// A pooled connection parked in a pass has not been polled since (`Channel.wentIdleThisPass`). A counter, not the
/// time libevent caches at each poll: that time is read with the coarse clock (one tick, 1 to 4 ms, holds many
/// passes), and the precise one makes libevent 2.1 arm a timerfd before every poll, a system call per pass (rev20).
///
/// Posted work (`PostedEvents`) counts as part of the pass that posted it, as it must: it is activated at the urgent
/// priority, and libevent runs it after polling again, first, ahead of the idle reads that poll found, so an idle
/// connection's FIN found there is still unread when a hand-off (a caller answered and going on to its pipelined
/// request) checks the connection out (reliability 154). An active event keeps `EVLOOP_ONCE` going, so the posted
/// turn runs in the same call, and the count has not moved.
package final class LoopPass {
    /// Passes run so far: a pooled connection stamped with it when parked (`Channel.noteIdle`) was parked in this
    /// pass while it is unchanged.
    private(set) var count = 0

    /// The pass is over: the loop polls next (`EventBase.run`; a test that is the loop calls it before each event).
    @inline(__always)
    package func ended() { count &+= 1 }
}
