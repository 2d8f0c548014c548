// A lock over a pthread mutex: the one lock berth takes across threads, so ThreadSanitizer sees what it orders.
import Glibc

/// Guards a value shared between threads. Synchronization's `Mutex` locks with futexes that ThreadSanitizer cannot
/// see, so every access it ordered was reported as a race; a pthread mutex is intercepted, and costs the same
/// uncontended (one atomic exchange each way).
package final class ThreadLock<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    /// A lock around `value`.
    package init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
