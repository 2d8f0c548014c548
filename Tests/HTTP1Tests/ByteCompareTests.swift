// Tests of the word-at-a-time byte comparisons (bytesEqual, sameBytes): every length, a difference at every place.
import XCTest
@testable import HTTP1

final class ByteCompareTests: XCTestCase {
    /// Should find equal runs equal and a run with any one byte changed, at any place, unequal, for every length up to
    /// 40 (short runs, one word, the overlapping last word, several words), and runs of other lengths unequal.
    func testEveryLengthAndEveryPlace() {
        let source = (0..<48).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for n in 0...40 {
            let a = Array(source[0..<n])
            a.withUnsafeBytes { pa in
                Array(a).withUnsafeBytes { pb in
                    XCTAssertTrue(bytesEqual(pa, pb), "\(n)")
                    XCTAssertTrue(sameBytes(pa, pb), "\(n)")
                }
                for place in 0..<n {
                    for flip: UInt8 in [0x01, 0x20, 0x80] {
                        var b = a
                        b[place] ^= flip
                        b.withUnsafeBytes { pb in
                            XCTAssertFalse(bytesEqual(pa, pb), "\(n) at \(place)")
                            XCTAssertFalse(sameBytes(pa, pb), "\(n) at \(place)")
                        }
                    }
                }
                Array(source[0..<(n + 1)]).withUnsafeBytes { longer in
                    XCTAssertFalse(bytesEqual(pa, longer), "\(n)")
                    XCTAssertFalse(sameBytes(pa, longer), "\(n)")
                }
            }
        }
    }
}
