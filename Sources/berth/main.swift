// Command-line entry point: hands the arguments to the `berth` command.
import ArgumentParser
import BerthCore

// SIGHUP, SIGTERM and SIGINT are blocked from the executable's first instruction (Sources/CEarlySignals), so which
// command runs can wait for the parse: options may come before a subcommand (`berth --log-level info ctl top` is
// `ctl top`), and the first argument alone gave such a `ctl` the server's handler, which only notes the signals for
// a watch `ctl` never makes (review11). The proxy notes them until it watches them (EarlySignals.hold); every other
// command keeps the default actions (`top` ends on Ctrl-C). A parse that fails exits with the signals still blocked.
do {
    var command = try BerthCommand.parseAsRoot()
    if command is BerthCommand { EarlySignals.hold() } else { EarlySignals.release() }
    try command.run()
} catch {
    BerthCommand.exit(withError: error)
}
