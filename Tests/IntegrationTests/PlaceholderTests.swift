import XCTest
@testable import BerthCore
final class PlaceholderIntegrationTests: XCTestCase { func testVersion() { XCTAssertFalse(berthVersion.isEmpty) } }
