// Test helpers: feed fixtures whole or split, and reduce parse outcomes to comparable summaries.
import XCTest
@testable import HTTP1

/// The observable outcome of a request parse, compared across feeding strategies.
func summarize(_ h: RequestHead) -> String {
    let auth = h.targetAuthority.map { "\($0.host):\($0.port.map(String.init) ?? "-")" } ?? "nil"
    let fields = h.headers.elements.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    return "\(h.method.rawValue) \(h.target) form=\(h.targetForm) auth=\(auth) scheme=\(h.scheme ?? "nil") path=\(h.path) "
        + "v=\(h.version.major).\(h.version.minor) framing=\(h.framing) ka=\(h.keepAlive) up=\(h.isUpgrade) "
        + "expect=\(h.expectsContinue) [\(fields)]"
}

func summarize(_ h: ResponseHead) -> String {
    let fields = h.headers.elements.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    return "v=\(h.version.major).\(h.version.minor) \(h.status) '\(h.reason)' ka=\(h.keepAlive) "
        + "framing(GET)=\(h.framing(requestMethod: .get)) [\(fields)]"
}

enum Outcome: Equatable, CustomStringConvertible {
    case head(String, consumed: Int)
    case incomplete
    case failed(HTTP1Error)
    var description: String {
        switch self {
        case .head(let s, let c): return "head(\(s), consumed: \(c))"
        case .incomplete: return "incomplete"
        case .failed(let e): return "failed(\(e))"
        }
    }
}

/// Feeds `bytes` in the given slice lengths; `consumed` is reported as an offset into the whole input.
func parseRequest(_ bytes: [UInt8], splits: [Int]? = nil, limits: HTTP1Limits = .default) -> Outcome {
    var p = RequestHeadParser(limits: limits)
    return feed(bytes, splits: splits, { (b) throws(HTTP1Error) in try p.parse(b) }, { summarize(p.head) })
}

func parseResponse(_ bytes: [UInt8], splits: [Int]? = nil, limits: HTTP1Limits = .default) -> Outcome {
    var p = ResponseHeadParser(limits: limits)
    return feed(bytes, splits: splits, { (b) throws(HTTP1Error) in try p.parse(b) }, { summarize(p.head) })
}

func feed(_ bytes: [UInt8], splits: [Int]?, _ parse: (UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult,
          _ summary: () -> String) -> Outcome {
    var offset = 0
    let lengths = splits ?? [bytes.count]
    var idx = 0
    while offset < bytes.count || (offset == 0 && bytes.isEmpty) {
        let len = idx < lengths.count ? min(lengths[idx], bytes.count - offset) : bytes.count - offset
        idx += 1
        let slice = Array(bytes[offset..<(offset + len)])
        do {
            let r = try slice.withUnsafeBytes { (b) throws(HTTP1Error) -> HeadParseResult in try parse(b) }
            if case .complete(let c) = r { return .head(summary(), consumed: offset + c) }
        } catch {
            return .failed(error as! HTTP1Error)
        }
        offset += len
        if bytes.isEmpty { break }
    }
    return .incomplete
}

extension Array where Element == UInt8 {
    /// Byte fixtures written as Swift strings with escapes.
    init(_ s: String) { self = Array(s.utf8) }
}

/// Runs a chunked body through a decoder in the given slice lengths.
func decodeBody(_ bytes: [UInt8], framing: BodyFraming, splits: [Int]? = nil, limits: HTTP1Limits = .default) -> Result<(consumed: Int, complete: Bool), HTTP1Error> {
    var d = BodyDecoder(framing: framing, limits: limits)
    var offset = 0
    let lengths = splits ?? [bytes.count]
    var idx = 0
    var total = 0
    while offset < bytes.count {
        let len = idx < lengths.count ? min(lengths[idx], bytes.count - offset) : bytes.count - offset
        idx += 1
        let slice = Array(bytes[offset..<(offset + len)])
        do {
            let n = try slice.withUnsafeBytes { (b) throws(HTTP1Error) -> Int in try d.consume(b) }
            total += n
            if n < len || d.isComplete { break }
        } catch {
            return .failure(error as! HTTP1Error)
        }
        offset += len
    }
    return .success((total, d.isComplete))
}

/// A head parser as the rule-by-rule tests drive it: whole input, fresh parser.
protocol WholeHeadParser {
    associatedtype Head
    init(limits: HTTP1Limits)
    mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HeadParseResult
    var head: Head { get }
}

extension RequestHeadParser: WholeHeadParser {}
extension ResponseHeadParser: WholeHeadParser {}

/// Parses `s` whole with a fresh `P`; the head when it completes exactly at the end, else a test failure and nil.
func parsedWhole<P: WholeHeadParser>(_: P.Type, _ s: String, file: StaticString, line: UInt) -> P.Head? {
    var p = P(limits: .default)
    let bytes = [UInt8](s)
    do {
        let r = try bytes.withUnsafeBytes { (b) throws(HTTP1Error) in try p.parse(b) }
        XCTAssertEqual(r, .complete(consumed: bytes.count), file: file, line: line)
        return p.head
    } catch {
        XCTFail("unexpected \(error) for \(s.debugDescription)", file: file, line: line)
        return nil
    }
}
