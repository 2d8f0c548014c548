// Writes request and response heads for forwarding: origin-form, Host, hop-by-hop removal, copied field lines.

/// Writes heads for forwarding.
public enum HeadSerializer {
    /// The most bytes `writeForwardRequest` can write for these arguments: the start line, Host, every stored field
    /// line (those kept are a subset), the longest Connection line berth adds, Via and the blank line. Inlined: a
    /// call would take the head borrowed, and one read in place (`inout`) would be copied whole to pass it.
    @inline(__always)
    static func forwardRequestBound(_ head: RequestHead, host: String, options: ForwardOptions) -> Int {
        methodLength(head.method) + 1 + max(Int(head.textCount), 1) + 1 + 8 + 2
            + 6 + host.utf8.count + 2 + Int(head.headers.byteCount) + 24 + options.viaLine.count + 2
            + maxForwardsLineBound
    }

    /// "Max-Forwards: " (14 bytes), up to 19 digits and CRLF.
    static let maxForwardsLineBound = 14 + 19 + 2

    /// The most bytes `writeForwardResponse` can write (status as up to 19 digits, the reason or "OK", the
    /// Transfer-Encoding line a re-framed body adds, and the longer name a Berth-Error is renamed to, allowed for
    /// every field: counting the Berth-Errors would cost a test per field parsed, and the few bytes reserved in
    /// excess cost nothing).
    @inline(__always)
    static func forwardResponseBound(_ head: ResponseHead, options: ForwardOptions) -> Int {
        9 + 19 + 1 + max(Int(head.textCount), 2) + 2 + Int(head.headers.byteCount) + 24 + 28 + options.viaLine.count
            + KeepAliveLine.bound + 2
            + head.headers.count &* upstreamErrorNameGrowth
    }

    /// What an upstream's `Berth-Error` is forwarded as: the caller can tell a cause from further up (a chained
    /// berth's) from this berth's own, and keeps it.
    static let upstreamErrorName: StaticString = "Berth-Upstream-Error: "
    /// The most a renamed line can outgrow its original: "Berth-Upstream-Error: " (22 bytes) for "Berth-Error:"
    /// (12), whose space may be missing. A literal, so the bound costs no lazy initialisation (checked in tests).
    static let upstreamErrorNameGrowth = 10

