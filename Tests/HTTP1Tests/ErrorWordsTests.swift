// The codec's one table of error texts: words for every case, never a Swift case name, with the stable name after.
import XCTest
@testable import HTTP1

final class ErrorWordsTests: XCTestCase {
    static let all: [HTTP1Error] = [
        .invalidMethod, .invalidTarget, .invalidVersion, .unsupportedVersion,
        .startLineTooLong, .headerSectionTooLarge, .tooManyHeaders,
        .invalidHeaderName, .invalidHeaderValue, .obsFold, .whitespaceBeforeColon, .bareCR, .bareLF,
        .missingHost, .conflictingHost,
        .contentLengthWithTransferEncoding, .conflictingContentLength, .invalidContentLength,
        .unsupportedTransferEncoding, .invalidTransferEncoding,
        .invalidChunkSize, .invalidChunkFraming, .trailerTooLarge,
        .invalidStatusLine, .truncatedBody,
    ]

    /// Should say each fault in words (a sentence, no camelCase identifier, printable ASCII only, so it can go in any
    /// header or body), each differently, and end with the stable kebab name in parentheses.
    func testEveryCaseHasItsOwnWordsAndItsStableName() {
        var seen = Set<String>()
        for e in Self.all {
            let words = e.words
            XCTAssertTrue(words.contains(" "), "\(e): \(words)")
            XCTAssertNil(words.range(of: "\\b[a-z]+[A-Z][A-Za-z]*\\b", options: .regularExpression), "\(e): \(words)")
            XCTAssertTrue(words.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "\(e): \(words)")
            XCTAssertFalse(words.contains("\(e)"), "\(e): \(words)")
            XCTAssertEqual(e.detail, "\(words) (\(e.name))")
            seen.insert(words)
        }
        XCTAssertEqual(seen.count, Self.all.count, "two cases share their words")
    }
}
