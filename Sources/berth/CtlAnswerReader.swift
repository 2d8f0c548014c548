// Reads one HTTP answer for `berth ctl` within a deadline and a size bound, stopping at the end its framing names.
import Foundation
import HTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Reads an answer off a connected socket: the head, then the body its Content-Length names, its chunks (an HTTP/1.1
/// intermediary may re-frame berth's answer) or up to the server's close, never past `CtlAnswerReader.maxAnswer` and
/// never past the deadline. A server that keeps its connection
/// open after a whole answer, drips bytes, or sends without end cannot hold the client or its memory.
struct CtlAnswerReader {
    /// The largest answer taken: /stats at 10,000 upstreams is ~14 MB, so this is ~180,000 upstreams. Past it the
    /// client stops with an error rather than keep what a broken or hostile server sends.
    static let maxAnswer = 256 << 20
    /// The largest head taken (berth's are a few hundred bytes).
    static let maxHead = 64 << 10

    let fd: CInt
    /// Named in messages.
    let from: String
    /// Seconds the whole answer may take (the client's `--timeout`).
    let timeout: Double

    /// The answer, or the reason there is none.
    func read() throws(CtlError) -> CtlResponse {
        let deadline = ProcessInfo.processInfo.systemUptime + timeout
        var data = [UInt8]()
        var head: (response: CtlResponse, bodyStart: Int, framing: Framing)?
        var scanned = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // A chunked body: the decoder and the payload so far. The bytes it took leave `data` (only an unfinished
        // chunk line stays), so the answer is held once, not as its chunks and its payload.
        var chunks = BodyDecoder(framing: .chunked)
        var payload = [UInt8]()
        while true {
            if let h = head {
                switch h.framing {
                case .length(let length) where data.count - h.bodyStart >= length:
                    return finish(h.response, data[h.bodyStart..<(h.bodyStart + length)])
                case .chunked:
                    let taken = data[h.bodyStart...].withUnsafeBytes { bytes -> Result<Int, HTTP1Error> in
                        do throws(HTTP1Error) {
                            return .success(try chunks.consume(bytes) { payload.append(contentsOf: bytes[$0]) })
                        } catch { return .failure(error) }
                    }
                    guard case .success(let n) = taken else { throw CtlError(unreachable: "\(from) sent a chunked answer that is not valid chunked framing") }
                    data.removeSubrange(h.bodyStart..<(h.bodyStart + n))
                    if chunks.isComplete { return finish(h.response, payload[...]) }
                default: break
                }
            }
            let left = deadline - ProcessInfo.processInfo.systemUptime
            guard left > 0 else { throw late(received: !data.isEmpty) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw CtlError(unreachable: "reading from \(from): \(errnoText())") }
            if ready == 0 { throw late(received: !data.isEmpty) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n < 0 { throw CtlError(unreachable: "reading from \(from): \(errnoText())") }
            if n == 0 {
                guard let h = head else {
                    throw CtlError(unreachable: data.isEmpty ? "\(from) closed the connection without answering" : "\(from) did not answer HTTP")
                }
                guard case .close = h.framing else { throw CtlError(unreachable: "\(from) closed the connection in the middle of its answer") }
                return finish(h.response, data[h.bodyStart...])
            }
            guard data.count + payload.count + n <= Self.maxAnswer else {
                throw CtlError(unreachable: "\(from) sent an answer larger than \(Self.maxAnswer >> 20) MiB; berth ctl does not take it")
            }
            data.append(contentsOf: buffer[0..<n])
            while head == nil {
                // Only the bytes that may complete the blank line are searched again, so a long head costs one pass.
                guard let end = data[max(0, scanned - 3)...].firstRange(of: [13, 10, 13, 10]) else {
                    scanned = data.count
                    guard data.count <= Self.maxHead else { throw CtlError(unreachable: "\(from) did not answer HTTP (no end of head in \(Self.maxHead >> 10) KiB)") }
                    break
                }
                let parsed = try Self.parseHead(data[..<end.lowerBound], from: from)
                // An interim answer (100 Continue, 103) is followed by the real one: dropped, as HTTP clients do.
                if (100..<200).contains(parsed.response.status) && parsed.response.status != 101 {
                    data.removeFirst(end.upperBound)
                    scanned = 0
                    continue
                }
                head = (parsed.response, end.upperBound, parsed.framing)
            }
        }
    }

    /// The answer with its body.
    private func finish(_ response: CtlResponse, _ body: ArraySlice<UInt8>) -> CtlResponse {
        var r = response
        r.body = Data(body)
        return r
    }

    /// Out of time: nothing came, or the answer did not come whole.
    private func late(received: Bool) -> CtlError {
        CtlError(unreachable: "reading from \(from): " + (received ? "no whole answer within \(timeout) s" : "no answer within \(timeout) s"))
    }

    /// How an answer's body ends.
    enum Framing: Equatable {
        /// After this many bytes (Content-Length).
        case length(Int)
        /// At its last chunk.
        case chunked
        /// At the server's close.
        case close
    }

    /// Status and headers (names lowercased) of a head, and how its body ends. A Content-Length that is not one
    /// decimal number within `maxAnswer`, two that differ, one beside a Transfer-Encoding, or a coding other than
    /// chunked is an error (RFC 9112 6.3: a framing read two ways), not a guess.
    static func parseHead(_ bytes: ArraySlice<UInt8>, from: String) throws(CtlError) -> (response: CtlResponse, framing: Framing) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].utf8.count == 3,
              let status = Int(statusParts[1]), (100...599).contains(status) else {
            throw CtlError(unreachable: "\(from) did not answer HTTP (\(lines[0].prefix(80)))")
        }
        var headers: [String: String] = [:]
        var lengths = Set<String>()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { lengths.insert(value) }
            if name == "transfer-encoding", let earlier = headers[name] {
                headers[name] = earlier + ", " + value
            } else {
                headers[name] = value
            }
        }
        if let codings = headers["transfer-encoding"] {
            guard lengths.isEmpty else {
                throw CtlError(unreachable: "\(from) answered with both Content-Length and Transfer-Encoding")
            }
            guard codings.lowercased() == "chunked" else {
                throw CtlError(unreachable: "\(from) answered with Transfer-Encoding \(codings.prefix(40)), which berth ctl does not decode")
            }
            return (CtlResponse(status: status, headers: headers, body: Data()), .chunked)
        }
        guard let text = lengths.first else { return (CtlResponse(status: status, headers: headers, body: Data()), .close) }
        guard lengths.count == 1 else { throw CtlError(unreachable: "\(from) answered with Content-Length fields that differ") }
        guard !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(text) else {
            throw CtlError(unreachable: "\(from) answered with an invalid Content-Length (\(text.prefix(40)))")
        }
        guard n <= maxAnswer else {
            throw CtlError(unreachable: "\(from) announced an answer of \(n) bytes, larger than \(maxAnswer >> 20) MiB; berth ctl does not take it")
        }
        return (CtlResponse(status: status, headers: headers, body: Data()), .length(n))
    }
}
