// Accepts caller connections on a listening socket (TCP or Unix) and hands each to its worker.
import Glibc
internal import CLibevent

/// A listening socket on a worker's loop.
package final class Listener: EventHandler {
    package let fd: CInt
    package let address: SocketAddress
    private var event: LoopEvent!
    private let onAccept: (CInt) -> Void
    private var pauseTimer: LoopEvent!
    /// Accepts per readable event. Alone on its socket, 64: enough to empty a burst, few enough not to starve
    /// established connections. On a socket every worker accepts from, 1, as nginx does with `multi_accept off`:
    /// each wake-up takes one caller, so a burst spreads over the loops that are awake instead of going to the first.
    private let acceptBatch: Int
    /// The socket file of a Unix listener that bound it, removed at close; nil for TCP and for a sharing listener.
    private let file: UnixSocketFile?
    /// A descriptor held in reserve (/dev/null) when `keepsSpare`: out of descriptors, the listener gives it up to
    /// accept one connection, so the admin API answers when callers have taken every other one. -1 while given up.
    private var spare: CInt = -1
    private let keepsSpare: Bool
    /// Out of descriptors with the reserve given up: the owner may close a connection of its own that is not working
    /// (the admin's quietest one) to make room; true when it did, and the descriptor it freed came back as the reserve
    /// (`takeSpare`, from the owner's close), which then goes to the waiting connection.
    package var makeRoom: (() -> Bool)?

    /// Binds and listens; the callback receives each accepted non-blocking fd. A Unix socket address gets its file
    /// `permissions`; `shared` says other workers will accept from this socket too (`init(base:sharing:)`).
    /// `keepsSpare` holds a descriptor in reserve for when the process runs out (the admin listener).
    package init(base: EventBase, address: SocketAddress, reusePort: Bool, permissions: UnixSocketPermissions? = nil,
                 shared: Bool = false, keepsSpare: Bool = false, onAccept: @escaping (CInt) -> Void) throws {
        if address.family == .unix {
            let (fd, file) = try UnixSocketFile.listen(address, permissions: permissions ?? UnixSocketPermissions(mode: 0o600))
            self.fd = fd
            self.file = file
            self.address = address
        } else {
            fd = try Socket.listen(address, reusePort: reusePort)
            file = nil
            self.address = Socket.localAddress(fd) ?? address
        }
        acceptBatch = shared ? 1 : 64
        self.keepsSpare = keepsSpare
        self.onAccept = onAccept
        start(base)
    }

    /// Accepts from `other`'s socket on this loop too, through a descriptor of its own (a dup), so each loop adds,
    /// removes and closes only its own. The kernel wakes every loop waiting on the socket; the first to call accept
    /// gets the caller, so a busy loop, slower to wake, takes fewer. The file stays `other`'s to remove.
    package init(base: EventBase, sharing other: Listener, onAccept: @escaping (CInt) -> Void) throws {
        let copy = fcntl(other.fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw SocketError(call: "dup \(other.address)", errno: errno) }
        fd = copy
        file = nil
        address = other.address
        acceptBatch = 1
        keepsSpare = false
        self.onAccept = onAccept
        start(base)
    }

    private func start(_ base: EventBase) {
        event = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .accept)
        pauseTimer = LoopEvent(timerOn: base, handler: self, tag: .timer)
        event.add()
        takeSpare()
    }

    /// Takes the reserve descriptor back when it was given up (and the process has one free again). The owner calls
    /// it as each of its connections closes, before a caller can take the descriptor just freed.
    package func takeSpare() {
        guard keepsSpare, spare < 0 else { return }
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    package func handleEvent(_ tag: EventTag, what: Int16) {
        if tag == .timer {
            event.add()
            return
        }
        takeSpare()
        for _ in 0..<acceptBatch {
            do {
                guard let conn = try Socket.accept(fd) else { return }
                onAccept(conn)
            } catch let e as SocketError where e.errno == EMFILE || e.errno == ENFILE || e.errno == ENOBUFS || e.errno == ENOMEM {
                // A keep-alive connection that took the reserve and went quiet (a monitor's probe) would otherwise keep
                // the orchestrator's command in the backlog for that connection's idle timeout (adv4).
                if spare < 0, let makeRoom, makeRoom() { takeSpare() }
                if spare >= 0 {
                    // The reserve goes to this connection; it is taken back at a later accept, once one is free.
                    Glibc.close(spare)
                    spare = -1
                    if let conn = try? Socket.accept(fd) { onAccept(conn) }
                    return
                }
                // Out of descriptors: stop accepting for a moment instead of spinning on a readable listener (as
                // nginx disables accept events for a while on EMFILE).
                event.remove()
                pauseTimer.add(after: 100_000_000)
                return
            } catch {
                return
            }
        }
    }

    /// Stops accepting, closes the socket and removes the socket file this listener created.
    package func close() {
        event.free()
        pauseTimer.free()
        Glibc.close(fd)
        if spare >= 0 { Glibc.close(spare) }
        file?.remove()
    }
}
