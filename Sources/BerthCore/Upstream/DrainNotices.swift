// The `/pause?drain=` waiters whose pool drained, held until the loop's next turn tells them.
import EventLoop

/// Drain waiters to tell, first drained first told. A pool drains inside a release or a tunnel's end (another
/// session's event, or an admin command taking back a grant); the waiter is an admin connection that answers and then
/// serves the commands pipelined behind it (which pause, evict or forget pools), so it is told by `PostedEvents` once
/// that callback has returned, never on the releasing stack. An admin connection gone meanwhile hears nothing (its
/// handler holds it weakly and a closed one answers nothing).
final class DrainNotices: PostedRunner {
    private var due: [() -> Void] = []
    /// The first of `due` not told yet.
    private var next = 0
    private unowned let posted: PostedEvents

    /// An empty list whose notices run on `posted`.
    init(posted: PostedEvents) {
        self.posted = posted
        posted.add(self)
    }

    /// Notices waiting for the next turn (tests).
    var count: Int { due.count - next }

    /// Tells `waiters` on the loop's next turn, in order.
    func post(_ waiters: [() -> Void]) {
        due += waiters
        posted.post()
    }

    func runPosted(budget: Int) {
        var left = budget
        // A notice may post more (its pipelined commands take grants back, which may drain a pool): they run here too.
        while left > 0 && next < due.count {
            left -= 1
            let notice = due[next]
            next += 1
            notice()
        }
        if next == due.count {
            due.removeAll(keepingCapacity: true)
            next = 0
        }
    }

    var hasPosted: Bool { next < due.count }
}
