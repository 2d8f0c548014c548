// The heads of responses berth writes itself (its error answers, the admin API's answers), with one reason table.

/// A response head berth writes itself: status, extra fields, the body's length and whether the connection stays.
/// Error answers and admin answers are written by `HeadSerializer.writeLocalResponse`, with the same `HeadWriter`
/// and status line as forwarded heads.
public struct LocalResponse {
    public var status: Int
    /// Fields after the status line, in order (no Content-Length or Connection: the writer adds those).
    public var fields: [(name: StaticString, value: String)]
    public var contentLength: Int
    public var keepAlive: Bool
    /// What a kept connection announces (`KeepAliveLine`; 0, the default, announces nothing): an error answer tells
    /// a pooling caller berth's idle timeout as a forwarded answer does, or the caller would keep it for ever.
    public var keepAliveTail: UInt64 = 0
    /// The caller spoke HTTP/1.0: a kept connection must then say `Connection: keep-alive` (RFC 9112 9.3), as a
    /// forwarded answer does; without it the answer is the connection's last to that caller, which may read to a
    /// close that never comes.
    public var http10Caller = false

    /// A head for a body of `contentLength` bytes.
    public init(status: Int, fields: [(name: StaticString, value: String)], contentLength: Int, keepAlive: Bool) {
        self.status = status
        self.fields = fields
        self.contentLength = contentLength
        self.keepAlive = keepAlive
    }

    /// The most bytes the head can take: status line, fields, Content-Length (up to 19 digits), Connection, blank line.
    var bound: Int {
        var n = 9 + 19 + 1 + 40 + 2
        for f in fields { n += f.name.utf8CodeUnitCount + 2 + f.value.utf8.count + 2 }
        return n + 16 + 19 + 2 + 19 + 2 + KeepAliveLine.bound
    }
}

/// Reason phrases for the statuses berth answers with itself (RFC 9110 section 15).
public enum StatusReason {
    /// The phrase for `status`; "Error" or "OK" for one berth does not send.
    public static func phrase(_ status: Int) -> StaticString {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 421: "Misdirected Request"
        case 431: "Request Header Fields Too Large"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 508: "Loop Detected"
        default: status < 400 ? "OK" : "Error"
        }
    }
}

extension HeadSerializer {
    /// Writes `head` into memory that `reserve` hands out for the bound it is asked for; returns the bytes written,
    /// 0 when `reserve` had none.
    public static func writeLocalResponse(_ head: LocalResponse, reserve: (Int) -> UnsafeMutableRawPointer?) -> Int {
        let bound = head.bound
        guard let base = reserve(bound) else { return 0 }
        var w = HeadWriter(base: base, capacity: bound)
        writeLocalResponse(head, into: &w)
        return w.count
    }

    /// `writeLocalResponse` as an Array (tests).
    public static func writeLocalResponse(_ head: LocalResponse, into out: inout [UInt8]) {
        out.appendHead(bound: head.bound) { writeLocalResponse(head, into: &$0) }
    }

    static func writeLocalResponse(_ head: LocalResponse, into out: inout HeadWriter) {
        writeStatusLine(head.status, into: &out) { $0.literal(StatusReason.phrase(head.status)) }
        for f in head.fields {
            out.literal(f.name)
            out.literal(": ")
            var v = f.value
            v.withUTF8 { out.raw(UnsafeRawBufferPointer($0)) }
            out.crlf()
        }
        out.literal("Content-Length: ")
        out.decimal(head.contentLength)
        out.crlf()
        if !head.keepAlive {
            out.literal("Connection: close\r\n")
        } else if head.http10Caller {
            out.literal("Connection: keep-alive\r\n")
        } else if head.keepAliveTail != 0 {
            KeepAliveLine.write(head.keepAliveTail, into: &out)
        }
        out.crlf()
    }

    /// `HTTP/1.1 <status> <reason>\r\n`: the one status line of every response berth writes, forwarded or its own.
    @inline(__always)
    static func writeStatusLine(_ status: Int, into out: inout HeadWriter, reason: (inout HeadWriter) -> Void) {
        out.literal("HTTP/1.1 ")
        out.decimal(status)
        out.byte(SP)
        reason(&out)
        out.crlf()
    }
}
