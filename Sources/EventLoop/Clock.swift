// Monotonic time in nanoseconds: the one clock the shell reads and hands to the pure state machines.
import Glibc

/// Nanoseconds on the monotonic clock; state machines take these as inputs so tests can pass any value.
package typealias Nanos = Int64

/// Reads CLOCK_MONOTONIC.
package enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary fixed point.
    @inline(__always)
    package static func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Nanos(ts.tv_sec) &* 1_000_000_000 &+ Nanos(ts.tv_nsec)
    }
}

/// Reads CLOCK_THREAD_CPUTIME_ID: CPU time the calling thread has used. Beside the monotonic clock around the same
/// work it tells the thread's own work from time it lost to other threads and processes. A system call, not the
/// vDSO, so it is for admin work, never the data path.
package enum ThreadCPUClock {
    /// CPU time this thread has used, in nanoseconds.
    package static func now() -> Nanos {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Nanos(ts.tv_sec) &* 1_000_000_000 &+ Nanos(ts.tv_nsec)
    }
}
