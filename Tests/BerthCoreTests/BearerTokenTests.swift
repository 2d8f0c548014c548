// The admin token compare: right answers, and every byte of the configured token read whatever is presented.
import XCTest
@testable import BerthCore

/// The configured token, counting which of its bytes the compare reads.
private final class ReadLog {
    var reads: [Int] = []
}

private struct CountingBytes: RandomAccessCollection {
    let bytes: [UInt8]
    let log: ReadLog
    var startIndex: Int { 0 }
    var endIndex: Int { bytes.count }
    subscript(i: Int) -> UInt8 {
        log.reads.append(i)
        return bytes[i]
    }
}

final class BearerTokenTests: XCTestCase {
    private let token = Array("correct-horse-battery-staple".utf8)

    /// Should accept the token itself and nothing else: not a prefix, an extension, one changed byte or nothing.
    func testOnlyTheTokenMatches() {
        XCTAssertTrue(BearerToken.matches(token, token))
        let others: [[UInt8]] = [[], Array(token.dropLast()), token + [0x41], [0x41] + token.dropFirst(), Array(repeating: 0x61, count: token.count)]
        for given in others {
            XCTAssertFalse(BearerToken.matches(given, token), String(decoding: given, as: UTF8.self))
        }
        XCTAssertFalse(BearerToken.matches(token, [UInt8]()))
    }

    /// Should read every byte of the configured token, once, whatever the length and bytes of the presented one:
    /// no early exit on a length difference or on the first mismatch, so the time taken tells nothing about it.
    func testTheWholeTokenIsReadWhateverIsPresented() {
        let presented: [[UInt8]] = [[], [0x63], Array(token.prefix(5)), [0x41] + token.dropFirst(), token, token + token]
        for given in presented {
            let log = ReadLog()
            _ = BearerToken.matches(given, CountingBytes(bytes: token, log: log))
            XCTAssertEqual(log.reads, Array(0..<token.count), "presented \(given.count) bytes")
        }
    }
}
