import XCTest
@testable import HTTP1
final class PlaceholderHTTP1Tests: XCTestCase { func testVersionConstants() { XCTAssertEqual(HTTPVersion.http11.minor, 1) } }
