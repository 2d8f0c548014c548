// Reading the files a configuration names without ever blocking: opened non-blocking, regular files only, and the
// admin token refused when someone else may read or change it.
import Foundation

extension ConfigurationLoader {
    /// Reads a configuration, CA, certificate or key file from disk; failures carry the system's reason (strerror).
    /// A reload reads them on an event loop, so a FIFO (whose open or read waits for a writer), a device or a
    /// directory is refused at once instead of hanging it.
    public static let readFromDisk: FileReader = { path in try readRegularFile(path, check: { _ in }) }

    /// `readFromDisk` for the admin token file, which must also pass `SecretFilePermissions`.
    public static let readSecretFromDisk: FileReader = { path in
        try readRegularFile(path) { info in
            if let problem = SecretFilePermissions.problem(mode: UInt32(info.st_mode), owner: info.st_uid, user: geteuid()) {
                throw UnsafeSecretFile(reason: problem)
            }
        }
    }

    /// The largest file berth reads whole (4 MiB): a configuration, token, CA bundle or key is a few KiB (the Mozilla
    /// CA bundle about 220 KiB), and a reload reads on an event loop, so a 10 GB sparse file or a `/proc` file that
    /// keeps growing is refused after this much instead of holding the loop and taking gigabytes.
    static let maxFileBytes = 4 << 20

    /// The text of the regular file at `path`, after `check` accepted its fstat (the same open file that is read:
    /// no window between the check and the read).
    static func readRegularFile(_ path: String, limit: Int = maxFileBytes, check: (stat) throws -> Void) throws -> String {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadFailure(reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileReadFailure(reason: String(cString: strerror(errno))) }
        if let kind = FileKind.notRegular(UInt32(info.st_mode)) {
            throw FileReadFailure(reason: "not a regular file (\(kind))")
        }
        try check(info)
        let tooLarge = FileReadFailure(reason: "larger than \(limit >> 20) MiB, more than any configuration, token or TLS file")
        if Int(info.st_size) > limit { throw tooLarge }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileReadFailure(reason: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            // st_size is 0 for most /proc and sysfs files, and a file may grow while it is read.
            guard bytes.count + count <= limit else { throw tooLarge }
            bytes += chunk[..<count]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw FileReadFailure(reason: "not UTF-8 text") }
        return text
    }
}

/// What a file that is not a regular one is, for the error that refuses it.
enum FileKind {
    /// nil for a regular file; otherwise its kind in a few words.
    static func notRegular(_ mode: UInt32) -> String? {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFREG): return nil
        case UInt32(S_IFIFO): return "a FIFO"
        case UInt32(S_IFCHR): return "a character device"
        case UInt32(S_IFBLK): return "a block device"
        case UInt32(S_IFDIR): return "a directory"
        case UInt32(S_IFSOCK): return "a socket"
        default: return "not a file"
        }
    }
}

/// Who may read or change the admin token file, checked as PostgreSQL checks its server key (ssh's rule for keys,
/// plus the one exception a secret mount needs): owned by berth's own user, no permission for group or others
/// (0600, 0400); or owned by root, read permission for the group at most (0640, 0440: a Kubernetes Secret with
/// fsGroup). Anything else lets another user read the token, or change it to one they know.
enum SecretFilePermissions {
    /// Why a token file with `mode` owned by `owner` is refused when berth runs as `user`; nil when it is accepted.
    static func problem(mode: UInt32, owner: uid_t, user: uid_t) -> String? {
        let bits = mode & 0o7777
        let octal = "0" + String(bits, radix: 8)
        if owner == 0 {
            guard bits & 0o037 != 0 else { return nil }
            return "has mode \(octal): writable by its group or open to others; the token must be readable by nobody "
                + "else: chmod 0600 (or 0640, read by the group, as root owns it)"
        }
        guard owner == user else {
            return "is owned by uid \(owner), neither berth's user (uid \(user)) nor root, who alone may hold the token: "
                + "chown it to uid \(user) (mode 0600) or to root (mode 0640 or stricter)"
        }
        guard bits & 0o077 != 0 else { return nil }
        return "has mode \(octal): readable or writable by its group or others; the token must be readable by "
            + "nobody else: chmod 0600 (or 0400)"
    }
}

/// Why a file could not be read, in a few words.
struct FileReadFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A token file others may read or change: refused with the whole sentence (not "cannot read").
struct UnsafeSecretFile: Error {
    var reason: String
}
