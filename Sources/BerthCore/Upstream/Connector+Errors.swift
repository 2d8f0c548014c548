// What a failed connect means, for TCP and Unix-socket upstreams alike: the errno to Berth-Error mapping.
import Glibc

extension Connector {
    /// The Berth-Error cause of a failed connect. On a Unix socket ENOENT (no file) and ECONNREFUSED (no listener, or
    /// not a socket) are refusals as on TCP; EACCES and EPERM (the file's or a directory's permissions) have a cause
    /// of their own, since only changing the permissions fixes them; EAGAIN is a full backlog, refused for now.
    static func cause(ofConnectError err: Int32) -> ErrorCause {
        switch err {
        case ETIMEDOUT: return .connectTimeout
        case EACCES, EPERM: return .connectDenied
        // No socket for the connect at all: berth's shortage, which HAProxy answers 503 too.
        case EMFILE, ENFILE: return .outOfDescriptors
        // No local port left (every one in ip_local_port_range in use towards this address) or no kernel memory: the
        // origin refused nothing, and was blamed for it (502 connect-refused, counted in its failures).
        case EADDRNOTAVAIL, ENOBUFS, ENOMEM: return .outOfResources
        // No route, or the network or host is down (an ICMP unreachable): the origin refused nothing either.
        case ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN: return .connectUnreachable
        default: return .connectRefused
        }
    }
}
