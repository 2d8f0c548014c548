// The process-level server: starts the workers and the admin listener, prints the ready line, handles signals.
import Logging

/// Runs berth until SIGTERM or SIGINT.
public final class BerthServer {
    /// Reads the configuration again on SIGHUP; throwing keeps the old one (the error is logged).
    public typealias Reloader = @Sendable () throws -> BerthConfiguration

    let configuration: BerthConfiguration
    let logger: Logger
    let reloader: Reloader?

    /// A server for `configuration`; `reloader` serves SIGHUP.
    public init(configuration: BerthConfiguration, logger: Logger, reloader: Reloader? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.reloader = reloader
    }

    /// Binds, prints `berth listening proxy=HOST:PORT admin=HOST:PORT`, serves, and returns the exit status.
    public func run() throws -> Int32 {
        fatalError("stub: the data-path work fills this in")
    }
}
