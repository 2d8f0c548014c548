// Hears file changes through one inotify descriptor, one read event in the loop: no thread, no polling.
import Glibc
internal import CLibevent

/// One worker's inotify descriptor, for the freezer watch: contents of files (a cgroup's `cgroup.events`) and
/// removals of entries from directories (a cgroup's parent, since a removed cgroup's own files never report it).
/// Changes are delivered on the loop's thread, in the order the kernel queued them.
package final class FileWatch: EventHandler {
    /// One registration. The kernel hands out the same one for every path naming the same inode, so two upstreams
    /// watching one cgroup share it: whoever removes it removes it for both (the freezer watcher counts users).
    package struct ID: Hashable, Sendable {
        package let raw: Int32
    }

    /// What the kernel reported.
    package enum Change: Equatable, Sendable {
        /// A watched file was written to (IN_MODIFY): read it again.
        case modified(ID)
        /// The entry `name` left a watched directory (IN_DELETE, IN_MOVED_FROM).
        case removed(ID, name: String)
        /// The kernel ended a registration on its own (its inode went away); it reports nothing more.
        case ended(ID)
        /// The kernel's queue overflowed and changes were dropped: read everything again.
        case overflowed
    }

    /// Why a call failed: the system's errno and sentence.
    package typealias Failure = SystemFailure

    private var fd: CInt
    private var event: LoopEvent?
    private let onChange: (Change) -> Void
    /// Called after the changes of one read were delivered: what the kernel had queued by then is all in.
    private let onBatchEnd: () -> Void
    /// Registrations berth holds. IN_IGNORED for one of them means the kernel ended it; for any other it is the echo
    /// of a `remove`.
    private var live: Set<ID> = []
    /// One read holds at least this many minimal events (16 bytes each); names of removed entries take more.
    private static let readSize = 4096
    /// Reads per wake-up: the event is level-triggered, so anything left brings the loop back on its next turn
    /// instead of holding it here.
    private static let readsPerWake = 16
    /// Kept between wake-ups, so a read allocates nothing.
    private var buffer = [UInt8](repeating: 0, count: readSize)

    /// A descriptor whose changes reach `onChange` on `base`'s thread, each read's followed by `onBatchEnd`.
    package init(base: EventBase, onChange: @escaping (Change) -> Void, onBatchEnd: @escaping () -> Void = {}) throws(Failure) {
        fd = berth_inotify_init()
        guard fd >= 0 else { throw Failure(errno: berth_errno()) }
        self.onChange = onChange
        self.onBatchEnd = onBatchEnd
        let e = LoopEvent(base: base, fd: fd, flags: Int16(EV_READ | EV_PERSIST), handler: self, tag: .read)
        e.add()
        event = e
    }

    /// Reports writes to the file at `path`.
    package func watchContents(of path: String) throws(Failure) -> ID {
        try add(path, mask: UInt32(IN_MODIFY))
    }

    /// Reports entries removed from the directory at `path`.
    package func watchRemovals(in path: String) throws(Failure) -> ID {
        try add(path, mask: UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_ONLYDIR))
    }

    /// Registers `path` for the events in `mask`.
    private func add(_ path: String, mask: UInt32) throws(Failure) -> ID {
        // IN_MASK_ADD: a second registration on the same inode widens the mask instead of replacing it.
        let wd = inotify_add_watch(fd, path, mask | UInt32(IN_MASK_ADD))
        guard wd >= 0 else { throw Failure(errno: berth_errno()) }
        let id = ID(raw: wd)
        live.insert(id)
        return id
    }

    /// Ends a registration; nothing more is reported for it.
    package func remove(_ id: ID) {
        guard live.remove(id) != nil else { return }
        _ = inotify_rm_watch(fd, id.raw)
    }

    /// Stops watching and closes the descriptor; a second call does nothing.
    package func close() {
        event?.free()
        event = nil
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        live.removeAll()
    }

    /// The descriptor is readable: decode what the kernel queued and report it.
    package func handleEvent(_ tag: EventTag, what: Int16) {
        for _ in 0..<Self.readsPerWake {
            guard fd >= 0 else { return }
            let descriptor = fd
            let n = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            // Decode the whole read before reporting: a handler may close this watch.
            for change in decode(buffer, count: n) {
                guard fd >= 0 else { return }
                onChange(change)
            }
            guard fd >= 0 else { return }
            onBatchEnd()
        }
    }

    /// The changes in one read: `struct inotify_event` records (wd, mask, cookie, len, then len bytes of name).
    private func decode(_ bytes: [UInt8], count: Int) -> [Change] {
        var out: [Change] = []
        var at = 0
        bytes.withUnsafeBytes { raw in
            while at + 16 <= count {
                let wd = raw.loadUnaligned(fromByteOffset: at, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                let nameBytes = raw[(at + 16)..<min(count, at + 16 + length)].prefix { $0 != 0 }
                at += 16 + length
                let id = ID(raw: wd)
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    out.append(.overflowed)
                } else if mask & UInt32(IN_IGNORED) != 0 {
                    if live.remove(id) != nil { out.append(.ended(id)) }
                } else if !live.contains(id) {
                    continue
                } else if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 {
                    out.append(.removed(id, name: String(decoding: nameBytes, as: UTF8.self)))
                } else if mask & UInt32(IN_MODIFY) != 0 {
                    out.append(.modified(id))
                }
            }
        }
        return out
    }

    deinit {
        assert(event == nil, "FileWatch dropped without close(): its event and descriptor would leak")
    }
}
