/// Encodes window rows as JSON (`Schemas/risk.window-stats.v1.schema.json`) into a reusable byte buffer.
///
/// ```json
/// {"window_id":"E0042-GT-101/1732300020000/1732300080000","kind":"on_time","enterprise":"E0042",
///  "sensor":"E0042-GT-101","window_start":1732300020000,"window_end":1732300080000,"count":60,
///  "mean":12.5,"min":11.9,"max":13.1,"stddev":0.31}
/// ```
///
/// Only the statistics the window computes are written; a non-finite value is written as `null`. The output
/// is a deterministic function of the row: the same input yields byte-identical records, and `window_id`
/// (`[window name /] sensor / start / end`) identifies the window across `on_time`, `revision` and `final` rows.
public struct WindowStatsEncoder: Sendable {
    /// The encoded bytes of the last ``encode(_:row:sensors:enterprises:)`` call.
    public var buffer: [UInt8] { out.buffer }
    private var out = JSONBytes()
    public let statistics: StatisticSet

    public init(statistics: StatisticSet) {
        self.statistics = statistics
    }

    /// Encodes row `i` of `rows`, replacing the buffer's contents.
    ///
    /// - Parameter window: The pipeline's name for the window operator (part of `window_id`), or nil.
    public mutating func encode(
        _ rows: WindowResults, row i: Int, sensors: KeyInterner, enterprises: KeyInterner, window: String? = nil
    ) {
        out.removeAll()
        let sensor = rows.sensor[i]
        let start = rows.windowStart[i]
        let end = rows.windowEnd[i]
        append("{\"window_id\":\"")
        if let window {
            appendEscaped(window)
            append("/")
        }
        sensors.withKeyBytes(for: sensor) { appendEscaped($0) }
        append("/")
        append(start)
        append("/")
        append(end)
        append("\",")
        if let window {
            append("\"window\":\"")
            appendEscaped(window)
            append("\",")
        }
        append("\"kind\":\"")
        append(rows.kind[i].description)
        append("\",\"enterprise\":\"")
        enterprises.withKeyBytes(for: rows.enterprise[i]) { appendEscaped($0) }
        append("\",\"sensor\":\"")
        sensors.withKeyBytes(for: sensor) { appendEscaped($0) }
        append("\",\"window_start\":")
        append(start)
        append(",\"window_end\":")
        append(end)
        append(",\"count\":")
        append(rows.count[i])
        let s = statistics
        if s.contains(.sum) { field("sum", rows.sum[i]) }
        if s.contains(.mean) { field("mean", rows.mean[i]) }
        if s.contains(.variance) { field("variance", rows.variance[i]) }
        if s.contains(.stddev) { field("stddev", rows.variance[i].squareRoot()) }
        if s.contains(.min) { field("min", rows.min[i]) }
        if s.contains(.max) { field("max", rows.max[i]) }
        if s.contains(.first) { field("first", rows.first[i]) }
        if s.contains(.last) { field("last", rows.last[i]) }
        if s.contains(.rateOfChange) {
            let r =
                rows.lastTime[i] > rows.firstTime[i]
                ? (rows.last[i] - rows.first[i]) * 1000 / Double(rows.lastTime[i] - rows.firstTime[i]) : Double.nan
            field("rate_of_change", r)
        }
        if s.contains(.ewma) { field("ewma", rows.ewma[i]) }
        if s.contains(.p50) { field("p50", rows.p50[i]) }
        if s.contains(.p95) { field("p95", rows.p95[i]) }
        if s.contains(.p99) { field("p99", rows.p99[i]) }
        append("}")
    }

    private mutating func field(_ name: StaticString, _ x: Double) {
        out.append(",\"")
        out.append(name)
        out.append("\":")
        out.append(x)
    }

    private mutating func append(_ s: StaticString) { out.append(s) }
    private mutating func append(_ s: String) { out.appendRaw(s) }
    private mutating func append(_ n: Int64) { out.append(n) }
    private mutating func appendEscaped(_ text: String) { out.appendEscaped(text) }
    private mutating func appendEscaped(_ bytes: UnsafeRawBufferPointer) { out.appendEscaped(bytes) }
}
