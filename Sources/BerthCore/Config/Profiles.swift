// The timeout profiles, as data: resolution starts from one, and the usage message is printed from the same table.

/// A named set of timeouts and pool sizes, following the canonical HttpClient configurations.
public struct TimeoutProfile: Hashable, Sendable {
    /// The name given to `--profile`.
    public let name: String
    public let connect: Duration
    public let socket: Duration
    public let acquire: Duration
    public let maxTotal: Int
    public let maxPerRoute: Int

    /// Every profile, in the order the usage message lists them.
    public static let all: [TimeoutProfile] = [
        TimeoutProfile(name: "same-region",
                       connect: .milliseconds(125), socket: .milliseconds(125), acquire: .milliseconds(125),
                       maxTotal: 200, maxPerRoute: 100),
        TimeoutProfile(name: "same-region-failover",
                       connect: .seconds(1), socket: .seconds(1), acquire: .seconds(1),
                       maxTotal: 200, maxPerRoute: 100),
        TimeoutProfile(name: "cross-region",
                       connect: .seconds(10), socket: .seconds(10), acquire: .seconds(10),
                       maxTotal: 200, maxPerRoute: 100),
        TimeoutProfile(name: "max-timeout",
                       connect: .seconds(60), socket: .seconds(300), acquire: .seconds(60),
                       maxTotal: 200, maxPerRoute: 100),
    ]

    /// The profile called `name`, if there is one.
    public static func named(_ name: String) -> TimeoutProfile? {
        all.first { $0.name == name }
    }

    /// The aligned table of profiles and what each sets, for usage and error messages.
    public static var table: String {
        // No description column: the table has to fit the 80 columns ArgumentParser wraps help text to.
        let header = ["profile", "connect", "socket", "acquire", "max-total", "max-per-route"]
        let rows = all.map { p in
            [p.name, DurationSyntax.format(p.connect), DurationSyntax.format(p.socket), DurationSyntax.format(p.acquire),
             String(p.maxTotal), String(p.maxPerRoute)]
        }
        let lines = [header] + rows
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            zip(cells, widths).enumerated().map { index, pair in
                index == cells.count - 1 ? pair.0 : pair.0.padding(to: pair.1)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

private extension String {
    /// Pads with spaces on the right; `Foundation`'s padding is not needed for plain ASCII tables.
    func padding(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
