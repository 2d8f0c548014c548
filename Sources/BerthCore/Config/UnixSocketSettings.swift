// Unix socket settings: the path rule shared by listeners and upstreams, a socket file's mode, and its owner.
import Glibc

/// What a Unix socket path may be.
enum UnixSocketPath {
    /// `sockaddr_un.sun_path` holds 108 bytes on Linux, the terminating NUL included (EventLoop's
    /// `SocketAddress.maxUnixPathBytes` is the kernel's side of the same fact; a test keeps the two equal).
    static let maxBytes = 107

    /// `text` when it is an absolute path the kernel can bind or connect to, else a problem saying why.
    static func validate(_ text: String) throws(ValueProblem) -> String {
        guard text.hasPrefix("/") else {
            throw ValueProblem("\"\(text)\": a Unix socket path must be absolute (start with /), e.g. /run/berth/proxy.sock")
        }
        guard !text.utf8.contains(0) else { throw ValueProblem("a Unix socket path cannot hold a NUL byte") }
        let count = text.utf8.count
        guard count <= maxBytes else {
            throw ValueProblem("\"\(text)\" is \(count) bytes; a Unix socket path must be at most \(maxBytes) (the kernel's limit)")
        }
        guard !text.hasSuffix("/") else { throw ValueProblem("\"\(text)\" names a directory; name the socket file in it") }
        return text
    }

    /// Whether two paths name one file: the same name in the same directory, the directories compared once their
    /// symlinks, `.`, `..` and doubled slashes are resolved (`realpath`); a directory that does not exist yet is
    /// compared as written.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        func split(_ path: String) -> (directory: String, name: Substring) {
            let slash = path.lastIndex(of: "/")!
            let directory = String(path[..<slash])
            return (directory.isEmpty ? "/" : directory, path[path.index(after: slash)...])
        }
        func resolved(_ directory: String) -> String {
            guard let real = realpath(directory, nil) else { return directory }
            defer { free(real) }
            return String(cString: real)
        }
        let (x, y) = (split(a), split(b))
        return x.name == y.name && resolved(x.directory) == resolved(y.directory)
    }
}

/// A socket file's mode and owner, for one Unix listener. Ignored when that listener is TCP.
public struct UnixSocketSettings: Hashable, Sendable {
    /// Permission bits; a caller needs write permission to connect.
    public var mode: UInt32 = 0
    /// Who the file is given to; nil keeps berth's own user and group.
    public var owner: SocketOwner? = nil
}

/// Who a Unix socket file belongs to, written as chown(1) does: `USER`, `USER:GROUP` or `:GROUP`, each a name or a
/// number. Names are looked up when the configuration is read, so a name the system does not know is a config error.
public struct SocketOwner: Hashable, Sendable, CustomStringConvertible {
    /// The user and group as written (a name or a number), nil for the half not given.
    public var user: String?
    public var group: String?
    /// The ids they stand for.
    public var uid: UInt32?
    public var gid: UInt32?

    /// `USER`, `USER:GROUP` or `:GROUP`, as written.
    public var description: String {
        (user ?? "") + (group.map { ":" + $0 } ?? "")
    }

    /// Reads chown's spelling; names are resolved through the system's user and group databases.
    static func parse(_ text: String) throws(ValueProblem) -> SocketOwner {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let user = parts[0].isEmpty ? nil : parts[0]
        let group = parts.count > 1 ? (parts[1].isEmpty ? nil : parts[1]) : nil
        guard user != nil || group != nil else {
            throw ValueProblem("\"\(text)\" is not an owner (write USER, USER:GROUP or :GROUP, names or numbers)")
        }
        var owner = SocketOwner(user: user, group: group)
        if let user { owner.uid = try id(user, kind: "user") { getpwnam($0)?.pointee.pw_uid } }
        if let group { owner.gid = try id(group, kind: "group") { getgrnam($0)?.pointee.gr_gid } }
        return owner
    }

    /// An owner as written; `parse` fills in the ids.
    private init(user: String?, group: String?) {
        self.user = user
        self.group = group
    }

    /// A number as itself (chown takes ids that have no name), a name through `lookup`.
    private static func id(_ text: String, kind: String, lookup: (String) -> UInt32?) throws(ValueProblem) -> UInt32 {
        if text.isASCIIDigits {
            guard let number = UInt32(text), number < UInt32.max else { throw ValueProblem("\"\(text)\" is not a \(kind) id") }
            return number
        }
        guard let id = lookup(text) else { throw ValueProblem("there is no \(kind) named \"\(text)\" on this system") }
        return id
    }
}
