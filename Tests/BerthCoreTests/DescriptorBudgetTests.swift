// The descriptor budget: max-callers' auto value, the limit with no room for callers, and a value that does not fit.
import XCTest
@testable import BerthCore

final class DescriptorBudgetTests: XCTestCase {
    /// Should leave max-total, the admin's 16 and 32 + 8 per worker out of the limit, and with two workers or more
    /// 16 per worker for the callers waiting for room.
    func testAutoIsTheLimitLessUpstreamsAdminAndBerthsOwn() {
        XCTAssertEqual(DescriptorBudget.autoCallers(nofile: 1024, maxTotal: 200, workers: 1), 1024 - 200 - 16 - 40)
        XCTAssertEqual(DescriptorBudget.autoCallers(nofile: 256, maxTotal: 50, workers: 1), 150)
        XCTAssertEqual(DescriptorBudget.autoCallers(nofile: 65536, maxTotal: 200, workers: 4), 65536 - 200 - 16 - 64 - 64)
    }

    /// Should resolve auto into a number, which the startup log then shows.
    func testResolvingAutoStoresTheValue() throws {
        var c = try resolve(["profile": ["same-region"], "max-total": ["50"], "max-per-route": ["50"]])
        XCTAssertNil(c.limits.maxCallers)
        XCTAssertNil(try DescriptorBudget.resolve(&c, nofile: 256))
        XCTAssertEqual(c.limits.maxCallers, 150)
    }

    /// Should stop berth when the limit leaves no descriptor for callers, naming the limit and max-total.
    func testALimitWithNoRoomForCallersIsAConfigurationError() throws {
        var c = try resolve(["profile": ["same-region"]])
        let message = errorMessage { try DescriptorBudget.resolve(&c, nofile: 256) }
        XCTAssertTrue(message.contains("RLIMIT_NOFILE (256)") && message.contains("max-total (200)"), message)
    }

    /// Should keep an explicit value that does not fit, with a warning, and refuse one below the workers.
    func testAnExplicitValueIsKeptWithAWarningWhenItDoesNotFit() throws {
        var c = try resolve(["profile": ["same-region"], "max-callers": ["1000"]])
        let warning = try DescriptorBudget.resolve(&c, nofile: 1024)
        XCTAssertEqual(c.limits.maxCallers, 1000)
        XCTAssertTrue(warning?.contains("descriptors may run out") == true, "\(String(describing: warning))")
        var fits = try resolve(["profile": ["same-region"], "max-callers": ["100"]])
        XCTAssertNil(try DescriptorBudget.resolve(&fits, nofile: 1024))
        var few = try resolve(["profile": ["same-region"], "max-callers": ["1"], "workers": ["2"]])
        XCTAssertTrue(errorMessage { try DescriptorBudget.resolve(&few, nofile: 1024) }.contains("below workers"))
    }

    /// Should read `auto` and numbers, and refuse anything else.
    func testMaxCallersReadsAutoOrACount() throws {
        XCTAssertNil(try resolve(["profile": ["same-region"], "max-callers": ["auto"]]).limits.maxCallers)
        XCTAssertEqual(try resolve(["profile": ["same-region"], "max-callers": ["7"]]).limits.maxCallers, 7)
        XCTAssertTrue(errorMessage { try resolve(["profile": ["same-region"], "max-callers": ["0"]]) }.contains("at least 1"))
        XCTAssertTrue(errorMessage { try resolve(["profile": ["same-region"], "max-callers": ["many"]]) }.contains("not a whole number"))
    }

    /// Should refuse, or warn about, counts near Int.max instead of trapping on the sum (review7: the trap killed a
    /// running berth on a SIGHUP reload).
    func testCountsNearIntMaxAreRefusedOrWarnedNotATrap() throws {
        let huge = String(Int.max)
        var total = try resolve(["profile": ["same-region"], "max-total": [huge]])
        XCTAssertTrue(errorMessage { try DescriptorBudget.resolve(&total, nofile: 1024) }.contains("leaves no descriptors"))
        var both = try resolve(["profile": ["same-region"], "max-total": [huge], "max-callers": [huge]])
        XCTAssertTrue(try DescriptorBudget.resolve(&both, nofile: 1024)?.contains("descriptors may run out") == true)
        var callers = try resolve(["profile": ["same-region"], "max-callers": [huge]])
        XCTAssertTrue(try DescriptorBudget.resolve(&callers, nofile: 1024)?.contains("descriptors may run out") == true)
        XCTAssertEqual(DescriptorBudget.reserved(maxTotal: Int.max, workers: 64), Int.max)
    }
}
