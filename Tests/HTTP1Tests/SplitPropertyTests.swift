// Property: where the input is split never changes the outcome of a parse or of body decoding.
import XCTest
@testable import HTTP1

final class SplitPropertyTests: XCTestCase {
    /// Every two-way split, plus one byte at a time.
    func splittings(_ count: Int) -> [[Int]] {
        var all: [[Int]] = (0...count).map { [$0, count] }
        all.append(Array(repeating: 1, count: max(count, 1)))
        all.append([3, 5, 7, 11, 13, 17, 19, 23].flatMap { [$0, 1] })
        return all
    }

    func testRequestParsesAreTheSameForEverySplit() {
        let corpus = validRequests.map { $0 + "NEXT" } + invalidRequests.map(\.0)
        for input in corpus {
            let bytes = [UInt8](input)
            let whole = parseRequest(bytes)
            for s in splittings(bytes.count) {
                XCTAssertEqual(parseRequest(bytes, splits: s), whole, "\(input.debugDescription) split \(s)")
            }
        }
    }

    func testResponseParsesAreTheSameForEverySplit() {
        let corpus = validResponses.map { $0 + "body" } + invalidResponses.map(\.0)
        for input in corpus {
            let bytes = [UInt8](input)
            let whole = parseResponse(bytes)
            for s in splittings(bytes.count) {
                XCTAssertEqual(parseResponse(bytes, splits: s), whole, "\(input.debugDescription) split \(s)")
            }
        }
    }

    func testLimitErrorsAreTheSameForEverySplit() {
        var limits = HTTP1Limits()
        limits.maxStartLineBytes = 20
        limits.maxHeaderSectionBytes = 40
        limits.maxHeaderCount = 3
        let corpus = [
            "GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaa\u{1}aaaaaaaaaaaaaaaa\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaa\r\n\r\n",
        ]
        for input in corpus {
            let bytes = [UInt8](input)
            let whole = parseRequest(bytes, limits: limits)
            for s in splittings(bytes.count) {
                XCTAssertEqual(parseRequest(bytes, splits: s, limits: limits), whole, "\(input.debugDescription) split \(s)")
            }
        }
    }

    func testChunkedDecodingIsTheSameForEverySplit() {
        let corpus = validChunkedBodies.map { $0 + "NEXT" } + invalidChunkedBodies.map(\.0)
        for input in corpus {
            let bytes = [UInt8](input)
            let whole = describe(decodeBody(bytes, framing: .chunked))
            for s in splittings(bytes.count) {
                XCTAssertEqual(describe(decodeBody(bytes, framing: .chunked, splits: s)), whole, "\(input.debugDescription) split \(s)")
            }
        }
    }
}
