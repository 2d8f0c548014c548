// The access log's fields, in line order: each one's name, value and meaning, for both log formats at once.
import HTTP1

/// One field of the access-log line. The order of the cases is the order on the line; `write` gives the value in a
/// kind (`AccessLineWriter`: text, number, milliseconds, boolean, list, none) and the writer renders that kind for
/// the format, so logfmt and JSON carry the same fields with the same values. docs/configuration.md's table
/// ("Access log") lists every case with its meaning (AccessLogTests holds the two together).
enum AccessField: String, CaseIterable {
    case method, target, upstream, status
    case berthError = "berth_error"
    case bytesIn = "bytes_in"
    case bytesOut = "bytes_out"
    case reused
    case connAge = "conn_age_ms"
    case connIdle = "conn_idle_ms"
    case epoch, generation, attempts
    case acquire = "acquire_ms"
    case connect = "connect_ms"
    case ttfb = "ttfb_ms"
    case total = "total_ms"
    case traceID = "trace_id"

    /// What the field says, for the docs' table.
    var meaning: String {
        switch self {
        case .method: return "The request method."
        case .target: return "The request target as sent (capped)."
        case .upstream: return "The upstream `host:port` the request was routed to; none before routing."
        case .status: return "The status the caller got: berth's own answer, or the upstream's (also when the response was cut after its head)."
        case .berthError: return "The `Berth-Error` cause when berth answered or cut the response itself."
        case .bytesIn: return "Request body bytes read from the caller."
        case .bytesOut: return "Response bytes read from the upstream, head included."
        case .reused: return "Whether the request first went out on a pooled connection (true) or a new one (false); none if never sent."
        case .connAge: return "That connection's age when the request went out."
        case .connIdle: return "How long it had been idle in the pool before this request (0 when handed straight over); none for a new connection."
        case .epoch: return "The pool epoch the connection was opened in."
        case .generation: return "The upstream generation the request named (`Berth-Generation`); none without one."
        case .attempts: return "Why each attempt went out: `first`, then the retry's reason (`idempotent`, `idempotency-key`, `unread`, `dead-peer`)."
        case .acquire: return "Time queued for a connection (every attempt's wait added up)."
        case .connect: return "Time to open the exchange's new connection (TLS handshake included), or until the exchange ended if it never opened; none without a connect."
        case .ttfb: return "From the last attempt's send to the first response byte; none without one."
        case .total: return "From the whole request head to the end of the exchange."
        case .traceID: return "The trace id of a valid W3C `traceparent` header; none when absent or malformed."
        }
    }

    /// Writes the field's value for `exchange`, ended at `now`.
    func write(_ exchange: borrowing Exchange, now: Nanos, into w: inout AccessLineWriter) {
        let f = exchange.facts
        let sent = f.firstSentAt != 0
        switch self {
        case .method:
            w.text(exchange.request.method.rawValue)
        case .target:
            exchange.request.withTargetBytes { w.text($0) }
        case .upstream:
            if let key = exchange.key { w.text(key.description) } else { w.none() }
        case .status:
            // A response cut after its head went out keeps the upstream's status: that is what the caller got.
            w.number(UInt64(exchange.responseHeadSent ? exchange.responseStatus : exchange.errorCause?.status ?? exchange.responseStatus))
        case .berthError:
            if let cause = exchange.errorCause { w.text(cause.rawValue) } else { w.none() }
        case .bytesIn:
            w.number(exchange.requestBodyBytes)
        case .bytesOut:
            w.number(exchange.responseBytes)
        case .reused:
            if sent { w.bool(f.reused) } else { w.none() }
        case .connAge:
            if sent { w.milliseconds(f.firstSentAt - f.openedAt) } else { w.none() }
        case .connIdle:
            if sent && f.reused { w.milliseconds(f.idleSince == 0 ? 0 : f.firstSentAt - f.idleSince) } else { w.none() }
        case .epoch:
            if sent { w.number(f.epoch) } else { w.none() }
        case .generation:
            if let g = exchange.generation { w.text(g) } else { w.none() }
        case .attempts:
            w.beginList()
            if exchange.key != nil { w.item("first") }
            if let retry = exchange.retry { w.item(retry.rawValue) }
            w.endList()
        case .acquire:
            w.milliseconds(f.acquireWait)
        case .connect:
            if f.connectStartedAt == 0 { w.none() } else {
                w.milliseconds((f.connectedAt != 0 ? f.connectedAt : now) - f.connectStartedAt)
            }
        case .ttfb:
            if exchange.firstByteAt > 0 { w.milliseconds(exchange.firstByteAt - exchange.sentAt) } else { w.none() }
        case .total:
            w.milliseconds(now - exchange.startedAt)
        case .traceID:
            if let id = TraceParent.traceID(of: exchange.request.headers) { id.withUnsafeBytes { w.text($0) } } else { w.none() }
        }
    }

    /// The whole line for `exchange`, ended at `now`, in `format`; `body` gets its bytes.
    static func line<R>(_ exchange: borrowing Exchange, now: Nanos, format: LogFormat, label: String,
                        into w: inout AccessLineWriter, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        w.begin(format, label: label)
        for field in allCases {
            w.name(field.rawValue)
            field.write(exchange, now: now, into: &w)
        }
        return w.end(body)
    }
}
