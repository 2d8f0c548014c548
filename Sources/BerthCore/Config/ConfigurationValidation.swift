// The checks that need the whole resolved configuration: safety of the listeners and consistency of the limits.

/// Rules spanning several settings; single values are checked as they are read.
enum ConfigurationValidation {
    /// Throws the first rule `configuration` breaks.
    static func validate(_ configuration: BerthConfiguration) throws(ConfigError) {
        if !configuration.listen.isLoopback, configuration.allow.isEmpty {
            throw ConfigError("listen \(configuration.listen) is reachable from other machines, so allow must list the destinations callers may reach (berth refuses to run as an open proxy); set --allow, BERTH_ALLOW or allow: in the file")
        }
        if !configuration.admin.isLoopback, configuration.adminTokenFile == nil {
            throw ConfigError("admin \(configuration.admin) is reachable from other machines, so admin-token-file is required")
        }
        let limits = configuration.limits
        if limits.maxPerRoute > limits.maxTotal {
            throw ConfigError("\(ConfigKey.maxPerRoute.name) (\(limits.maxPerRoute)) exceeds \(ConfigKey.maxTotal.name) (\(limits.maxTotal)); write it at most \(limits.maxTotal)")
        }
        // Each worker owns an equal share of every limit, so each limit must give every worker at least one.
        let workers = configuration.workers
        let shared: [(ConfigKey, Int)] = [(.maxTotal, limits.maxTotal), (.maxPerRoute, limits.maxPerRoute), (.maxPending, limits.maxPending)]
        for (key, value) in shared where value < workers {
            throw ConfigError("\(key.name) (\(value)) is below workers (\(workers)); each worker owns a share of it, so it must be at least \(workers)")
        }
        for destination in configuration.destinations {
            // One cgroup is one container, which berth knows as the pool of one host:port.
            if destination.freezer != nil, PoolKey(parsing: destination.match) == nil {
                throw ConfigError("destination \(destination.match): \(ConfigKey.freezer.name) needs a match of the form host:port (the container's upstream), not a host or CIDR block")
            }
            if let perRoute = destination.maxPerRoute, perRoute > limits.maxTotal {
                throw ConfigError("destination \(destination.match): \(ConfigKey.maxPerRoute.name) (\(perRoute)) exceeds \(ConfigKey.maxTotal.name) (\(limits.maxTotal)); write it at most \(limits.maxTotal)")
            }
            for (key, value) in [(ConfigKey.maxPerRoute, destination.maxPerRoute), (.maxPending, destination.maxPending)] {
                if let value, value < workers {
                    throw ConfigError("destination \(destination.match): \(key.name) (\(value)) is below workers (\(workers)); each worker owns a share of it")
                }
            }
        }
        if !configuration.listen.picksFreePort, configuration.listen == configuration.admin {
            let what = if case .unix = configuration.listen { "paths" } else { "ports" }
            throw ConfigError("listen and admin are both \(configuration.listen); give them different \(what)")
        }
        if configuration.listen != configuration.admin, case .tcp(_, let port) = configuration.listen,
           configuration.listen.overlaps(configuration.admin) {
            // Otherwise the second bind failed with "Address already in use", status 1: read as another process.
            throw ConfigError("listen \(configuration.listen) and admin \(configuration.admin) take the same port \(port) "
                + "on the same address (a wildcard address takes every address of its family); give them different ports")
        }
        if configuration.listen != configuration.admin, case .unix(let a) = configuration.listen,
           case .unix(let b) = configuration.admin, UnixSocketPath.sameFile(a, b) {
            // Otherwise the admin found the proxy's own socket live: "another process is listening", status 1.
            throw ConfigError("listen \(configuration.listen) and admin \(configuration.admin) name the same socket file; "
                + "give them different paths")
        }
    }
}

extension ListenAddress {
    /// Whether binding both TCP addresses would collide: one port (not 0), one family, and the same address or the
    /// family's wildcard (`0.0.0.0`, `[::]`; IPv6 listeners are IPV6_V6ONLY, so `[::]` leaves IPv4 alone), with
    /// `localhost` the 127.0.0.1 it binds.
    func overlaps(_ other: ListenAddress) -> Bool {
        guard case .tcp(let host, let port) = self, case .tcp(let otherHost, let otherPort) = other, port != 0,
              port == otherPort,
              let a = IPAddressLiteral.bytes(host == "localhost" ? "127.0.0.1" : host),
              let b = IPAddressLiteral.bytes(otherHost == "localhost" ? "127.0.0.1" : otherHost),
              a.count == b.count else { return false }
        return a == b || a.allSatisfy { $0 == 0 } || b.allSatisfy { $0 == 0 }
    }
}
