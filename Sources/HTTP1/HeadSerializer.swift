// Writes request and response heads for forwarding: origin-form, Host, hop-by-hop removal, copied field lines.

/// Writes heads for forwarding.
public enum HeadSerializer {
    /// The most bytes `writeForwardRequest` can write for these arguments: the start line, Host, every stored field
    /// line (those kept are a subset), the longest Connection line berth adds, Via and the blank line.
    static func forwardRequestBound(_ head: RequestHead, host: String, options: ForwardOptions) -> Int {
        head.method.rawValue.utf8.count + 1 + max(head.text.count, 1) + 1 + 8 + 2
            + 6 + host.utf8.count + 2 + head.headers.bytes.count + 24 + options.viaLine.count + 2
    }

    /// The most bytes `writeForwardResponse` can write (status as up to 19 digits, the reason or "OK", the
    /// Transfer-Encoding line a re-framed body adds, and the longer name a Berth-Error is renamed to, allowed for
    /// every field: counting the Berth-Errors would cost a test per field parsed, and the few bytes reserved in
    /// excess cost nothing).
    @inline(__always)
    static func forwardResponseBound(_ head: ResponseHead, options: ForwardOptions) -> Int {
        9 + 19 + 1 + max(head.text.count, 2) + 2 + head.headers.bytes.count + 24 + 28 + options.viaLine.count
            + KeepAliveLine.bound + 2
            + head.headers.fields.count &* upstreamErrorNameGrowth
    }

    /// What an upstream's `Berth-Error` is forwarded as: the caller can tell a cause from further up (a chained
    /// berth's) from this berth's own, and keeps it.
    static let upstreamErrorName: StaticString = "Berth-Upstream-Error: "
    /// The most a renamed line can outgrow its original: "Berth-Upstream-Error: " (22 bytes) for "Berth-Error:"
    /// (12), whose space may be missing. A literal, so the bound costs no lazy initialisation (checked in tests).
    static let upstreamErrorNameGrowth = 10

