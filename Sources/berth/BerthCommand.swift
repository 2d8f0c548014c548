// The `berth` command: resolves the configuration, starts logging, and runs the server.
import ArgumentParser
import BerthCore
import Foundation
import Logging

/// Runs the proxy; `check-config` checks a configuration and `ctl` talks to a running berth.
struct BerthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "berth",
        abstract: "A sidecar HTTP/1.1 forward proxy that keeps pooled upstream connections safe across container freezes.",
        discussion: """
            Every flag also reads from BERTH_<NAME> (e.g. BERTH_SOCKET_TIMEOUT=2s) and from the same key in the \
            --config YAML file. Precedence: flags, then environment, then file, then profile.
            Durations are written 125ms, 1.5s, 5m or 1h.

            EXAMPLES
              Start as a sidecar for calls within the region:
                berth --profile same-region
              Override the profile's socket timeout:
                berth --profile cross-region --socket-timeout 30s
              Listen on all interfaces, allowing only the internal network:
                berth --profile same-region --listen :3128 --allow 10.0.0.0/8
              Run from a config file, and check it first:
                berth check-config /etc/berth/berth.yaml
                berth --config /etc/berth/berth.yaml

            \(ConfigurationLoader.profileListing)
            """,
        version: berthVersion,
        subcommands: [CheckConfigCommand.self, CtlCommand.self]
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let flags = options.flags()
        let environment = ProcessInfo.processInfo.environment
        let resolution = try resolveOrExit(flags: flags, environment: environment)
        let configuration = resolution.configuration
        LoggingSystem.bootstrap { label in
            StderrLogHandler(label: label, format: configuration.logFormat, logLevel: configuration.logLevel)
        }
        // Lines stderr could not take are reported in the log once it takes lines again.
        StderrWriter.reportLosses(json: configuration.logFormat == .json)
        let logger = Logger(label: "berth")
        logger.info("starting", metadata: [
            "version": "\(berthVersion)", "profile": "\(configuration.profile)", "workers": "\(configuration.workers)",
        ])
        for warning in resolution.warnings { logger.warning("\(warning)") }
        let server = BerthServer(
            configuration: configuration,
            logger: logger,
            // The environment is captured at start: a running process cannot see changes to it anyway.
            reloader: {
                let reloaded = try ConfigurationLoader.load(flags: flags, environment: environment)
                for warning in reloaded.warnings { logger.warning("\(warning)") }
                return reloaded.configuration
            }
        )
        let status: Int32
        do {
            status = try server.run()
        } catch let error as ConfigError {
            // A configured freezer cgroup berth cannot watch: a configuration error like any other.
            FileHandle.standardError.write(Data("berth: \(error.message)\n".utf8))
            throw ExitCode(ConfigError.exitStatus)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// The resolved configuration with its warnings, or the error on stderr and exit status 64.
func resolveOrExit(flags: ConfigFlags, environment: [String: String]) throws -> ConfigurationLoader.Resolution {
    do {
        return try ConfigurationLoader.load(flags: flags, environment: environment)
    } catch {
        FileHandle.standardError.write(Data("berth: \(error.message)\n".utf8))
        throw ExitCode(ConfigError.exitStatus)
    }
}
