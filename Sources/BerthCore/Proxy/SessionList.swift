// Intrusive lists of a worker's sessions (idle callers oldest first, unfinished heads by size): O(1) in and out.

/// A session's place in one `SessionList`. Unmanaged: the worker's `sessions` table holds every session, and a
/// session leaves each list before it leaves the table (`Worker.sessionEnded`), so no link outlives its session, and
/// following or storing one costs no reference count (an unowned(unsafe) link was retained and released at each load:
/// four pairs per request).
struct SessionLink {
    var prev: Unmanaged<ProxySession>?
    var next: Unmanaged<ProxySession>?
    var linked = false
}

/// A session's links in the worker's lists, and the size class its unfinished head is listed under.
struct SessionLinks {
    /// In `Worker.idleCallers` (idle at the time it was linked).
    var idle = SessionLink()
    /// In `Worker.heldHeads[headClass]` while its unfinished head holds bytes.
    var head = SessionLink()
    var headClass = 0
}

/// Which of a session's links a list uses (a type, so each list's code is specialized: no key path at run time).
protocol SessionLinkKind {
    static func get(_ s: ProxySession) -> SessionLink
    static func set(_ s: ProxySession, _ link: SessionLink)
}

/// The idle-callers list's link.
enum IdleLink: SessionLinkKind {
    @inline(__always) static func get(_ s: ProxySession) -> SessionLink { s.links.idle }
    @inline(__always) static func set(_ s: ProxySession, _ link: SessionLink) { s.links.idle = link }
}

/// The unfinished-heads lists' link.
enum HeadLink: SessionLinkKind {
    @inline(__always) static func get(_ s: ProxySession) -> SessionLink { s.links.head }
    @inline(__always) static func set(_ s: ProxySession, _ link: SessionLink) { s.links.head = link }
}

/// A doubly linked list through the sessions themselves: appending, removing and moving to the end are O(1) and
/// allocate nothing, so a list can be kept up to date per request, and the pick at a limit (the oldest idle caller,
/// the largest unfinished head) never scans the worker's sessions (a scan per caller of a flood was quadratic).
struct SessionList<Kind: SessionLinkKind> {
    private var head: Unmanaged<ProxySession>?
    private var tail: Unmanaged<ProxySession>?

    /// An empty list.
    init() {}

    /// The first session (off the hot path: the pick at a limit).
    var first: ProxySession? { head?.takeUnretainedValue() }

    var isEmpty: Bool { head == nil }

    /// Changes the link of the session `u` refers to, in place (no reference count).
    @inline(__always)
    private static func update(_ u: Unmanaged<ProxySession>, _ change: (inout SessionLink) -> Void) {
        u._withUnsafeGuaranteedRef { s in
            var link = Kind.get(s)
            change(&link)
            Kind.set(s, link)
        }
    }

    /// Links `s` at the end; it must not be in the list.
    @inline(__always)
    mutating func append(_ s: ProxySession) {
        let u = Unmanaged.passUnretained(s)
        var link = Kind.get(s)
        precondition(!link.linked, "a session was linked twice")
        link.prev = tail
        link.next = nil
        link.linked = true
        Kind.set(s, link)
        if let t = tail { Self.update(t) { $0.next = u } } else { head = u }
        tail = u
    }

    /// Unlinks `s` if it is in the list.
    @inline(__always)
    mutating func remove(_ s: ProxySession) {
        let link = Kind.get(s)
        guard link.linked else { return }
        if let p = link.prev { Self.update(p) { $0.next = link.next } } else { head = link.next }
        if let n = link.next { Self.update(n) { $0.prev = link.prev } } else { tail = link.prev }
        Kind.set(s, SessionLink())
    }

    /// Puts `s` at the end, linked or not (a caller already last, as a lone keep-alive caller is, costs one compare).
    @inline(__always)
    mutating func moveToEnd(_ s: ProxySession) {
        if let t = tail, t.toOpaque() == Unmanaged.passUnretained(s).toOpaque() { return }
        remove(s)
        append(s)
    }
}