    /// Request line in origin-form, Host set from `host`, hop-by-hop headers dropped.
    public static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, into out: inout [UInt8]) {
        out.appendHead(bound: forwardRequestBound(head, host: host, options: options)) {
            writeForwardRequest(head, host: host, options: options, into: &$0)
        }
    }

    /// Status line and headers for the caller, hop-by-hop dropped, Connection set from `keepAlive`, and a
    /// keep-alive answer to an HTTP/1.1 caller announcing `keepAliveTail` (`KeepAliveLine`; 0 announces nothing).
    public static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions,
                                            keepAliveTail: UInt64 = 0, into out: inout [UInt8]) {
        out.appendHead(bound: forwardResponseBound(head, options: options)) {
            writeForwardResponse(head, callerVersion: callerVersion, keepAlive: keepAlive, options: options, keepAliveTail: keepAliveTail, into: &$0)
        }
    }

    /// `writeForwardRequest` into memory that `reserve` hands out for the bound it is asked for (an output buffer's
    /// free space); returns the bytes written, 0 when `reserve` had none. One call, so the caller passes the head once.
    public static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        let bound = forwardRequestBound(head, host: host, options: options)
        guard let base = reserve(bound) else { return 0 }
        var w = HeadWriter(base: base, capacity: bound)
        writeForwardRequest(head, host: host, options: options, into: &w)
        return w.count
    }

    /// `writeForwardResponse` into memory that `reserve` hands out for the bound it is asked for; returns the bytes
    /// written, 0 when `reserve` had none.
    public static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions,
                                            keepAliveTail: UInt64 = 0, reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        let bound = forwardResponseBound(head, options: options)
        guard let base = reserve(bound) else { return 0 }
        var w = HeadWriter(base: base, capacity: bound)
        writeForwardResponse(head, callerVersion: callerVersion, keepAlive: keepAlive, options: options, keepAliveTail: keepAliveTail, into: &w)
        return w.count
    }

    /// `writeForwardRequest` into memory reserved for at least `forwardRequestBound` bytes.
    static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, into out: inout HeadWriter) {
        var method = head.method.rawValue
        method.withUTF8 { out.raw(UnsafeRawBufferPointer($0)) }
        out.byte(SP)
        if head.targetForm == .authority {
            head.withTargetBytes { out.raw($0) }
        } else {
            head.withPathBytes { out.raw($0) }
        }
        out.byte(SP)
        HTTPVersion.write(head.version, into: &out)
        out.crlf()
        out.literal("Host: ")
        var h = host
        h.withUTF8 { out.raw(UnsafeRawBufferPointer($0)) }
        out.crlf()
        copyEndToEndFields(head.headers, keepUpgrade: head.isUpgrade, dropHost: true, options: options, into: &out)
        if head.isUpgrade {
            out.literal("Connection: upgrade\r\n")
        } else if head.version == .http10 {
            // Keeps the pooled upstream connection open, and an HTTP/1.0 request never gets a chunked answer.
            out.literal("Connection: keep-alive\r\n")
        }
        out.raw(options.viaLine)
        out.crlf()
    }

    /// `writeForwardResponse` into memory reserved for at least `forwardResponseBound` bytes.
    static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions,
                                     keepAliveTail: UInt64 = 0, into out: inout HeadWriter) {
        writeStatusLine(head.status, into: &out) { w in head.withReasonBytes { w.raw($0) } }
        let upgrading = head.status == 101
        if _slowPath(head.hasBerthError) {
            copyEndToEndFields(head.headers.renamingBerthErrors(), keepUpgrade: upgrading, dropHost: false, options: options, into: &out)
        } else {
            copyEndToEndFields(head.headers, keepUpgrade: upgrading, dropHost: false, options: options, into: &out)
        }
        if upgrading {
            out.literal("Connection: upgrade\r\n")
        } else if !keepAlive {
            out.literal("Connection: close\r\n")
        } else if callerVersion == .http10 {
            out.literal("Connection: keep-alive\r\n")
        } else {
            // The caller's pool retires the connection before berth's idle timeout closes it.
            if keepAliveTail != 0 { KeepAliveLine.write(keepAliveTail, into: &out) }
        }
        if _slowPath(options.addChunked) { out.literal("Transfer-Encoding: chunked\r\n") }
        out.raw(options.viaLine)
        out.crlf()
    }

    /// Copies each surviving field line byte for byte. Fields named by Connection are dropped too, except the framing
    /// fields: dropping Content-Length or Transfer-Encoding on request would desynchronise the bytes we forward untouched.
    /// Lines are stored with their CRLF, so each run of consecutive surviving lines is one copy (most heads are one
    /// or two runs: everything but Connection). A response's `Berth-Error` lines were renamed before (see
    /// `writeForwardResponse`), so that this loop, which every head goes through, has no case for them.
    static func copyEndToEndFields(_ headers: HTTPHeaders, keepUpgrade: Bool, dropHost: Bool, options: ForwardOptions, into out: inout HeadWriter) {
        let fields = headers.fields
        headers.bytes.withUnsafeBytes { b in
            func slice(_ from: Int32, _ to: Int32) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: b[Int(from)..<Int(to)])
            }
            // The lengths of the names Connection lists, found once: most heads list only keep-alive or close, and a
            // field whose name has none of those lengths cannot be named there.
            var connectionLengths: UInt64 = 0
            for f in fields where f.kind == .connection {
                forEachListElement(slice(f.valueStart, f.valueEnd)) { connectionLengths |= NameLengths.bit($0.count) }
            }
            // The run being gathered: [runStart, runEnd) in `b`, CRLFs included.
            var runStart: Int32 = 0
            var runEnd: Int32 = 0
            for f in fields {
                switch f.kind {
                case .connection, .keepAlive, .proxyConnection, .proxyAuthorization, .te, .trailer: continue
                case .host: if dropHost { continue }
                case .upgrade: if !keepUpgrade { continue }
                case .contentLength: break
                case .transferEncoding: if options.dropTransferEncoding { continue }
                case .expect, .via, .other, .berthError, .berthGeneration:
                    let name = slice(f.lineStart, f.nameEnd)
                    let length = NameLengths.bit(name.count)
                    if connectionLengths & length != 0 && namedByConnection(name, fields, b) { continue }
                    if options.alsoDropLengths & length != 0 && named(name, in: options.alsoDropBytes) { continue }
                    if framingLookalike(name) { continue }
                }
                if f.lineStart != runEnd || runEnd == 0 {
                    if runEnd > runStart { out.raw(slice(runStart, runEnd)) }
                    runStart = f.lineStart
                }
                runEnd = f.lineEnd + 2
            }
            if runEnd > runStart { out.raw(slice(runStart, runEnd)) }
        }
    }

    static func namedByConnection(_ name: UnsafeRawBufferPointer, _ fields: [FieldRange], _ b: UnsafeRawBufferPointer) -> Bool {
        var found = false
        for f in fields where f.kind == .connection {
            forEachListElement(UnsafeRawBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)])) { token in
                if equalsIgnoringCase(token, name) { found = true }
            }
            if found { return true }
        }
        return false
    }

    /// `Transfer_Encoding` or `Content_Length`: not framing to berth, but servers that map '_' to '-' (CGI-style
    /// environments) would read them as framing next to the real one. They are never forwarded.
    static func framingLookalike(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count == 14 || name.count == 17, name.contains(UInt8(ascii: "_")) else { return false }
        let target = name.count == 14 ? "content-length" : "transfer-encoding"
        var i = 0
        for c in target.utf8 {
            let n = name[i] == UInt8(ascii: "_") ? UInt8(ascii: "-") : lower(name[i])
            if n != c { return false }
            i += 1
        }
        return true
    }

    static func named(_ name: UnsafeRawBufferPointer, in list: [[UInt8]]) -> Bool {
        for s in list where s.count == name.count {
            var same = true
            for i in 0..<s.count where s[i] != lower(name[i]) {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }
}
