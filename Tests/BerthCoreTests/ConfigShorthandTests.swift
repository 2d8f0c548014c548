// IPv4 shorthands (`127.1`, `0x7f.1`) in destination matches and allow rules: refused, as requests naming them are.
import XCTest
@testable import BerthCore

final class ConfigShorthandTests: XCTestCase {
    private let head = "profile: same-region\ndestinations:\n"

    /// Resolves `text` as berth.yaml with no other sources.
    private func resolveFile(_ text: String) throws(ConfigError) -> BerthConfiguration {
        try resolve(["config": ["berth.yaml"]], files: ["berth.yaml": text])
    }

    /// Should refuse a destination match that is an IPv4 shorthand, bare or with a port, naming the key, the value
    /// and the dotted form to write: no request can name it (item 64 answers such requests 400), so the entry could
    /// never apply.
    func testADestinationMatchInShorthandIsRefused() {
        let cases = [
            ("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"), ("127.0.0.01", "127.0.0.1"), ("10.1:8080", "10.0.0.1"), ("0", "0.0.0.0"),
            ("127.1.", "127.0.0.1"),
        ]
        for (match, dotted) in cases {
            let message = errorMessage { try resolveFile(head + "  - match: \"\(match)\"\n    socket-timeout: 2s\n") }
            let host = match.split(separator: ":").first.map(String.init) ?? match
            XCTAssertTrue(message.hasPrefix("berth.yaml:3: destinations[0].match: \"\(host)\" is an IPv4 address in shorthand"),
                          "\(match): \(message)")
            XCTAssertTrue(message.contains("write it dotted, as \(dotted)"), "\(match): \(message)")
        }
    }

    /// Should refuse an allow rule in shorthand the same way: a request naming it is refused before the allowlist.
    func testAnAllowRuleInShorthandIsRefused() {
        let message = errorMessage { try resolveFile("profile: same-region\nallow: [\"127.1\"]\n") }
        XCTAssertTrue(message.hasPrefix("berth.yaml:2: allow: \"127.1\" is an IPv4 address in shorthand"), message)
    }

    /// Should keep what is no shorthand: dotted quads, names that end in a label with letters, and what inet_aton
    /// refuses too (`256.1`), which glibc and requests take as a name.
    func testNamesAndDottedQuadsStay() throws {
        let configuration = try resolveFile(head + """
              - {match: "127.0.0.1:8080", socket-timeout: 2s}
              - {match: "api.internal", socket-timeout: 2s}
              - {match: "0x7f.example", socket-timeout: 2s}
              - {match: "256.1", socket-timeout: 2s}
            """)
        XCTAssertEqual(configuration.destinations.map(\.match), ["127.0.0.1:8080", "api.internal", "0x7f.example", "256.1"])
    }
}
