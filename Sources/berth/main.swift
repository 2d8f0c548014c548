// Command-line entry point: hands the arguments to the `berth` command.
import BerthCore

// The proxy holds SIGHUP, SIGTERM and SIGINT from its first instruction until it watches them (EarlySignals); `ctl`
// (whose `top` ends on Ctrl-C) and `check-config` keep the default actions.
if !["ctl", "check-config"].contains(CommandLine.arguments.dropFirst().first ?? "") { EarlySignals.hold() } else { EarlySignals.release() }
BerthCommand.main()
