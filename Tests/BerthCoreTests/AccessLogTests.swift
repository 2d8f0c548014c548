// The access log's fields: the same in both formats, escaped and capped when taken from the request, traceparent rules.
import Foundation
import XCTest
import HTTP1
@testable import BerthCore

final class AccessLogTests: XCTestCase {
    private let ms: Nanos = 1_000_000

    /// An exchange as the session leaves it: a POST that went out on a pooled connection, found its peer dead and
    /// was answered on a fresh one.
    private func deadPeerExchange() -> Exchange {
        var x = Exchange()
        x.startedAt = 1_000 * ms
        x.request.method = .post
        x.request.target = "/run"
        x.key = PoolKey(host: "fn-42", port: 8080)
        x.requestBodyBytes = 5
        x.responseStatus = 200
        x.responseBytes = 120
        x.facts.sent(openedAt: 400 * ms, epoch: 3, reused: true, idleSince: 900 * ms, now: 1_000 * ms)
        x.retry = .deadPeer
        x.facts.connectStartedAt = 1_250 * ms
        x.facts.sent(openedAt: 1_251 * ms + 500_000, epoch: 3, reused: false, idleSince: 0, now: 1_252 * ms)
        x.sentAt = 1_252 * ms
        x.firstByteAt = 1_254 * ms + 250_000
        return x
    }

    private func render(_ x: Exchange, _ format: LogFormat, now: Nanos) -> String {
        var w = AccessLineWriter()
        return AccessField.line(x, now: now, format: format, label: "berth", into: &w) { String(decoding: $0, as: UTF8.self) }
    }

