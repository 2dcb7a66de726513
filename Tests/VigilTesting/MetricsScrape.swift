import Foundation

/// One scrape of a process's `/metrics` (Prometheus text format), fetched with curl on loopback.
///
/// ```swift
/// let m = MetricsScrape(port: 9464)
/// m?.values("vigil_consumer_lag")        // one sample per partition
/// m?.value("vigil_assigned_partitions")  // the first sample
/// ```
public struct MetricsScrape: Sendable {
    /// The sample lines (comments dropped).
    public let samples: [String]

    /// Nil if nothing answered on `port`.
    public init?(port: Int) {
        guard let (status, out, _) = try? runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/metrics"]),
            status == 0
        else { return nil }
        samples = out.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    }

    /// The values of every sample of metric `name`, whatever its labels.
    public func values(_ name: String) -> [Double] {
        samples.filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }.compactMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// The value of the first sample of metric `name`.
    public func value(_ name: String) -> Double? { values(name).first }
}
