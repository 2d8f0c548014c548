// The start's checks of this host (descriptor limit, freezer cgroups) without starting, so `check-config` gives the start's verdict.

extension BerthServer {
    /// What a start of `configuration` on this host would refuse that the configuration alone cannot show: a
    /// descriptor limit (`RLIMIT_NOFILE`) that leaves callers no room, or a `freezer:` naming no cgroup with a
    /// freezer. Returns the start's descriptor warning, if it would log one. `check-config` runs it: a file it passes
    /// must not stop the start it was run for with status 64.
    public static func checkHost(_ configuration: BerthConfiguration) throws(ConfigError) -> String? {
        var resolved = configuration
        let warning = try DescriptorBudget.resolve(&resolved, nofile: DescriptorBudget.nofile())
        try checkFreezers(resolved)
        return warning
    }
}
