// The version berth reports in --version, /stats and its startup log line.

/// berth's release version.
public let berthVersion = "0.1.0"
