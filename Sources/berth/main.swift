// Command-line entry point: hands the arguments to the `berth` command.
BerthCommand.main()
