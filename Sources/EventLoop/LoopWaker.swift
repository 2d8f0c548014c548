// Runs work on a loop's thread from any other thread: an eventfd the loop watches, and a locked queue of jobs.
import Glibc
internal import CLibevent

/// Lets other threads hand jobs to one event loop; the only cross-thread entry into a worker.
package final class LoopWaker: EventHandler, @unchecked Sendable {
    private let fd: CInt
    private var event: LoopEvent!
    /// The queued jobs, under a lock ThreadSanitizer sees; the closures themselves only ever run on the loop's thread.
    private let jobs = ThreadLock<[() -> Void]>([])

    package init(base: EventBase) {
        fd = berth_eventfd()
        precondition(fd >= 0, "eventfd failed")
        event = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .wake)
        event.add()
    }

    /// Queues `job` to run on the loop's thread; safe from any thread.
    package func post(_ job: @escaping () -> Void) {
        jobs.withLock { $0.append(job) }
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
        var batch: [() -> Void] = []
        jobs.withLock { swap(&batch, &$0) }
        for job in batch { job() }
    }

    /// Stops watching and closes the eventfd (on the loop's thread, at teardown).
    package func close() {
        event.free()
        Glibc.close(fd)
    }
}
