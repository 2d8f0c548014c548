// What to do with a response head from the upstream: the HTTP rules of forwarding it, as a pure function.
import HTTP1

/// The decision for one response head, taken from the head's status and framing and what the request was; the
/// session carries it out (and the tests check the rules without sockets).
enum ResponsePlan: Equatable {
    /// 101 Switching Protocols to a request that asked to upgrade: the connection becomes a tunnel.
    case upgrade
    /// A response berth must not forward; answer 502, saying why.
    case invalid(Refusal)
    /// Another 1xx (100 Continue among them): forward it when the caller can take it, then read the next head.
    case interim(forward: Bool)
    /// The final response.
    case final(Final)

    /// Why a response head is refused (a plain value, so the plan and the relay's steps copy nothing).
    enum Refusal: Equatable {
        /// 101 Switching Protocols to a request that did not ask to upgrade.
        case unaskedUpgrade
        /// A transfer coding besides chunked (`gzip, chunked`, `gzip` until close) for an HTTP/1.0 caller, which
        /// knows no Transfer-Encoding (RFC 9112 6.1): de-chunked, the coded bytes would pass for the content.
        case codingForHTTP10
        /// chunked named, but not as the last coding (`chunked, gzip`): close-delimited by RFC 9112 6.3, yet a client
        /// that takes any `chunked` for the framing would read the bytes as chunks, end at a `0` line and take what
        /// follows for its next answer. HAProxy answers 502 too; nginx 1.22 chunks it again, which RFC 9112 6.1 forbids.
        case chunkedNotLast

        /// The answer's detail.
        var detail: String {
            switch self {
            case .unaskedUpgrade: return "101 to a request that did not ask to upgrade"
            case .codingForHTTP10: return "a transfer coding besides chunked, which an HTTP/1.0 caller cannot decode"
            case .chunkedNotLast:
                return "response head: its Transfer-Encoding names chunked, but not as the last coding, so its body would "
                    + "end only at the close while a client could read it as chunked"
            }
        }
    }

    /// How a final response goes to the caller.
    struct Final: Equatable {
        /// How the upstream frames the body (and so how berth finds its end).
        var framing: BodyFraming
        /// Whether the caller connection stays open after this response.
        var callerKeepAlive: Bool
        /// How the body's framing changes for the caller: chunked stripped for an HTTP/1.0 caller, a
        /// close-delimited body chunked for an HTTP/1.1 one.
        var reframe: Reframe
    }

    /// The plan for a head with `status` and body `framing` (already resolved for the request method), answering a
    /// request of `method`, `version` and `isUpgrade`. `requestDone` says the whole request body went out;
    /// `callerKeepAlive` is what the exchange allowed so far; `shuttingDown` ends keep-alive for the drain;
    /// `hasTransferEncoding` says the head names a transfer coding (read only for a close-delimited body);
    /// `hasOtherCoding` that it names one besides chunked (read only for a chunked body to an HTTP/1.0 caller);
    /// `namesChunked` that a close-delimited body's codings name chunked (so not last: `Refusal.chunkedNotLast`).
    static func plan(status: Int, framing: BodyFraming, version: HTTPVersion, isUpgrade: Bool,
                     requestDone: Bool, callerKeepAlive: Bool, shuttingDown: Bool,
                     hasTransferEncoding: Bool = false, hasOtherCoding: Bool = false, namesChunked: Bool = false) -> ResponsePlan {
        if status < 200 {
            if status == 101 {
                return isUpgrade ? .upgrade : .invalid(.unaskedUpgrade)
            }
            // HTTP/1.0 callers cannot take 1xx (RFC 9110 15.2).
            return .interim(forward: version != .http10)
        }
        // A server that answered before the request body ended leaves no boundary to continue after.
        var keep = callerKeepAlive && requestDone && !shuttingDown
        var reframe = Reframe.asIs
        if _slowPath(framing == .untilClose) {
            if namesChunked { return .invalid(.chunkedNotLast) }
            // Chunked for an HTTP/1.1 caller, so a cut cannot pass for the end (the upstream's FIN becomes the last
            // chunk), and the caller's connection keeps a boundary. Not over a transfer coding the head already
            // names: rare, and whether it could take chunked on top is not berth's to guess; those are cut with a
            // reset, like any close-delimited body to an HTTP/1.0 caller.
            if version != .http10 && !hasTransferEncoding {
                reframe = .chunk
            } else {
                if hasTransferEncoding && version == .http10 { return .invalid(.codingForHTTP10) }
                keep = false
            }
        } else if framing == .chunked && version == .http10 {
            if hasOtherCoding { return .invalid(.codingForHTTP10) }
            // An HTTP/1.0 caller cannot decode chunked (RFC 9112 6.1): strip the framing and end the body by closing.
            reframe = .dechunk
            keep = false
        }
        return .final(Final(framing: framing, callerKeepAlive: keep, reframe: reframe))
    }
}

extension ResponsePlan {
    /// Whether the Transfer-Encoding lines of `headers` name a coding besides chunked. Out of the common path (a
    /// chunked body to an HTTP/1.0 caller), so the Strings it makes cost nothing that matters.
    static func namesOtherCoding(_ headers: HTTPHeaders) -> Bool { namesCoding(headers) { $0 != "chunked" } }

    /// Whether the Transfer-Encoding lines of `headers` name chunked. Read only for a close-delimited body.
    static func namesChunked(_ headers: HTTPHeaders) -> Bool { namesCoding(headers) { $0 == "chunked" } }

    /// Whether a coding of the Transfer-Encoding lines of `headers`, lowercased, is one `matches` accepts.
    private static func namesCoding(_ headers: HTTPHeaders, _ matches: (String) -> Bool) -> Bool {
        for value in headers.values(named: "transfer-encoding") {
            for coding in value.split(separator: ",") {
                var name = coding
                while let c = name.first, c == " " || c == "\t" { name = name.dropFirst() }
                while let c = name.last, c == " " || c == "\t" { name = name.dropLast() }
                if !name.isEmpty && matches(name.lowercased()) { return true }
            }
        }
        return false
    }
}
