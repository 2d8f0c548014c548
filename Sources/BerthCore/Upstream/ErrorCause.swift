// The causes berth names in the Berth-Error header, each with the status it answers with.

/// Why berth answered a request itself instead of relaying the upstream's response.
enum ErrorCause: String, CaseIterable, Sendable {
    case connectRefused = "connect-refused"
    case connectTimeout = "connect-timeout"
    case readTimeout = "read-timeout"
    case upstreamReset = "upstream-reset"
    case invalidResponse = "invalid-response"
    case poolTimeout = "pool-timeout"
    case destinationDenied = "destination-denied"
    case badRequest = "bad-request"
    /// The upstream is paused and the request could not wait (mode=reject, or the hold ran out).
    case upstreamPaused = "upstream-paused"
    /// The upstream's waiting queue is at --max-pending.
    case queueFull = "queue-full"
    /// The upstream's host name did not resolve.
    case dnsFailure = "dns-failure"
    /// The caller took longer than the header timeout to send a request head.
    case headerTimeout = "header-timeout"
    /// The request method or form is not supported (for example an absolute-form target with a scheme other than http:// or https://).
    case notImplemented = "not-implemented"
    /// berth is shutting down.
    case shuttingDown = "shutting-down"
    /// The upstream's Unix socket exists but berth may not connect to it (its file's or a directory's permissions).
    case connectDenied = "connect-denied"
    /// The TLS handshake with the upstream failed (an alert, no common version, a refused client certificate...).
    case tlsHandshakeFailed = "tls-handshake-failed"
    /// The upstream's certificate chain did not verify (unknown CA, self-signed, expired...).
    case tlsUntrustedCertificate = "tls-untrusted-certificate"
    /// The upstream's certificate is valid but for another name.
    case tlsHostnameMismatch = "tls-hostname-mismatch"
    /// No TLS handshake within the handshake timeout.
    case tlsHandshakeTimeout = "tls-handshake-timeout"
    /// The request would reach berth itself: its destination is one of berth's own listeners, or it carries this
    /// instance's Via token (it came back through another proxy).
    case forwardingLoop = "forwarding-loop"
    /// berth already has --max-callers caller connections: a new one is answered and closed at once.
    case tooManyCallers = "too-many-callers"
    /// The worker knows --max-upstreams upstreams and none can be forgotten: a request to a new one is refused.
    case tooManyUpstreams = "too-many-upstreams"
    /// The response was cut after its head went to the caller (a reset, a timeout or broken framing mid-body, a
    /// close-delimited body without its clean end). Never sent as a header: the caller sees the cut itself, as a
    /// chunked body without its last chunk or as a reset connection.
    case responseTruncated = "response-truncated"
    /// A reused connection's peer never acknowledged the request, and it could not go again: its body had outgrown
    /// the replay buffer, it was already a second attempt, or --dead-peer-retry is off.
    case deadPeer = "dead-peer"
    /// The request named a generation (`Berth-Generation`) that a newer one already replaced at its address: it is
    /// refused without connecting, so it can neither reach the new container nor revive the old one's pool.
    case staleGeneration = "stale-generation"
    /// berth had no free descriptor for the upstream's socket (EMFILE, ENFILE): its own shortage, not the origin's
    /// refusal; only reachable with `--max-callers` set above what RLIMIT_NOFILE leaves (warned at start).
    case outOfDescriptors = "out-of-descriptors"
    /// berth's connect failed for want of another local resource: a free local port (EADDRNOTAVAIL) or kernel memory
    /// (ENOBUFS, ENOMEM). Its own shortage too, which HAProxy answers 503 for, never the origin's refusal.
    case outOfResources = "out-of-resources"
    /// The caller's unfinished head was the largest when the worker's heads outgrew --head-memory: answered and closed,
    /// so many partial heads cannot hold max-callers × the head limit between them.
    case headMemory = "head-memory"
    /// No route reaches the upstream's address (ENETUNREACH, EHOSTUNREACH, ENETDOWN, EHOSTDOWN): a network gone or a
    /// route missing, not a listener that refused; named apart so an operator looks at the route, not the origin.
    case connectUnreachable = "connect-unreachable"
    /// The caller reset or closed its connection before its answer ended (mid-answer, or before any came): berth
    /// relays nothing more and aborts the upstream. Never sent as a header; the line's status is the upstream's when
    /// its head went out, else 499, nginx's "client closed request".
    case callerAborted = "caller-aborted"

    /// The status berth answers with.
    var status: Int {
        switch self {
        case .connectRefused, .upstreamReset, .invalidResponse, .dnsFailure, .connectDenied, .responseTruncated: return 502
        case .connectUnreachable: return 502
        case .deadPeer: return 502
        case .tlsHandshakeFailed, .tlsUntrustedCertificate, .tlsHostnameMismatch: return 502
        case .connectTimeout, .readTimeout, .tlsHandshakeTimeout: return 504
        case .poolTimeout, .upstreamPaused, .queueFull, .shuttingDown, .tooManyCallers, .tooManyUpstreams,
             .outOfDescriptors, .outOfResources: return 503
        case .destinationDenied: return 403
        case .badRequest: return 400
        case .headMemory: return 431
        case .headerTimeout: return 408
        case .notImplemented: return 501
        case .forwardingLoop: return 508
        case .staleGeneration: return 409
        case .callerAborted: return 499
        }
    }
}
