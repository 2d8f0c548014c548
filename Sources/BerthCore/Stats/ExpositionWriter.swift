// The Prometheus text exposition format (version 0.0.4), written as bytes: families, samples, label sets, histograms.

/// Appends exposition lines to a `ByteWriter`. Label sets are byte strings built once (one per upstream, one per
/// reason, cause or bucket bound) and copied into each line: at 10,000 upstreams String interpolation per line held
/// the worker's loop for ~0.6 s.
struct ExpositionWriter: ~Copyable {
    private var out: ByteWriter

    /// An empty page with room for `capacity` bytes.
    init(capacity: Int) { out = ByteWriter(capacity: capacity) }

    /// The page, handed over without a copy.
    consuming func finish() -> OwnedBytes { out.finishOwned() }

    /// `# HELP` and `# TYPE` of a family.
    mutating func family(_ name: StaticString, _ type: StaticString, _ help: StaticString) {
        out.put("# HELP ")
        out.put(name)
        out.put(UInt8(ascii: " "))
        out.put(help)
        out.put("\n# TYPE ")
        out.put(name)
        out.put(UInt8(ascii: " "))
        out.put(type)
        out.put(UInt8(ascii: "\n"))
    }

    /// One sample of a count: `name{upstream,extra} value`.
    mutating func sample(_ name: StaticString, suffix: StaticString = "", _ upstream: borrowing [UInt8], _ extra: [UInt8]?, _ value: UInt64) {
        head(name, suffix, upstream, extra)
        out.decimal(value)
        out.put(UInt8(ascii: "\n"))
    }

    /// One sample of a level.
    mutating func sample(_ name: StaticString, _ upstream: borrowing [UInt8], _ value: Int) {
        head(name, "", upstream, nil)
        out.decimal(value)
        out.put(UInt8(ascii: "\n"))
    }

    /// One sample of a level labelled with an upstream whose label set is used once (no label array built).
    mutating func sample(_ name: StaticString, upstream key: PoolKey, _ value: Int) {
        out.put(name)
        out.put("{upstream=\"")
        escaped(key.description)
        out.put("\"} ")
        out.decimal(value)
        out.put(UInt8(ascii: "\n"))
    }

    /// One sample of a real number (seconds).
    mutating func sample(_ name: StaticString, suffix: StaticString = "", _ upstream: borrowing [UInt8], _ value: Double) {
        head(name, suffix, upstream, nil)
        out.put(String(value))
        out.put(UInt8(ascii: "\n"))
    }

    /// A line written as it is (`berth_build_info{...} 1`).
    mutating func raw(_ s: String) { out.put(s) }

    /// A histogram in seconds: cumulative `_bucket` lines per bound and `+Inf`, then `_sum` and `_count`.
    mutating func histogram(_ name: StaticString, _ upstream: borrowing [UInt8], _ h: borrowing Histogram) {
        var cumulative: UInt64 = 0
        for i in 0..<Histogram.bounds.count {
            cumulative += h.counts[i]
            sample(name, suffix: "_bucket", upstream, ExpositionWriter.boundLabels[i], cumulative)
        }
        sample(name, suffix: "_bucket", upstream, ExpositionWriter.infLabel, h.count)
        sample(name, suffix: "_sum", upstream, Double(h.sum) / 1e9)
        sample(name, suffix: "_count", upstream, nil, h.count)
    }

    /// The name and label set of a line, up to its value: the braces only when there is a label.
    @inline(__always)
    private mutating func head(_ name: StaticString, _ suffix: StaticString, _ upstream: borrowing [UInt8], _ extra: [UInt8]?) {
        out.put(name)
        out.put(suffix)
        if !upstream.isEmpty || extra != nil {
            out.put(UInt8(ascii: "{"))
            out.put(upstream)
            if let extra {
                if !upstream.isEmpty { out.put(UInt8(ascii: ",")) }
                out.put(extra)
            }
            out.put(UInt8(ascii: "}"))
        }
        out.put(UInt8(ascii: " "))
    }

    /// `upstream="HOST:PORT"`, escaped.
    static func upstreamLabel(_ key: PoolKey) -> [UInt8] { label("upstream", key.description) }

    /// `name="value"`, the value escaped per the exposition format.
    static func label(_ name: String, _ value: String) -> [UInt8] {
        var w = ExpositionWriter(capacity: name.utf8.count + value.utf8.count + 8)
        w.out.put(name)
        w.out.put("=\"")
        w.escaped(value)
        w.out.put(UInt8(ascii: "\""))
        return w.out.bytes
    }

    /// A label value, escaped per the exposition format: backslash, double quote and newline.
    private mutating func escaped(_ value: String) {
        for c in value.utf8 {
            switch c {
            case UInt8(ascii: "\\"): out.put("\\\\")
            case UInt8(ascii: "\""): out.put("\\\"")
            case UInt8(ascii: "\n"): out.put("\\n")
            default: out.put(c)
            }
        }
    }

    /// `reason="..."` per close reason and `cause="..."` per Berth-Error cause, by index.
    /// Each label set's `key="value"` texts, built once.
    private static let labelTexts: [[[UInt8]]] = StatLabels.allCases.map { l in l.values.map { label(l.key, $0) } }

    /// The `key="value"` texts of `l`, in storage order.
    static func labels(_ l: StatLabels) -> [[UInt8]] { labelTexts[StatLabels.allCases.firstIndex(of: l)!] }
    private static let boundLabels = Histogram.bounds.map { label("le", String(Double($0) / 1e9)) }
    private static let infLabel = label("le", "+Inf")
}
