// A failed system call's errno, with the sentence the system gives for it: what the loop's own files and sockets throw.
import Glibc

/// Why a system call failed: its errno and `strerror`'s sentence.
package struct SystemFailure: Error, Sendable {
    package let errno: Int32
    /// `strerror(errno)`.
    package var reason: String { String(cString: strerror(errno)) }
}
