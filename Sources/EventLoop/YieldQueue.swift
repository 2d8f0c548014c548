// Connections that spent their budget of a turn wait here until the loop has polled, then run again: turns, not a hold.

/// The read events to run again once the loop has polled (`Channel.yieldRead`). libevent runs an event activated
/// during a pass in that same pass, before it polls, so a connection that yielded by activating its own read event
/// (its budget of heads or requests spent) came round again and again while it had input, and no other socket was
/// polled: one caller pipelining requests berth answers itself kept every other connection waiting for as long as it
/// kept sending (adv2). A timer due at once fires only after the next poll, behind the events that poll found; its
/// callback activates the yielded channels, which then run in that pass after them.
final class YieldQueue: EventHandler {
    /// Channels yielded since the timer was armed; strong, so one closed meanwhile is still safe to ask (it ignores it),
    /// and one whose yield was cancelled (`Channel.cancelYield`) is skipped. Each at most once (`yieldPending`).
    private var waiting: [Channel] = []
    /// The batch being run: swapped with `waiting`, so a channel yielding again from its turn waits for the next poll.
    private var running: [Channel] = []
    private var timer: LoopEvent?
    private unowned let base: EventBase

    /// An empty queue for `base`; its timer is made at the first yield.
    init(base: EventBase) {
        self.base = base
    }

    /// Runs `channel`'s read event again after the next poll.
    func add(_ channel: Channel) {
        if waiting.isEmpty {
            if timer == nil { timer = LoopEvent(timerOn: base, handler: self, tag: .timer) }
            timer?.add(after: 0)
        }
        waiting.append(channel)
    }

    /// The timer fired, after a poll: the yielded channels read again, in the order they yielded.
    func handleEvent(_ tag: EventTag, what: Int16) {
        swap(&waiting, &running)
        for channel in running where channel.yieldPending {
            channel.yieldPending = false
            channel.scheduleRead()
        }
        running.removeAll(keepingCapacity: true)
    }

    /// Frees the timer (the base is being freed) and lets go of the channels.
    func free() {
        timer?.free()
        timer = nil
        waiting.removeAll()
    }
}
