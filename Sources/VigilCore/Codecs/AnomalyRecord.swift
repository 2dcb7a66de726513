#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The encoder of the anomalies topic (`Schemas/risk.anomalies.v1.schema.json`): one scored reading, in the
/// schema's key order. Ids are copied from the partition's key dictionaries as bytes (no string is built per
/// record: a noisy plant emits many of these).
enum AnomalyRecord {
    /// Writes the record into `out` (cleared first).
    static func encode(
        into out: inout JSONBytes, enterprise: UInt32, sensor: UInt32, sensors: KeyInterner, enterprises: KeyInterner, ts: Int64,
        value: Double, score: Double, detector: AnomalyScore.Detector, baseline: Double, limit: Double, log10Tail: Double, rule: String?
    ) {
        out.removeAll()
        out.append("{\"enterprise\":\"")
        enterprises.withKeyBytes(for: enterprise) { out.appendEscaped($0) }
        out.append("\",\"sensor\":\"")
        sensors.withKeyBytes(for: sensor) { out.appendEscaped($0) }
        out.append("\",\"ts\":")
        out.append(ts)
        out.append(",\"value\":")
        out.append(value)
        out.append(",\"score\":")
        out.append(score)
        out.append(",\"detector\":\"")
        out.appendRaw(detector.rawValue)
        out.append("\",\"baseline\":")
        out.append(baseline)
        out.append(",\"limit\":")
        out.append(limit)
        out.append(",\"tail_probability\":")
        out.append(log10Tail.isNaN ? .nan : pow(10, log10Tail))
        out.append(",\"rule\":")
        if let rule {
            out.append("\"")
            out.appendEscaped(rule)
            out.append("\"")
        } else {
            out.append("null")
        }
        out.append("}")
    }
}

/// The value of a late reading's dead-letter record: the reading as it was understood, as JSON.
/// A reading as JSON: the dead-letter value of a reading the pipeline refused.
enum RefusedReadingRecord {
    static func json(enterprise: String, sensor: String, ts: Int64, value: Double) -> String {
        "{\"enterprise\":\(jsonString(enterprise)),\"sensor\":\(jsonString(sensor)),\"ts\":\(ts),\"value\":\(value)}"
    }
}
