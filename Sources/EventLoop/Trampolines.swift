// The only places that cross from libevent's and OpenSSL's C callbacks into Swift: non-capturing trampolines and their context boxes.
internal import CLibevent
internal import COpenSSL

/// Receives the events of a `LoopEvent`.
package protocol EventHandler: AnyObject {
    /// `what` is libevent's EV_READ / EV_WRITE / EV_TIMEOUT / EV_SIGNAL bits.
    func handleEvent(_ tag: EventTag, what: Int16)
}

/// Which of an owner's events fired, so one handler can own several.
package enum EventTag: UInt8 {
    case read, write, timer, accept, signal, wake
}

/// The retained context libevent carries for one C event: created with the event, released exactly once after it is
/// freed (at the end of the running callback when freed inside one: `RetiredBoxes`).
final class EventBox {
    let handler: EventHandler
    let tag: EventTag
    /// The loop's list of boxes whose events were freed during the running callback. Unmanaged, read borrowed (an
    /// unowned(unsafe) one was retained and released around the callback): read only by the trampoline while the
    /// loop runs, and every `LoopEvent` of the loop holds it strongly.
    let retired: Unmanaged<RetiredBoxes>
    init(handler: EventHandler, tag: EventTag, retired: RetiredBoxes) {
        self.handler = handler
        self.tag = tag
        self.retired = Unmanaged.passUnretained(retired)
    }
}

/// The boxes of events freed while a callback of their loop runs, released when the outermost callback returns. A
/// box holds its handler, so the handler of the running event lives until its callback is over whatever the
/// callback frees, and the trampoline calls it borrowed: no retain and release of it around each event (two
/// events per request).
final class RetiredBoxes {
    /// Callbacks running on this loop (1 inside one; more only if one ran the loop again).
    var depth = 0
    var boxes: [Unmanaged<EventBox>] = []

    init() { boxes.reserveCapacity(16) }

    /// Releases `box` now outside a callback, else when the callback returns.
    func retire(_ box: Unmanaged<EventBox>) {
        if depth == 0 { box.release() } else { boxes.append(box) }
    }

    /// Releases what the callbacks retired; a release may free more events (a handler's deinit closing its channel).
    @inline(never)
    func drain() {
        while let box = boxes.popLast() { box.release() }
    }
}

/// C entry point for every event berth registers.
let eventTrampoline: event_callback_fn = { _, what, arg in
    // The box is alive on entry (libevent calls back only for a live event) and stays alive until the callback has
    // returned: freeing the event during it only retires the box (`RetiredBoxes`). So the box and its handler are
    // read borrowed, and released, if the callback freed them, after it.
    Unmanaged<EventBox>.fromOpaque(arg!)._withUnsafeGuaranteedRef { box in
        box.retired._withUnsafeGuaranteedRef { $0.depth &+= 1 }
        box.handler.handleEvent(box.tag, what: what)
        box.retired._withUnsafeGuaranteedRef { retired in
            retired.depth &-= 1
            if _slowPath(retired.depth == 0 && !retired.boxes.isEmpty) { retired.drain() }
        }
    }
}

/// The retained context of one DNS query, released exactly once by the trampoline when the answer (or failure) comes.
final class DNSQueryBox {
    let host: String
    /// The resolver's number for the query, so an answer settles only its own query.
    let query: UInt64
    let wantV6: Bool
    let resolver: Resolver
    init(host: String, query: UInt64, wantV6: Bool, resolver: Resolver) {
        self.host = host
        self.query = query
        self.wantV6 = wantV6
        self.resolver = resolver
    }
}

/// C entry point for evdns answers.
let dnsTrampoline: evdns_callback_type = { result, type, count, ttl, addresses, arg in
    let box = Unmanaged<DNSQueryBox>.fromOpaque(arg!).takeRetainedValue()
    box.resolver.queriesInEvdns -= 1
    // Cancelled by `Resolver.abandon`, which already let go of the name: nothing waits, and nothing is learnt.
    if result == DNS_ERR_CANCEL { return }
    var found: [[UInt8]] = []
    if result == DNS_ERR_NONE, let addresses, count > 0 {
        let size = Int32(type) == DNS_IPv4_A ? 4 : 16
        for i in 0..<Int(count) {
            found.append(Array(UnsafeRawBufferPointer(start: addresses + i * size, count: size)))
        }
    }
    box.resolver.answered(host: box.host, query: box.query, wantV6: box.wantV6, addresses: found, ttl: Int(ttl))
}

/// Starts a query whose answer reaches `resolver.answered`; its evdns request (valid until that answer, or until
/// `cancelDNSQuery`), or nil when evdns refused it at once (the box is released).
func startDNSQuery(base: OpaquePointer, host: String, query: UInt64, wantV6: Bool, resolver: Resolver) -> OpaquePointer? {
    let box = Unmanaged.passRetained(DNSQueryBox(host: host, query: query, wantV6: wantV6, resolver: resolver))
    // An absolute name (a trailing dot) is asked as it is: no search domain is ever appended to it.
    let name = Resolver.withoutRootDot(host)
    let flags: CInt = name.utf8.count == host.utf8.count ? 0 : CInt(DNS_QUERY_NO_SEARCH)
    let req = wantV6
        ? evdns_base_resolve_ipv6(base, name, flags, dnsTrampoline, box.toOpaque())
        : evdns_base_resolve_ipv4(base, name, flags, dnsTrampoline, box.toOpaque())
    if req == nil { box.release() } else { resolver.queriesInEvdns += 1 }
    return req
}

/// Cancels a query no one waits for any more; evdns frees its place among those in flight at once and answers the
/// trampoline with DNS_ERR_CANCEL on a later turn (which releases the box).
func cancelDNSQuery(base: OpaquePointer, _ request: OpaquePointer) {
    evdns_cancel_request(base, request)
}

/// C cleanup for `evbuffer_add_reference` (`Channel.writeOwned`): libevent has sent the bytes or dropped the buffer,
/// so the retain taken for it is released, exactly once.
let ownedBytesCleanup: evbuffer_ref_cleanup_cb = { _, _, extra in
    Unmanaged<OwnedBytes>.fromOpaque(extra!).release()
}

/// Points `ssl`'s app data at its connection, unretained: the connection owns the SSL and frees it, so the pointer
/// is valid for as long as OpenSSL can call back with it.
func attachTLSConnection(_ connection: TLSConnection, to ssl: OpaquePointer) {
    SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(connection).toOpaque())
}

/// C entry point for a session the peer issued (a TLS 1.3 ticket read by SSL_read, or a TLS 1.2 session at the end
/// of the handshake). 0: the reference stays OpenSSL's (the cache keeps a copy).
let tlsNewSessionTrampoline: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let arg = berth_tls_app_data(ssl) else { return 0 }
    Unmanaged<TLSConnection>.fromOpaque(arg).takeUnretainedValue().sessionIssued(session)
    return 0
}
