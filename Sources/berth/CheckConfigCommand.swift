// `berth check-config FILE`: validates a configuration and prints every effective value without starting anything.
import ArgumentParser
import BerthCore
import Foundation

/// Resolves the configuration as `berth` would and prints it, or the error with exit status 64.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a YAML configuration file (with any BERTH_* variables and flags) and print the effective configuration."
    )

    @Argument(help: ArgumentHelp("The YAML configuration file; it replaces --config.", valueName: "file"))
    var file: String

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let resolution = try resolveOrExit(
            flags: options.flags(configFile: file), environment: ProcessInfo.processInfo.environment)
        // The start's checks of this host too (descriptor limit, freezer cgroups): the same verdict as the start.
        let hostWarning: String?
        do {
            hostWarning = try BerthServer.checkHost(resolution.configuration)
        } catch {
            FileHandle.standardError.write(Data("berth: \(error.message)\n".utf8))
            throw ExitCode(ConfigError.exitStatus)
        }
        // Warnings go to stderr, so that stdout stays a configuration file.
        var warnings = resolution.warnings
        if let hostWarning { warnings.append("descriptor limit: \(hostWarning)") }
        for warning in warnings { FileHandle.standardError.write(Data("berth: warning: \(warning)\n".utf8)) }
        print(resolution.configuration.renderedAsYAML())
    }
}
