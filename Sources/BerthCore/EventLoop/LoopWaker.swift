// Runs work on a loop's thread from any other thread: an eventfd the loop watches, and a locked queue of jobs.
import Glibc
internal import CLibevent

/// Lets other threads hand jobs to one event loop; the only cross-thread entry into a worker.
final class LoopWaker: EventHandler, @unchecked Sendable {
    private let fd: CInt
    private var event: LoopEvent!
    private var lock = pthread_mutex_t()
    private var jobs: [() -> Void] = []

    init(base: OpaquePointer) {
        fd = berth_eventfd()
        precondition(fd >= 0, "eventfd failed")
        pthread_mutex_init(&lock, nil)
        event = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .wake)
        event.add()
    }

    /// Queues `job` to run on the loop's thread; safe from any thread.
    func post(_ job: @escaping () -> Void) {
        pthread_mutex_lock(&lock)
        jobs.append(job)
        pthread_mutex_unlock(&lock)
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    func handleEvent(_ tag: EventTag, what: Int16) {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
        pthread_mutex_lock(&lock)
        let batch = jobs
        jobs.removeAll()
        pthread_mutex_unlock(&lock)
        for job in batch { job() }
    }

    /// Stops watching and closes the eventfd (on the loop's thread, at teardown).
    func close() {
        event.free()
        Glibc.close(fd)
        pthread_mutex_destroy(&lock)
    }
}
