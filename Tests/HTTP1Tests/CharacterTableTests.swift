// The constant byte-class table matches the RFC rules it encodes.
import XCTest
@testable import HTTP1

final class CharacterTableTests: XCTestCase {
    func testTableMatchesTheRules() {
        let tchars = Array("!#$%&'*+-.^_`|~".utf8)
        let subDelims = Array("!$&'()*+,;=-._~%".utf8)
        XCTAssertEqual(charClassTable.utf8CodeUnitCount, 256)
        for c in 0..<256 {
            let b = UInt8(c)
            var f: UInt8 = 0
            let alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if alnum || tchars.contains(b) { f |= CharClass.token }
            if (b >= 0x21 && b != 0x7F) || b == SP || b == HTAB { f |= CharClass.fieldValue }
            if b >= 0x21 && b <= 0x7E && b != 0x23 { f |= CharClass.target }
            let hex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
            if hex { f |= CharClass.hex | CharClass.ipv6 }
            if b == COLON || b == 0x2E { f |= CharClass.ipv6 }
            if alnum || subDelims.contains(b) { f |= CharClass.regName }
            XCTAssertEqual(charClass[c], f, "byte \(c)")
        }
    }
}
