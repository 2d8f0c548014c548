// Public face of the berth proxy core; filled by the data-path work.
/// berth version string.
public let berthVersion = "0.1.0"
