// The word-at-a-time field-value scan and lowercasing agree with the byte rules for every byte value at every position.
import XCTest
@testable import HTTP1

final class WordScanTests: XCTestCase {
    private func word(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    private func reference(_ bytes: [UInt8]) -> Bool {
        bytes.contains { $0 < 0x20 || $0 == 0x7F }
    }

    func testEveryByteValueAtEveryPosition() {
        for filler: UInt8 in [0x20, 0x61, 0x7E, 0x80, 0xFF] {
            for b in 0...255 {
                for pos in 0..<8 {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[pos] = UInt8(b)
                    XCTAssertEqual(wordHasControlOrDEL(word(bytes)), reference(bytes), "byte \(b) at \(pos), filler \(filler)")
                }
            }
        }
    }

    func testLowercasedWordAgreesWithLowerForEveryByteAtEveryPosition() {
        for filler: UInt8 in [0x41, 0x5A, 0x61, 0x40, 0x5B, 0xC1, 0xFF] {
            for b in 0...255 {
                for pos in 0..<8 {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[pos] = UInt8(b)
                    XCTAssertEqual(asciiLowercased(word(bytes)), word(bytes.map(lower)), "byte \(b) at \(pos), filler \(filler)")
                }
            }
        }
    }

    func testRandomWordsAgreeWithTheTable() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            // Mostly valid bytes, with an occasional control byte or DEL, so both answers are common.
            let bytes = (0..<8).map { _ -> UInt8 in
                let r = UInt8.random(in: 0...255, using: &rng)
                return Int.random(in: 0..<10, using: &rng) == 0 ? r : max(r, 0x20)
            }
            XCTAssertEqual(wordHasControlOrDEL(word(bytes)), reference(bytes), "\(bytes)")
            XCTAssertEqual(!reference(bytes), bytes.allSatisfy { isFieldValue($0) && $0 != HTAB })
        }
    }
}
