// Accepts caller connections on a listening socket and hands each to its worker.
import Glibc
internal import CLibevent

/// A listening socket on a worker's loop.
package final class Listener: EventHandler {
    package let fd: CInt
    package let address: SocketAddress
    private var event: LoopEvent!
    private let onAccept: (CInt) -> Void
    private var pauseTimer: LoopEvent!
    /// Accepts per readable event: enough to empty a burst, few enough not to starve established connections.
    private let acceptBatch = 64

    /// Binds and listens; the callback receives each accepted non-blocking fd.
    package init(base: EventBase, address: SocketAddress, reusePort: Bool, onAccept: @escaping (CInt) -> Void) throws {
        fd = try Socket.listen(address, reusePort: reusePort)
        self.address = Socket.localAddress(fd) ?? address
        self.onAccept = onAccept
        event = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .accept)
        pauseTimer = LoopEvent(timerOn: base, handler: self, tag: .timer)
        event.add()
    }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        if tag == .timer {
            event.add()
            return
        }
        for _ in 0..<acceptBatch {
            do {
                guard let conn = try Socket.accept(fd) else { return }
                onAccept(conn)
            } catch let e as SocketError where e.errno == EMFILE || e.errno == ENFILE || e.errno == ENOBUFS || e.errno == ENOMEM {
                // Out of descriptors: stop accepting for a moment instead of spinning on a readable listener.
                event.remove()
                pauseTimer.add(after: 100_000_000)
                return
            } catch {
                return
            }
        }
    }

    /// Stops accepting and closes the socket.
    package func close() {
        event.free()
        pauseTimer.free()
        Glibc.close(fd)
    }
}
