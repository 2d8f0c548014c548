// berth's own listening addresses, so that a connect to one of them (a forwarding loop, the admin API through the proxy) is refused.
import Glibc
import EventLoop

/// The proxy and admin listeners of this process, as a connect would reach them. Made once the listeners are bound
/// and shared read-only by every worker; asked only when a new upstream connection is about to be opened, never per
/// request (a pooled connection was checked when it was made).
struct OwnListeners: Sendable {
    /// Specific addresses berth listens on, with their ports (IPv4-mapped forms unmapped).
    private var exact: [SocketAddress] = []
    /// Ports of wildcard binds (0.0.0.0, `::`): any local address on them is berth.
    private var wildcardPorts: [Int] = []
    /// The machine's interface addresses, read at start (only kept when a wildcard bind needs them).
    private var interfaces: [SocketAddress] = []
    /// Unix socket paths berth listens on, and their files' identities (so another spelling of the path matches).
    private var unixPaths: [String] = []
    private var unixFiles: [FileIdentity] = []

    /// A file as the kernel knows it: device and inode.
    private struct FileIdentity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// None: nothing is berth's own (a worker without listeners, tests).
    init() {}

    /// The listeners at `addresses`, as bound (ports filled in).
    init(_ addresses: [SocketAddress]) {
        for a in addresses {
            switch a.family {
            case .unix:
                unixPaths.append(a.path)
                if let id = Self.identity(of: a.path) { unixFiles.append(id) }
            case .v4, .v6:
                if a.isUnspecified { wildcardPorts.append(a.port) } else { exact.append(a.unmapped) }
            }
        }
        if !wildcardPorts.isEmpty { interfaces = SocketAddress.localInterfaceAddresses().map { $0.unmapped } }
    }

    /// Whether a connect to `address` would reach one of berth's own listeners.
    func contains(_ address: SocketAddress) -> Bool {
        if address.family == .unix {
            if unixPaths.isEmpty { return false }
            if unixPaths.contains(address.path) { return true }
            guard let id = Self.identity(of: address.path) else { return false }
            return unixFiles.contains(id)
        }
        var dest = address.unmapped
        // A connect to 0.0.0.0 or `::` goes to the loopback address of its family.
        if dest.isUnspecified { dest = SocketAddress(bytes: dest.family == .v4 ? [127, 0, 0, 1] : [UInt8](repeating: 0, count: 15) + [1], port: dest.port) }
        if exact.contains(dest) { return true }
        guard wildcardPorts.contains(dest.port) else { return false }
        // Either family counts: a `::` bind takes IPv4 too, and refusing a rare other listener on berth's port is the safe error.
        if dest.isLoopback { return true }
        let bare = SocketAddress(bytes: dest.bytes, port: 0)
        return interfaces.contains(bare)
    }

    /// The device and inode of the file at `path`, nil when there is none.
    private static func identity(of path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
