// Duration syntax: what each unit means, what is refused, and that printing reads back.
import XCTest
@testable import BerthCore

final class ConfigDurationTests: XCTestCase {
    /// Should read milliseconds, seconds, minutes and hours, with integer or decimal numbers.
    func testEachUnitAndDecimalsAreRead() throws {
        XCTAssertEqual(try DurationSyntax.parse("125ms"), .milliseconds(125))
        XCTAssertEqual(try DurationSyntax.parse("2s"), .seconds(2))
        XCTAssertEqual(try DurationSyntax.parse("5m"), .seconds(300))
        XCTAssertEqual(try DurationSyntax.parse("1h"), .seconds(3600))
        XCTAssertEqual(try DurationSyntax.parse("1.5s"), .milliseconds(1500))
        XCTAssertEqual(try DurationSyntax.parse("0.25m"), .seconds(15))
        XCTAssertEqual(try DurationSyntax.parse("1.1s"), .milliseconds(1100))
        XCTAssertEqual(try DurationSyntax.parse("24h"), .seconds(86_400))
    }

    /// Should refuse text that is not a duration, with the hint on how to write one.
    func testGarbageIsNotADuration() {
        XCTAssertEqual(errorMessage { try DurationSyntax.parse("abc") }, "\"abc\" is not a duration (write 125ms, 2s or 5m)")
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("500us") }.contains("is not a duration"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("1.s") }.contains("is not a duration"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("") }.contains("is not a duration"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("infinite") }.contains("is not a duration"))
    }

    /// Should tell a zero written with a unit (a valid admin threshold, idle_for=0s) from everything else.
    func testZeroWithAUnitIsRecognised() {
        for zero in ["0s", "0ms", "0m", "0h", "0.0s", "00s"] { XCTAssertTrue(DurationSyntax.isZero(zero), zero) }
        for other in ["0", "s", ".0s", "0.s", "0.1s", "1s", "-0s", "0x", "0 s", ""] { XCTAssertFalse(DurationSyntax.isZero(other), other) }
    }

    /// Should refuse a bare number, since seconds and milliseconds are both plausible.
    func testABareNumberHasNoUnit() {
        XCTAssertEqual(errorMessage { try DurationSyntax.parse("5") }, "\"5\" has no unit (write 125ms, 2s or 5m)")
    }

    /// Should refuse zero, negative, sub-millisecond and longer-than-a-day timeouts.
    func testZeroNegativeTinyAndAbsurdDurationsAreRefused() {
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("0s") }.contains("is zero"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("0.0ms") }.contains("is zero"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("-1s") }.contains("is negative"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("0.5ms") }.contains("shorter than 1ms"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("25h") }.contains("longer than 24h"))
        XCTAssertTrue(errorMessage { try DurationSyntax.parse("99999999999999999h") }.contains("longer than 24h"))
    }

    /// Should print each duration in the shortest form that reads back to the same value.
    func testFormattedDurationsReadBack() throws {
        XCTAssertEqual(DurationSyntax.format(.milliseconds(125)), "125ms")
        XCTAssertEqual(DurationSyntax.format(.seconds(120)), "2m")
        XCTAssertEqual(DurationSyntax.format(.milliseconds(1500)), "1500ms")
        XCTAssertEqual(DurationSyntax.format(.microseconds(1500)), "1.5ms")
        for text in ["125ms", "1.5s", "5m", "1h", "1.25ms", "90s"] {
            let duration = try DurationSyntax.parse(text)
            XCTAssertEqual(try DurationSyntax.parse(DurationSyntax.format(duration)), duration, text)
        }
    }
}
