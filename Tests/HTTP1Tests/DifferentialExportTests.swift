// Writes this codec's verdicts on tests/differential/corpus.jsonl for the llhttp comparison (when BERTH_DIFF_OUT is set).
import Foundation
import XCTest
@testable import HTTP1

final class DifferentialExportTests: XCTestCase {
    static var corpusPath: String {
        if let p = ProcessInfo.processInfo.environment["BERTH_DIFF_CORPUS"] { return p }
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tests/differential/corpus.jsonl").path
    }

    func testDifferentialVerdictsAreWrittenForEveryCorpusMessage() throws {
        guard let outPath = ProcessInfo.processInfo.environment["BERTH_DIFF_OUT"] else {
            throw XCTSkip("set BERTH_DIFF_OUT to export verdicts for tests/differential")
        }
        let text = try String(contentsOfFile: Self.corpusPath, encoding: .utf8)
        var lines: [String] = []
        var count = 0
        for row in text.split(separator: "\n") {
            let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: String])
            let bytes = try XCTUnwrap(hexBytes(obj["hex"] ?? ""))
            var verdict = obj["kind"] == "request" ? requestVerdict(bytes) : responseVerdict(bytes)
            verdict["id"] = obj["id"]
            let data = try JSONSerialization.data(withJSONObject: verdict, options: [.sortedKeys])
            lines.append(String(decoding: data, as: UTF8.self))
            count += 1
        }
        XCTAssertGreaterThanOrEqual(count, 200)
        try (lines.joined(separator: "\n") + "\n").write(toFile: outPath, atomically: true, encoding: .utf8)
    }

    func hexBytes(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            guard let v = UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    func framingName(_ f: BodyFraming) -> String {
        switch f {
        case .none: return "none"
        case .contentLength(let n): return "length:\(n)"
        case .chunked: return "chunked"
        case .untilClose: return "close"
        }
    }

    /// Head, then body to its end; `end` is the offset where the message stops, -1 when it runs until EOF.
    func bodyEnd(_ bytes: [UInt8], from start: Int, framing: BodyFraming) -> (end: Int?, error: String?) {
        var d = BodyDecoder(framing: framing)
        do {
            let n = try Array(bytes[start...]).withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
            if framing == .untilClose { try d.finishAtEOF(); return (-1, nil) }
            return d.isComplete ? (start + n, nil) : (nil, "incomplete")
        } catch {
            return (nil, (error as! HTTP1Error).name)
        }
    }

    func requestVerdict(_ bytes: [UInt8]) -> [String: Any] {
        var p = RequestHeadParser()
        do {
            let r = try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }
            guard case .complete(let consumed) = r else { return ["accept": false, "error": "incomplete"] }
            let h = p.head
            let (end, error) = bodyEnd(bytes, from: consumed, framing: h.framing)
            if let error { return ["accept": false, "error": error] }
            return ["accept": true, "method": h.method.rawValue, "target": h.target, "framing": framingName(h.framing),
                    "keepalive": h.keepAlive, "end": end ?? -2]
        } catch {
            return ["accept": false, "error": (error as! HTTP1Error).name]
        }
    }

    func responseVerdict(_ bytes: [UInt8]) -> [String: Any] {
        var p = ResponseHeadParser()
        do {
            let r = try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }
            guard case .complete(let consumed) = r else { return ["accept": false, "error": "incomplete"] }
            let h = p.head
            let framing = h.framing(requestMethod: .get)
            let (end, error) = bodyEnd(bytes, from: consumed, framing: framing)
            if let error { return ["accept": false, "error": error] }
            return ["accept": true, "status": h.status, "framing": framingName(framing), "keepalive": h.keepAlive, "end": end ?? -2]
        } catch {
            return ["accept": false, "error": (error as! HTTP1Error).name]
        }
    }
}
