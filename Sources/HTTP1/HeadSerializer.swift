// Writes request and response heads for forwarding: origin-form, Host, hop-by-hop removal, copied field lines.

/// Writes heads for forwarding.
public enum HeadSerializer {
    /// Request line in origin-form, Host set from `host`, hop-by-hop headers dropped.
    public static func writeForwardRequest(_ head: RequestHead, host: String, options: ForwardOptions, into out: inout [UInt8]) {
        out.append(contentsOf: head.method.rawValue.utf8)
        out.append(SP)
        if head.targetForm == .authority {
            head.withTargetBytes { out.appendRaw($0) }
        } else {
            head.withPathBytes { out.appendRaw($0) }
        }
        out.append(SP)
        HTTPVersion.write(head.version, into: &out)
        crlf(&out)
        append(literal: "Host: ", into: &out)
        out.append(contentsOf: host.utf8)
        crlf(&out)
        copyEndToEndFields(head.headers, keepUpgrade: head.isUpgrade, dropHost: true, options: options, into: &out)
        if head.isUpgrade {
            append(literal: "Connection: upgrade\r\n", into: &out)
        } else if head.version == .http10 {
            // Keeps the pooled upstream connection open, and an HTTP/1.0 request never gets a chunked answer.
            append(literal: "Connection: keep-alive\r\n", into: &out)
        }
        writeVia(options, into: &out)
        crlf(&out)
    }

    /// Status line and headers for the caller, hop-by-hop dropped, Connection set from `keepAlive`.
    public static func writeForwardResponse(_ head: ResponseHead, callerVersion: HTTPVersion, keepAlive: Bool, options: ForwardOptions, into out: inout [UInt8]) {
        append(literal: "HTTP/1.1 ", into: &out)
        appendDecimal(head.status, into: &out)
        out.append(SP)
        head.withReasonBytes { out.appendRaw($0) }
        crlf(&out)
        let upgrading = head.status == 101
        copyEndToEndFields(head.headers, keepUpgrade: upgrading, dropHost: false, options: options, into: &out)
        if upgrading {
            append(literal: "Connection: upgrade\r\n", into: &out)
        } else if !keepAlive {
            append(literal: "Connection: close\r\n", into: &out)
        } else if callerVersion == .http10 {
            append(literal: "Connection: keep-alive\r\n", into: &out)
        }
        writeVia(options, into: &out)
        crlf(&out)
    }

    /// Copies each surviving field line byte for byte. Fields named by Connection are dropped too, except the framing
    /// fields: dropping Content-Length or Transfer-Encoding on request would desynchronise the bytes we forward untouched.
    /// Lines are stored with their CRLF, so each run of consecutive surviving lines is one copy (most heads are one
    /// or two runs: everything but Connection).
    static func copyEndToEndFields(_ headers: HTTPHeaders, keepUpgrade: Bool, dropHost: Bool, options: ForwardOptions, into out: inout [UInt8]) {
        let fields = headers.fields
        headers.bytes.withUnsafeBytes { b in
            func slice(_ from: Int32, _ to: Int32) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: b[Int(from)..<Int(to)])
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
                case .expect, .other:
                    let name = slice(f.lineStart, f.nameEnd)
                    if namedByConnection(name, fields, b) || named(name, in: options.alsoDropBytes) || framingLookalike(name) { continue }
                }
                if f.lineStart != runEnd || runEnd == 0 {
                    if runEnd > runStart { out.appendRaw(slice(runStart, runEnd)) }
                    runStart = f.lineStart
                }
                runEnd = f.lineEnd + 2
            }
            if runEnd > runStart { out.appendRaw(slice(runStart, runEnd)) }
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

    static func writeVia(_ options: ForwardOptions, into out: inout [UInt8]) {
        if !options.viaLine.isEmpty { out.append(contentsOf: options.viaLine) }
    }

    @inline(__always) static func crlf(_ out: inout [UInt8]) { out.append(CR); out.append(LF) }

    @inline(__always) static func append(literal s: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