    private func json(_ line: String) throws -> [String: Any] {
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// A logfmt line's fields in order (bare values, or JSON-quoted ones, as logfmt readers take them).
    private func logfmt(_ line: String) throws -> [(String, String)] {
        var out: [(String, String)] = []
        var rest = Substring(line.dropLast())
        while !rest.isEmpty {
            let eq = try XCTUnwrap(rest.firstIndex(of: "="))
            let key = String(rest[..<eq])
            rest = rest[rest.index(after: eq)...]
            if rest.first == "\"" {
                var i = rest.index(after: rest.startIndex)
                while rest[i] != "\"" { i = rest.index(i, offsetBy: rest[i] == "\\" ? 2 : 1) }
                let quoted = String(rest[...i])
                out.append((key, try XCTUnwrap(JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String)))
                rest = rest[rest.index(after: i)...]
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                out.append((key, String(rest[..<end])))
                rest = rest[end...]
            }
            rest = rest.drop { $0 == " " }
        }
        return out
    }

    /// Should carry the same fields, in the table's order, in both formats, after the fields every log line has.
    func testBothFormatsCarryTheTableInOrder() throws {
        let x = deadPeerExchange()
        let names = ["ts", "level", "label", "msg"] + AccessField.allCases.map(\.rawValue)
        let text = render(x, .logfmt, now: 1_260 * ms)
        XCTAssertEqual(try logfmt(text).map(\.0), names)
        XCTAssertNotNil(text.range(of: #"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info label=berth msg=access method="#, options: .regularExpression), text)
        let line = render(x, .json, now: 1_260 * ms)
        let doc = try json(line)
        XCTAssertEqual(Set(doc.keys), Set(names))
        // JSON keeps the order on the line too.
        let positions = names.map { line.range(of: "\"\($0)\":")!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
    }

    /// Should tell a dead-peer retry's story: the pooled connection's age, idle time and epoch, both attempts, the
    /// connect of the fresh one, time to first byte from its send, and the total.
    func testDeadPeerRetryFields() throws {
        let x = deadPeerExchange()
        let text = Dictionary(uniqueKeysWithValues: try logfmt(render(x, .logfmt, now: 1_260 * ms)))
        XCTAssertEqual(text["msg"], "access")
        XCTAssertEqual(text["method"], "POST")
        XCTAssertEqual(text["target"], "/run")
        XCTAssertEqual(text["upstream"], "fn-42:8080")
        XCTAssertEqual(text["status"], "200")
        XCTAssertEqual(text["berth_error"], "-")
        XCTAssertEqual(text["reused"], "true")
        XCTAssertEqual(text["conn_age_ms"], "600.000")
        XCTAssertEqual(text["conn_idle_ms"], "100.000")
        XCTAssertEqual(text["epoch"], "3")
        XCTAssertEqual(text["generation"], "-")
        XCTAssertEqual(text["attempts"], "first,dead-peer")
        XCTAssertEqual(text["acquire_ms"], "0.000")
        XCTAssertEqual(text["connect_ms"], "1.500")
        XCTAssertEqual(text["ttfb_ms"], "2.250")
        XCTAssertEqual(text["total_ms"], "260.000")
        XCTAssertEqual(text["trace_id"], "-")

        let doc = try json(render(x, .json, now: 1_260 * ms))
        XCTAssertEqual(doc["status"] as? Int, 200)
        XCTAssertEqual(doc["reused"] as? Bool, true)
        XCTAssertEqual(doc["conn_age_ms"] as? Double, 600)
        XCTAssertEqual(doc["attempts"] as? [String], ["first", "dead-peer"])
        XCTAssertEqual(doc["connect_ms"] as? Double, 1.5)
        XCTAssertEqual(doc["ttfb_ms"] as? Double, 2.25)
        XCTAssertTrue(doc["generation"] is NSNull && doc["trace_id"] is NSNull && doc["berth_error"] is NSNull)
    }

    /// Should write `none` for the pool facts of a request that never went out, and list no attempt before routing.
    func testARequestNeverSentHasNoPoolFacts() throws {
        var x = Exchange()
        x.startedAt = 10 * ms
        x.errorCause = .badRequest
        let doc = try json(render(x, .json, now: 11 * ms))
        XCTAssertEqual(doc["status"] as? Int, 400)
        XCTAssertEqual(doc["berth_error"] as? String, "bad-request")
        for name in ["upstream", "reused", "conn_age_ms", "conn_idle_ms", "epoch", "connect_ms", "ttfb_ms"] {
            XCTAssertTrue(doc[name] is NSNull, name)
        }
        XCTAssertEqual(doc["attempts"] as? [String], [])
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: try logfmt(render(x, .logfmt, now: 11 * ms)))["attempts"], "-")
    }

    /// Should log the status the caller got when the response was cut after its head: the upstream's, with the cut's
    /// cause beside it.
    func testACutResponseKeepsTheUpstreamsStatus() throws {
        var x = deadPeerExchange()
        x.response = .complete
        x.errorCause = .responseTruncated
        let doc = try json(render(x, .json, now: 1_260 * ms))
        XCTAssertEqual(doc["status"] as? Int, 200)
        XCTAssertEqual(doc["berth_error"] as? String, "response-truncated")
    }

    /// Should never let a request value end the line, open a field or break the JSON: CR, LF, quotes, `=`, control
    /// bytes, DEL and non-ASCII bytes are escaped, and a long value is capped.
    func testHostileRequestValuesCannotForgeALine() throws {
        var x = deadPeerExchange()
        let hostile = "/a\r\nts=2026 level=info msg=access forged=1\"},{\"forged\":\"1\u{1}\u{7f}\\é"
        x.request.target = hostile
        x.request.method = .other("P\"O=ST")
        x.generation = "gen\nx"
        for format in [LogFormat.logfmt, .json] {
            let line = render(x, format, now: 1_260 * ms)
            XCTAssertFalse(line.dropLast().contains { $0 == "\n" || $0 == "\r" }, "\(format): \(line)")
            XCTAssertTrue(line.utf8.allSatisfy { $0 == 10 || (0x20..<0x7F).contains($0) }, "\(format): printable ASCII only")
            let values: [String: String]
            if format == .json {
                let doc = try json(line)
                XCTAssertNil(doc["forged"])
                values = doc.compactMapValues { $0 as? String }
            } else {
                let fields = try logfmt(line)
                XCTAssertEqual(fields.map(\.0), ["ts", "level", "label", "msg"] + AccessField.allCases.map(\.rawValue))
                values = Dictionary(uniqueKeysWithValues: fields)
            }
            // Bytes outside printable ASCII come back as \u00XX of each byte: é is its two UTF-8 bytes.
            XCTAssertEqual(values["target"], hostile.replacingOccurrences(of: "é", with: "\u{c3}\u{a9}"), "\(format)")
            XCTAssertEqual(values["method"], "P\"O=ST")
            XCTAssertEqual(values["generation"], "gen\nx")
        }
        x.request.target = "/" + String(repeating: "a", count: 5_000)
        let doc = try json(render(x, .json, now: 1_260 * ms))
        XCTAssertEqual(doc["target"] as? String, "/" + String(repeating: "a", count: AccessLineWriter.valueCap - 1) + "...")
        let text = Dictionary(uniqueKeysWithValues: try logfmt(render(x, .logfmt, now: 1_260 * ms)))
        XCTAssertEqual(text["target"], "/" + String(repeating: "a", count: AccessLineWriter.valueCap - 1) + "...")
    }

    /// Should log the trace id of one valid traceparent and nothing of an invalid one (W3C Trace Context 3.2).
    func testTraceParentRules() throws {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736"
        let valid = ["00-\(id)-00f067aa0ba902b7-01", "00-\(id)-00f067aa0ba902b7-00", "01-\(id)-00f067aa0ba902b7-09",
                     "cc-\(id)-00f067aa0ba902b7-01-future"]
        let invalid = ["", "garbage", "00-\(id)-00f067aa0ba902b7-01-", "00-\(id.uppercased())-00f067aa0ba902b7-01",
                       "ff-\(id)-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                       "00-\(id)-0000000000000000-01", "00-\(id)-00f067aa0ba902b7-0g", "00_\(id)-00f067aa0ba902b7-01",
                       "01-\(id)-00f067aa0ba902b7-01x", "00-\(id)\"}-00f067aa0ba902-01", "00-\(id)-00f067aa0ba902b7-1"]
        for v in valid {
            XCTAssertEqual(traceID([v]), id, v)
        }
        for v in invalid {
            XCTAssertNil(traceID([v]), v)
        }
        XCTAssertNil(traceID([]))
        XCTAssertNil(traceID([valid[0], valid[0]]), "two traceparent fields are invalid")

        var x = deadPeerExchange()
        x.request.headers.append(name: "Traceparent", value: valid[0])
        XCTAssertEqual(try json(render(x, .json, now: 1_260 * ms))["trace_id"] as? String, id)
    }

    private func traceID(_ values: [String]) -> String? {
        var h = HTTPHeaders()
        for v in values { h.append(name: "traceparent", value: v) }
        return TraceParent.traceID(of: h).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Should document every field, in the table's order, in docs/configuration.md's "Access log" table.
    func testTheDocsListEveryField() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try XCTUnwrap(text.components(separatedBy: "### Access log").dropFirst().first)
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { $0.split(separator: "`")[1] }
        XCTAssertEqual(rows.map(String.init), AccessField.allCases.map(\.rawValue))
    }
}
