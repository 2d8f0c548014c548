// Reads VMClock's VM generation counter from its page, mapped read-only: a memory load per reading, no system call.
import Glibc
internal import CLibevent

/// `/dev/vmclock0`'s shared page (include/uapi/linux/vmclock-abi.h), which the hypervisor rewrites in place; its
/// `vm_generation_counter` changes when the VM is started from a snapshot (not on live migration).
package final class VMClockPage {
    /// Why the page cannot be used: the system's errno and sentence, or 0 when it is not a VMClock page with a
    /// generation counter.
    package struct Failure: Error, Sendable {
        package let errno: Int32
        /// What went wrong, in a sentence.
        package var reason: String { errno == 0 ? "no VM generation counter in the page" : String(cString: strerror(errno)) }
    }

    /// One page: the ABI's structure is 112 bytes and the device maps a whole page.
    private static let length = 4096
    private var page: UnsafeRawPointer?

    /// Maps the page at `path` and checks it carries a generation counter.
    package init(path: String) throws(Failure) {
        guard let p = berth_map_readonly(path, Self.length) else { throw Failure(errno: berth_errno()) }
        page = p
        var first: UInt64 = 0
        if berth_vmclock_generation(p, &first) < 0 {
            berth_unmap(p, Self.length)
            page = nil
            throw Failure(errno: 0)
        }
    }

    /// The counter now, or nil while the hypervisor is mid-update (read again later).
    package func generation() -> UInt64? {
        guard let page else { return nil }
        var value: UInt64 = 0
        return berth_vmclock_generation(page, &value) == 1 ? value : nil
    }

    /// Unmaps the page; a second call does nothing.
    package func close() {
        if let page { berth_unmap(page, Self.length) }
        page = nil
    }

    deinit { close() }
}
