// The model's sessions for PoolLedgerModelTests: what one caller holds upstream, and the bytes of its exchange.
@testable import BerthCore

/// A request's upstream side as the proxy session holds it: each resource in the case that needs it (the shape of
/// `SessionState`), so giving back is a `take` and a consuming call, never a count.
enum ModelLink: ~Copyable {
    case none
    case connecting(ConnectTicket)
    case relaying(FakeLedger.Lease)

    mutating func take() -> ModelLink {
        let old = consume self
        self = .none
        return old
    }
}

/// One exchange's bytes in the model: the request, its body, and what the upstream answers.
struct ModelScript {
    var head: String
    var body: [UInt8]
    var response: [UInt8]
    /// The response body the caller must receive when the exchange finishes; nil when it ends otherwise.
    var expected: [UInt8]?

    static func random(_ rng: inout SeededRandom) -> ModelScript {
        let body = [UInt8](repeating: 98, count: [0, 0, 7, 300].randomElement(using: &rng)!)
        let method = body.isEmpty ? (Bool.random(using: &rng) ? "GET" : "DELETE") : "POST"
        let head = "\(method) /m HTTP/1.1\r\nHost: a\r\n" + (body.isEmpty ? "" : "Content-Length: \(body.count)\r\n") + "\r\n"
        let ok = Array("hello".utf8)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8), expected: ok)
        case 1: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8),
                              expected: Array("5\r\nhello\r\n0\r\n\r\n".utf8))
        case 2: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello".utf8), expected: ok)
        // Two heads: the body check reads after the first one, so this one is checked for its end only.
        case 3: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8), expected: nil)
        case 4: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 200 OK\r\n\r\nuntil close".utf8), expected: nil)
        default: return ModelScript(head: head, body: body, response: Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy".utf8), expected: nil)
        }
    }
}

/// One caller's session in the model: queued, connecting or relaying (over in-memory channels), or gone.
final class ModelSession {
    let waiter: FakeWaiter
    let pool: PoolSlot
    var link = ModelLink.none
    var queued = false
    let script: ModelScript
    /// The exchange as the production relay runs it, once the session holds a lease.
    var relay: MemoryRelay?
    var bodySent = 0
    var responseSent = 0
    var retried = false
    /// Its last checkout asked for a fresh connection (a retry does; the model sends some first requests so too).
    var freshOnly = false
    init(id: Int, pool: PoolSlot, script: ModelScript) {
        waiter = FakeWaiter(id)
        self.pool = pool
        self.script = script
    }

    var isConnecting: Bool {
        switch link {
        case .connecting: return true
        default: return false
        }
    }

    var isRelaying: Bool {
        switch link {
        case .relaying: return true
        default: return false
        }
    }
}
