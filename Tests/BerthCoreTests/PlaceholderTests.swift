import XCTest
@testable import BerthCore
final class PlaceholderCoreTests: XCTestCase { func testVersion() { XCTAssertFalse(berthVersion.isEmpty) } }
