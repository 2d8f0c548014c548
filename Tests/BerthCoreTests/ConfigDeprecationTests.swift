// metrics-upstreams and its deprecated alias metrics-per-upstream: what each value means, the warning, and precedence.
import XCTest
@testable import BerthCore

final class ConfigDeprecationTests: XCTestCase {
    /// Should default to active, and read none, active and all from every source.
    func testMetricsUpstreamsIsReadFromEverySource() throws {
        XCTAssertEqual(try resolve(["profile": ["same-region"]]).metricsUpstreams, .active)
        XCTAssertEqual(try resolve(["profile": ["same-region"], "metrics-upstreams": ["ALL"]]).metricsUpstreams, .all)
        XCTAssertEqual(try resolve(environment: ["BERTH_PROFILE": "same-region", "BERTH_METRICS_UPSTREAMS": "none"]).metricsUpstreams, .none)
        XCTAssertEqual(try resolve(["config": ["b.yaml"]], files: ["b.yaml": "profile: same-region\nmetrics-upstreams: active\n"]).metricsUpstreams, .active)
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "metrics-upstreams": ["some"]]) },
                       "--metrics-upstreams: \"some\" is not a metrics-upstreams choice (write none, active or all)")
    }

    /// Should map the old boolean to all or none, and warn where it was written with what to write instead.
    func testTheOldBooleanMapsAndWarns() throws {
        let on = try ConfigurationLoader.load(flags: ConfigFlags([.profile: ["same-region"], .metricsPerUpstream: ["true"]]), environment: [:])
        XCTAssertEqual(on.configuration.metricsUpstreams, .all)
        XCTAssertEqual(on.warnings, ["--metrics-per-upstream: deprecated; write --metrics-upstreams all instead, which means the same"])

        let off = try ConfigurationLoader.load(
            flags: ConfigFlags(), environment: ["BERTH_PROFILE": "same-region", "BERTH_METRICS_PER_UPSTREAM": "no"])
        XCTAssertEqual(off.configuration.metricsUpstreams, .none)
        XCTAssertFalse(off.configuration.metricsPerUpstream, "the renderer's boolean follows")
        XCTAssertEqual(off.warnings, ["BERTH_METRICS_PER_UPSTREAM: deprecated; write BERTH_METRICS_UPSTREAMS=none instead, which means the same"])

        let file = try ConfigurationLoader.load(
            flags: ConfigFlags([.config: ["b.yaml"]]), environment: [:],
            readFile: InMemoryFiles(files: ["b.yaml": "profile: same-region\n\nmetrics-per-upstream: false\n"]).reader)
        XCTAssertEqual(file.warnings, ["b.yaml:3: metrics-per-upstream: deprecated; write metrics-upstreams: none instead, which means the same"])
        XCTAssertTrue(file.configuration.renderedAsYAML().contains("\nmetrics-upstreams: none\n"))
        XCTAssertFalse(file.configuration.renderedAsYAML().contains("metrics-per-upstream"), "check-config prints the new key only")
    }

    /// Should let the higher source win whichever of the two names each uses.
    func testPrecedenceHoldsAcrossTheTwoNames() throws {
        let flagOld = try resolve(["profile": ["same-region"], "metrics-per-upstream": ["false"]], environment: ["BERTH_METRICS_UPSTREAMS": "all"])
        XCTAssertEqual(flagOld.metricsUpstreams, .none)
        let flagNew = try resolve(["profile": ["same-region"], "metrics-upstreams": ["active"]], environment: ["BERTH_METRICS_PER_UPSTREAM": "false"])
        XCTAssertEqual(flagNew.metricsUpstreams, .active)
    }

    /// Should refuse both names in one source, since neither could be said to win.
    func testBothNamesInOneSourceAreRefused() {
        XCTAssertEqual(errorMessage { try resolve(["config": ["b.yaml"]], files: ["b.yaml": "profile: same-region\nmetrics-per-upstream: true\nmetrics-upstreams: none\n"]) },
                       "berth.yaml:2: metrics-per-upstream: is a deprecated alias of metrics-upstreams, which this source also sets; keep only metrics-upstreams"
                        .replacingOccurrences(of: "berth.yaml", with: "b.yaml"))
        XCTAssertEqual(errorMessage { try resolve(["profile": ["same-region"], "metrics-per-upstream": ["true"], "metrics-upstreams": ["all"]]) },
                       "--metrics-per-upstream: is a deprecated alias of metrics-upstreams, which this source also sets; keep only metrics-upstreams")
    }
}
