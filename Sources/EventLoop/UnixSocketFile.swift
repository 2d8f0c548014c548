// A Unix listener's socket file: a crashed run's stale file replaced, a live one refused, permissions set before any connect can succeed, removed at close.
import Glibc

/// The mode and owner a Unix listener's socket file gets. Connecting needs write permission on the file, so the mode
/// is the access control: 0600 lets only berth's own user in, 0660 its group too.
package struct UnixSocketPermissions: Sendable, Hashable {
    /// Permission bits, at most 0777.
    package var mode: UInt32
    /// chown(2) targets; nil leaves berth's own user or group (or the directory's set-group-ID group).
    package var uid: UInt32?
    package var gid: UInt32?

    /// `mode`, and the owner and group when given.
    package init(mode: UInt32, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}

/// The file a Unix listener bound. Only this file is ever removed: if the path was taken over meanwhile (another
/// berth replaced it after this one stopped listening), the other one's file stays.
package struct UnixSocketFile: Sendable {
    package let path: String
    /// What tells this file from a later one at the same path: device and inode, and the change time, since a file
    /// system may give a new file the inode number of one just removed (overlayfs and tmpfs do).
    private let identity: Identity

    private struct Identity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var changed: Int
        var changedNanos: Int

        /// The identity of whatever is at `path` now; nil when nothing is.
        init?(of path: String) {
            var st = stat()
            guard lstat(path, &st) == 0 else { return nil }
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            changed = Int(st.st_ctim.tv_sec)
            changedNanos = Int(st.st_ctim.tv_nsec)
        }
    }

    /// A non-blocking socket listening at `address`, and its file. A socket file nobody listens on (left by a run
    /// that crashed) is replaced; anything else at the path is refused with what to do about it. The mode and owner
    /// are set between bind and listen: until listen, a connect is refused, so no one gets in under the umask's mode.
    package static func listen(_ address: SocketAddress, permissions: UnixSocketPermissions, backlog: Int32 = 4096) throws -> (fd: CInt, file: UnixSocketFile) {
        precondition(address.family == .unix, "UnixSocketFile.listen takes a Unix socket address")
        let path = address.path
        let call = "listen \(address)"
        try clearStale(address, call: call)
        let fd = try Socket.streamSocket(AF_UNIX)
        if address.withSockAddr({ bind(fd, $0, $1) }) != 0 {
            let e = errno
            close(fd)
            throw SocketError(call: call, errno: e, explanation: bindProblem(path, errno: e))
        }
        do {
            try apply(permissions, to: path, call: call)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        // Read after chmod and chown, which change the change time.
        guard let identity = Identity(of: path) else {
            let e = errno
            close(fd)
            throw SocketError(call: call, errno: e, explanation: "the socket file vanished right after bind (\(String(cString: strerror(e))))")
        }
        let file = UnixSocketFile(path: path, identity: identity)
        do {
            try Socket.startListening(fd, address, backlog: backlog)
        } catch {
            file.remove()
            throw error
        }
        return (fd, file)
    }

    /// Removes the file if it is still the one this listener bound.
    package func remove() {
        guard Identity(of: path) == identity else { return }
        unlink(path)
    }

    /// Sets the mode, then the owner; chown may clear no bits on a socket, so the order does not matter for safety.
    private static func apply(_ permissions: UnixSocketPermissions, to path: String, call: String) throws {
        if chmod(path, mode_t(permissions.mode)) != 0 {
            let e = errno
            throw SocketError(call: call, errno: e, explanation: "cannot set the socket's mode to \(Self.octal(permissions.mode)): \(String(cString: strerror(e)))")
        }
        guard permissions.uid != nil || permissions.gid != nil else { return }
        // (uid_t)-1 and (gid_t)-1 leave that half unchanged.
        if chown(path, permissions.uid ?? UInt32.max, permissions.gid ?? UInt32.max) != 0 {
            let e = errno
            let wanted = "\(permissions.uid.map(String.init) ?? ""):\(permissions.gid.map(String.init) ?? "")"
            let hint = e == EPERM ? " (another owner needs root or CAP_CHOWN; another group must be one of berth's groups, uid \(getuid()))" : ""
            throw SocketError(call: call, errno: e, explanation: "cannot give the socket to \(wanted): \(String(cString: strerror(e)))\(hint)")
        }
    }

    /// Makes the path free to bind: nothing there, or a socket no one listens on, which is removed.
    private static func clearStale(_ address: SocketAddress, call: String) throws {
        let path = address.path
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw SocketError(call: call, errno: EEXIST, explanation: "\(path) exists and is not a socket; berth replaces only a stale socket file, so remove it or choose another path")
        }
        switch probe(address) {
        case 0, EAGAIN:
            // EAGAIN: the backlog is full, which only a live listener has.
            throw SocketError(call: call, errno: EADDRINUSE, explanation: "another process is listening on \(path) (is another berth running?); stop it or choose another path")
        case ECONNREFUSED:
            guard unlink(path) == 0 || errno == ENOENT else {
                let e = errno
                throw SocketError(call: call, errno: e, explanation: "cannot remove the stale socket file \(path): \(String(cString: strerror(e)))")
            }
        case let e:
            throw SocketError(call: call, errno: e, explanation: "cannot tell whether \(path) is in use (connecting to it: \(String(cString: strerror(e))))")
        }
    }

    /// The errno of a non-blocking connect to `address`, 0 when it connected.
    private static func probe(_ address: SocketAddress) -> Int32 {
        guard let fd = try? Socket.streamSocket(AF_UNIX) else { return errno }
        defer { close(fd) }
        return address.withSockAddr { Glibc.connect(fd, $0, $1) } == 0 ? 0 : errno
    }

    /// What a failed bind means for the user.
    private static func bindProblem(_ path: String, errno e: Int32) -> String {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        switch e {
        case ENOENT: return "the directory \(directory) does not exist; create it (or mount the shared volume there) first"
        case EACCES: return "berth (uid \(getuid())) may not create files in \(directory) (permission denied)"
        case EROFS: return "\(directory) is on a read-only file system"
        case ENOTDIR: return "a part of \(directory) is not a directory"
        case EADDRINUSE: return "another process bound \(path) while berth was starting; choose another path"
        default: return String(cString: strerror(e))
        }
    }

    /// `0660` for 0o660, as the mode settings are written.
    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
