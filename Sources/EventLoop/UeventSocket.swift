// Hears the kernel's uevent broadcast (NETLINK_KOBJECT_UEVENT) on a loop: one non-blocking socket, one read event.
import Glibc
internal import CLibevent

/// The kernel's device events, as its uevent broadcast sends them to every listener (udev's own listener among
/// them): every device's, so the reader filters. Messages reach the handler on the loop's thread, one datagram at a
/// time, only those the kernel itself sent.
package final class UeventSocket: EventHandler {
    /// What one read brought.
    package enum Delivery {
        /// One kernel datagram (`ACTION@DEVPATH`, then NUL-separated `KEY=VALUE`s), valid only during the call.
        case message(UnsafeRawBufferPointer)
        /// The socket's queue overran (ENOBUFS): messages were lost, any of them may have mattered.
        case overrun
    }

    /// Why the socket could not be made: the system's errno and sentence.
    package typealias Failure = SystemFailure

    private var fd: CInt
    private var event: LoopEvent?
    private let onDelivery: (Delivery) -> Void
    /// The kernel's uevent buffer is 2 KiB of variables plus the header; a larger datagram is cut, which only a
    /// device berth does not care about could send.
    private static let readSize = 8192
    /// Datagrams per wake-up: the event is level-triggered, so a flood of other devices' events is read a bounded
    /// batch per loop turn, and sessions run between batches.
    private static let readsPerWake = 64
    /// Asked-for queue depth: a burst of a few hundred device events (a container start's veth pairs) fits.
    package static let queueBytes: CInt = 1 << 20
    /// Kept between wake-ups, so a read allocates nothing.
    private var buffer = [UInt8](repeating: 0, count: readSize)

    /// A socket whose kernel messages reach `onDelivery` on `base`'s thread; `queueBytes` is for tests that overrun it.
    package init(base: EventBase, queueBytes: CInt = UeventSocket.queueBytes, onDelivery: @escaping (Delivery) -> Void) throws(Failure) {
        fd = berth_uevent_socket(queueBytes)
        guard fd >= 0 else { throw Failure(errno: berth_errno()) }
        self.onDelivery = onDelivery
        let e = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .read)
        e.add()
        event = e
    }

    /// Stops listening and closes the socket; a second call does nothing.
    package func close() {
        event?.free()
        event = nil
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// The socket is readable: hand over up to `readsPerWake` datagrams.
    package func handleEvent(_ tag: EventTag, what: Int16) {
        for _ in 0..<Self.readsPerWake {
            // A handler may close the socket.
            guard fd >= 0 else { return }
            let descriptor = fd
            var fromKernel: CInt = 0
            let n = buffer.withUnsafeMutableBytes { berth_uevent_recv(descriptor, $0.baseAddress, $0.count, &fromKernel) }
            if n < 0 {
                let e = berth_errno()
                if e == ENOBUFS { onDelivery(.overrun); continue }
                // EAGAIN: drained. EINTR and the rest: the level-triggered event brings the loop back.
                return
            }
            guard fromKernel != 0 else { continue }
            buffer.withUnsafeBytes { onDelivery(.message(UnsafeRawBufferPointer(rebasing: $0[0..<n]))) }
        }
    }

    deinit {
        assert(event == nil, "UeventSocket dropped without close(): its event and descriptor would leak")
    }
}