    /// Request line in origin-form, Host set from `host`, hop-by-hop headers dropped.
    public static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, into out: inout [UInt8]) {
        var h = head
        out.appendHead(bound: forwardRequestBound(h, host: host, options: options)) {
            writeForwardRequest(&h, host: host, options: options, into: &$0)
        }
    }

    /// Status line and headers for the caller, hop-by-hop dropped, Connection set from `keepAlive`, and a
    /// keep-alive answer to an HTTP/1.1 caller announcing `keepAliveTail` (`KeepAliveLine`; 0 announces nothing).
    public static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions,
                                            keepAliveTail: UInt64 = 0, into out: inout [UInt8]) {
        var h = head
        out.appendHead(bound: forwardResponseBound(h, options: options)) {
            writeForwardResponse(&h, callerVersion: callerVersion, keepAlive: keepAlive, options: options, keepAliveTail: keepAliveTail, into: &$0)
        }
    }

    /// `writeForwardRequest` into memory that `reserve` hands out for the bound it is asked for (an output buffer's
    /// free space); returns the bytes written, 0 when `reserve` had none. One call, so the caller passes the head once.
    /// The head is `inout` and left as it is: a head the caller reads in place (its exchange's), passed to a borrowed
    /// parameter of a call it cannot see into, is copied whole first (204 bytes); inout, its address is passed, and
    /// every function below takes it (or its fields) inout for the same reason.
    public static func writeForwardRequest(_ head: inout RequestHead, host: String, options: ForwardOptions, reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        let bound = forwardRequestBound(head, host: host, options: options)
        guard let base = reserve(bound) else { return 0 }
        var w = HeadWriter(base: base, capacity: bound)
        writeForwardRequest(&head, host: host, options: options, into: &w)
        return w.count
    }

    /// `writeForwardResponse` of the head `parser` holds, into memory that `reserve` hands out for the bound it is
    /// asked for; returns the bytes written, 0 when `reserve` had none. The parser is `inout` and its head left as it
    /// is, for the reason `writeForwardRequest(_:host:options:reserve:)` gives (the head is 176 bytes).
    public static func writeForwardResponse(_ parser: inout ResponseHeadParser, callerVersion: HTTPVersion, keepAlive: Bool,
                                            options: ForwardOptions, keepAliveTail: UInt64 = 0,
                                            reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        let bound = forwardResponseBound(parser.sink.head, options: options)
        guard let base = reserve(bound) else { return 0 }
        var w = HeadWriter(base: base, capacity: bound)
        writeForwardResponse(&parser.sink.head, callerVersion: callerVersion, keepAlive: keepAlive, options: options,
                             keepAliveTail: keepAliveTail, into: &w)
        return w.count
    }

    /// `writeForwardRequest` into memory reserved for at least `forwardRequestBound` bytes.
    static func writeForwardRequest(_ head: inout RequestHead, host: String, options: ForwardOptions, into out: inout HeadWriter) {
        writeMethod(head.method, into: &out)
        if head.targetForm == .authority {
            head.withTargetBytes { out.raw($0) }
        } else {
            head.withPathBytes { out.raw($0) }
        }
        out.byte(SP)
        HTTPVersion.write(head.version, into: &out)
        out.crlf()
        out.literal("Host: ")
        // Read in place (a `var` copy for `withUTF8` retained and released the String's storage, per request).
        if host.utf8.withContiguousStorageIfAvailable({ out.raw(UnsafeRawBufferPointer($0)) }) == nil {
            var h = host
            h.withUTF8 { out.raw(UnsafeRawBufferPointer($0)) }
        }
        out.crlf()
        copyEndToEndFields(&head.headers, keepUpgrade: head.isUpgrade, dropHost: true, renameBerthError: false, options: options, into: &out)
        if _slowPath(head.headers.foldContentLength), case .contentLength(let n) = head.framing { writeContentLength(n, into: &out) }
        if _slowPath(options.maxForwards >= 0) {
            out.literal("Max-Forwards: ")
            out.decimal(options.maxForwards)
            out.crlf()
        }
        if head.isUpgrade {
            out.literal("Connection: upgrade\r\n")
        } else if head.version == .http10 {
            // Keeps the pooled upstream connection open, and an HTTP/1.0 request never gets a chunked answer.
            out.literal("Connection: keep-alive\r\n")
        }
        out.raw(options.viaLine)
        out.crlf()
    }

    /// The one value of a Content-Length that came as a list or in several lines (its lines were left out). The
    /// bound needs nothing more: those lines held at least two copies of the digits this line holds once.
    static func writeContentLength(_ n: UInt64, into out: inout HeadWriter) {
        out.literal("Content-Length: ")
        out.decimal(Int(n))
        out.crlf()
    }

    /// The length of the method's name, without making its String for the known methods.
    @inline(__always)
    static func methodLength(_ method: HTTPMethod) -> Int {
        switch method {
        case .get, .put: return 3
        case .head, .post: return 4
        case .patch, .trace: return 5
        case .delete: return 6
        case .connect, .options: return 7
        case .other(let s): return s.utf8.count
        }
    }

    /// The method and the space after it, as a literal for the known methods (no String to read).
    @inline(__always)
    static func writeMethod(_ method: HTTPMethod, into out: inout HeadWriter) {
        switch method {
        case .get: out.literal("GET ")
        case .head: out.literal("HEAD ")
        case .post: out.literal("POST ")
        case .put: out.literal("PUT ")
        case .delete: out.literal("DELETE ")
        case .connect: out.literal("CONNECT ")
        case .options: out.literal("OPTIONS ")
        case .trace: out.literal("TRACE ")
        case .patch: out.literal("PATCH ")
        case .other(var s):
            s.withUTF8 { out.raw(UnsafeRawBufferPointer($0)) }
            out.byte(SP)
        }
    }

    /// `writeForwardResponse` into memory reserved for at least `forwardResponseBound` bytes.
    static func writeForwardResponse(_ head: inout ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions,
                                     keepAliveTail: UInt64 = 0, into out: inout HeadWriter) {
        // `writeStatusLine`'s work, with the reason read where it lies: a closure that read the inout head would have
        // it copied whole to pass, and one around the whole line was a call of its own.
        let status = head.status
        // Fast path: 200, most answers, as one literal with its code; `decimal`'s call cost ~37 instructions.
        if status == 200 {
            out.literal("HTTP/1.1 200 ")
        } else {
            out.literal("HTTP/1.1 ")
            out.decimal(status)
            out.byte(SP)
        }
        if let r = head.reasonRange {
            head.text.withUnsafeBytes { out.raw(UnsafeRawBufferPointer(rebasing: $0[r])) }
        } else {
            out.literal("OK")
        }
        out.crlf()
        var upgrading = false
        // 200 first: the common answer pays one test for the two below.
        if _slowPath(head.status != 200 && (head.status < 200 || head.status == 204)) {
            upgrading = head.status == 101
            copyBodilessFields(&head, options: options, into: &out)
        } else {
            copyEndToEndFields(&head.headers, keepUpgrade: false, dropHost: false, renameBerthError: true, options: options, into: &out)
            if _slowPath(head.headers.foldContentLength), case .contentLength(let n)? = head.parsedFraming { writeContentLength(n, into: &out) }
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

    /// The fields of a response that has no body by its status (1xx, 204), which may carry no framing field (RFC 9110
    /// 8.6, RFC 9112 6.1): an upstream's Content-Length or Transfer-Encoding, forwarded, would make a parser downstream
    /// that honours it read the next response's bytes as this one's body, so they are left out. (A 304's and a HEAD
    /// answer's describe the representation, and go out.) Out of line: rare, and the options are copied.
    @inline(never)
    static func copyBodilessFields(_ head: inout ResponseHead, options: ForwardOptions, into out: inout HeadWriter) {
        var o = options
        o.droppedFraming = KnownHeader.contentLength.bit | KnownHeader.transferEncoding.bit
        var headers = head.headers
        copyEndToEndFields(&headers, keepUpgrade: head.status == 101, dropHost: false, renameBerthError: true, options: o, into: &out)
    }

    /// Kinds never forwarded: hop-by-hop (RFC 9110 7.6.1) and the framing look-alikes.
    @inline(__always)
    static var alwaysDropped: KindSet {
        KnownHeader.connection.bit | KnownHeader.keepAlive.bit | KnownHeader.proxyConnection.bit | KnownHeader.proxyAuthorization.bit
            | KnownHeader.te.bit | KnownHeader.trailer.bit | KnownHeader.framingLookalike.bit
    }

    /// Kinds that Connection or the drop list can remove. Not the framing fields (dropping Content-Length or
    /// Transfer-Encoding on request would desynchronise the bytes forwarded untouched), Host or Upgrade, whose fate the
    /// serializer decides, nor the kinds always dropped.
    @inline(__always)
    static var droppable: KindSet {
        KnownHeader.expect.bit | KnownHeader.via.bit | KnownHeader.berthError.bit | KnownHeader.berthGeneration.bit
            | KnownHeader.berthSocketTimeout.bit | KnownHeader.berthUpstreamError.bit | KnownHeader.traceparent.bit | KnownHeader.close.bit
    }

    /// Copies the field lines that survive, byte for byte, as runs: a run of stored lines (each with its CRLF) breaks
    /// only at a line that is dropped or rewritten, and each run is one copy. Only the known lines can break a run in
    /// the common case, and they are the records (`HTTPHeaders`): a head whose known lines are all kept is one copy,
    /// and the lines without a record are not looked at. They are (each line classified again) only when Connection
    /// names a field that is no known kind, when the drop list does, or when the head has more known lines than the
    /// records hold. With `renameBerthError` (responses), a `Berth-Error` line goes out as `Berth-Upstream-Error`
    /// with its value, so a caller never takes an upstream's cause for this berth's own. `headers` is inout, and left
    /// as it is, so that the head's own are read in place (`writeForwardRequest(_:host:options:reserve:)`).
    static func copyEndToEndFields(_ headers: inout HTTPHeaders, keepUpgrade: Bool, dropHost: Bool, renameBerthError: Bool,
                                   options: ForwardOptions, into out: inout HeadWriter) {
        var drop = alwaysDropped | ((headers.connectionKinds | options.alsoDropKinds) & droppable)
        if dropHost { drop |= KnownHeader.host.bit }
        if !keepUpgrade { drop |= KnownHeader.upgrade.bit }
        drop |= options.droppedFraming
        if _slowPath(headers.foldContentLength) { drop |= KnownHeader.contentLength.bit }
        var rename: KindSet = 0
        if renameBerthError {
            // A renamed line goes or stays by its new name.
            drop &= ~KnownHeader.berthError.bit
            if drop & KnownHeader.berthUpstreamError.bit != 0 { drop |= KnownHeader.berthError.bit } else { rename = KnownHeader.berthError.bit }
        }
        guard _fastPath(!headers.overflowed && headers.connectionOtherLengths == 0 && options.alsoDropLengths == 0) else {
            return copyClassifyingEachLine(headers, drop: drop, rename: rename, options: options, into: &out)
        }
        let cuts = drop | rename
        let records = headers.records, recordCount = Int(headers.recordCount)
        // The body reads nothing of `headers`: one that did would have the inout headers copied whole to call
        // `withBytes` on them (it could not know the body leaves them as they are). A local function, not a closure
        // literal: still a call of its own (too big for the inliner), but specialized with its captures passed as
        // arguments, where the closure had them stored in a context first (~7 instructions a head fewer).
        func copyRuns(_ b: UnsafeRawBufferPointer) {
            // The stored bytes not yet copied start here; the lines before it went out or were left out.
            var runStart = 0
            let span = records.span
            for i in 0..<recordCount {
                let r = span[i]
                guard cuts & r.kind.bit != 0 else { continue }
                if _slowPath(rename & r.kind.bit != 0) {
                    cut(r.line(b), r.kind, rename: rename, b, &runStart, into: &out)
                } else {
                    let start = Int(r.lineStart)
                    cut(start, start &+ Int(r.lineLength), b, &runStart, into: &out)
                }
            }
            if b.count > runStart { out.raw(UnsafeRawBufferPointer(rebasing: b[runStart..<b.count])) }
        }
        headers.withBytes(copyRuns)
    }

    /// The line at `start..<end` of `b` (CRLF excluded) does not go out as it is: the run of lines before it does.
    @inline(__always)
    static func cut(_ start: Int, _ end: Int, _ b: UnsafeRawBufferPointer, _ runStart: inout Int, into out: inout HeadWriter) {
        if start > runStart { out.raw(UnsafeRawBufferPointer(rebasing: b[runStart..<start])) }
        runStart = end &+ 2
    }

    /// `cut`, and a line of a kind `rename` holds (a Berth-Error) goes out by its new name, with its value.
    @inline(__always)
    static func cut(_ l: FieldLine, _ kind: KnownHeader, rename: KindSet, _ b: UnsafeRawBufferPointer, _ runStart: inout Int,
                    into out: inout HeadWriter) {
        cut(l.lineStart, l.lineEnd, b, &runStart, into: &out)
        if rename & kind.bit != 0 {
            out.literal(upstreamErrorName)
            out.raw(UnsafeRawBufferPointer(rebasing: b[l.valueStart..<l.valueEnd]))
            out.crlf()
        }
    }

    /// `copyEndToEndFields` when Connection names a field that is no known kind, when the drop list does, or when
    /// the head has more known lines than the records hold: each line is classified again. Out of line and rare.
    @inline(never)
    static func copyClassifyingEachLine(_ headers: HTTPHeaders, drop: KindSet, rename: KindSet, options: ForwardOptions,
                                        into out: inout HeadWriter) {
        let cuts = drop | rename
        let otherLengths = headers.connectionOtherLengths
        headers.withBytes { b in
            var runStart = 0
            // Where the Connection values are, found once: the records' when they hold every known line; else
            // (a head with more known lines than records, rare) gathered here in one pass, so that no field
            // Connection may name costs a scan of the head (that would make a hostile head quadratic in its size).
            var connectionValues: [Range<Int>] = []
            if headers.overflowed && otherLengths != 0 {
                headers.forEachKnownLine(b) { _, kind, l in
                    if kind == .connection { connectionValues.append(l.valueStart..<l.valueEnd) }
                    return true
                }
            }
            HTTPHeaders.forEachLine(b) { l in
                let name = UnsafeRawBufferPointer(rebasing: b[l.lineStart..<l.nameEnd])
                let kind = KnownHeader.classify(name)
                if cuts & kind.bit != 0 {
                    cut(l, kind, rename: rename, b, &runStart, into: &out)
                } else if kind == .other {
                    let length = NameLengths.bit(name.count)
                    if (otherLengths & length != 0 && namedByConnection(name, headers, b, connectionValues))
                        || (options.alsoDropLengths & length != 0 && named(name, in: options.alsoDropBytes)) {
                        cut(l, kind, rename: rename, b, &runStart, into: &out)
                    }
                }
                return true
            }
            if b.count > runStart { out.raw(UnsafeRawBufferPointer(rebasing: b[runStart..<b.count])) }
        }
    }

    /// Whether a Connection field of `headers` (bytes `b`) lists `name`: its values are the records' Connection
    /// lines, or `gathered` when the records overflowed.
    static func namedByConnection(_ name: UnsafeRawBufferPointer, _ headers: HTTPHeaders, _ b: UnsafeRawBufferPointer,
                                  _ gathered: [Range<Int>]) -> Bool {
        var found = false
        @inline(__always) func search(_ value: Range<Int>) {
            forEachListElement(UnsafeRawBufferPointer(rebasing: b[value])) { token in
                if equalsIgnoringCase(token, name) { found = true }
            }
        }
        if headers.overflowed {
            for value in gathered where !found { search(value) }
            return found
        }
        headers.forEachKnownLine(b) { _, kind, l in
            if kind == .connection { search(l.valueStart..<l.valueEnd) }
            return !found
        }
        return found
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
