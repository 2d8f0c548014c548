// The channel's one timer firing: an early wake-up, a deadline passed, or one that passed while the loop overslept.
import Glibc
internal import CLibevent

extension Channel {
    /// How long a timeout that found the loop late is put off: past the events it made active, which run in this pass,
    /// and past the loop's next poll.
    static let overdueSlack: Nanos = 1_000_000
    /// A timer firing this long after its deadline found the loop late: other sockets may hold what the deadline
    /// waits for (the answer that frees the connection a queued request waits for).
    static let oversleep: Nanos = 20_000_000

    /// The timer fired: a real timeout, or an early wake-up for a deadline that has moved. A loop that overslept (berth
    /// frozen with its pod's cgroup, stopped, or its VM paused) comes back with its timers passed and no poll done:
    /// epoll_wait returns EINTR at the thaw, so libevent runs the timers before it polls again, and the answer or the
    /// connect that arrived meanwhile was cut as silence (504 read-timeout with the whole answer in the socket). So a
    /// deadline that passes while the socket already holds what the channel waits for is put off once, by
    /// `overdueSlack`, and the waiting events run first; so is one that fires `oversleep` late, whatever this socket
    /// holds, so that the loop polls every socket before it: what this deadline waits for may come through another
    /// (a connection freed for a queued request, a tunnel's other side). An owner that takes what came as progress
    /// sets its deadline anew, one that does not gets the timeout then. One poll(2), only when a deadline passes.
    func timerFired() {
        let due = deadline.wanted, fired = MonotonicClock.now()
        switch deadline.fired(now: fired) {
        case .ignore:
            break
        case .rearm(let after):
            timerEvent.add(after: after)
        case .timedOut:
            if due != putOffTo, tookOverdueReadiness() || fired - due > Self.oversleep {
                let now = MonotonicClock.now()
                putOffTo = now + Self.overdueSlack
                setTimeout(Self.overdueSlack, now: now)
                return
            }
            guard let owner = delegate else { return }
            owner.channelTimedOut(self)
        }
    }

    /// Whether the socket is ready for what the channel's registered events wait for (readable, or writable for a
    /// connect or held-back output; an error or the peer's end counts, as epoll would report it): those events are
    /// then made active, to run in this loop pass.
    private func tookOverdueReadiness() -> Bool {
        guard !closed else { return false }
        let read = readEvent.waitsForReadiness, write = writeEvent.waitsForReadiness
        guard read || write else { return false }
        var p = pollfd(fd: fd, events: Int16((read ? POLLIN : 0) | (write ? POLLOUT : 0)), revents: 0)
        guard poll(&p, 1, 0) == 1 else { return false }
        let failed = p.revents & Int16(POLLERR | POLLHUP) != 0
        var took = false
        if read, failed || p.revents & Int16(POLLIN) != 0 {
            readEvent.activate()
            took = true
        }
        if write, failed || p.revents & Int16(POLLOUT) != 0 {
            writeEvent.activate()
            took = true
        }
        return took
    }
}
