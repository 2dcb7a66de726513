// Anomaly scores of a partition's readings.
extension PartitionPipeline {
    /// Scores every reading of the batch and emits those at or above the floor
    /// (`Schemas/risk.anomalies.v1.schema.json`).
    func scoreAnomalies(_ batch: ReadingBatch, into out: inout PartitionOutputs) {
        let rules = settings.alarms.rules
        // `readingLimits` holds this batch's limits when the alarm rules ran on it (detectAlarms).
        let limits = rules.isEmpty || readingLimits.count != batch.count ? nil : readingLimits
        scorer.score(batch, limits: limits, into: &anomalyScores)
        // A local copy: the loop reads it per reading, and a class property costs an exclusivity check per access.
        let scores = anomalyScores
        let floor = settings.anomalyFloor
        let sensors = decoder.sensors
        let enterprises = decoder.enterprises
        var counts: [AnomalyScore.Detector: Int64] = [:]
        defer { for (detector, n) in counts { out.counters.anomaliesByDetector[detector.rawValue, default: 0] += n } }
        for k in 0..<batch.count where scores.score[k] >= floor {
            let slot = batch.sensor[k]
            let detector = scores.detector[k]
            json.removeAll()
            json.append("{\"enterprise\":\"")
            enterprises.withKeyBytes(for: batch.enterprise[k]) { json.appendEscaped($0) }
            json.append("\",\"sensor\":\"")
            sensors.withKeyBytes(for: slot) { json.appendEscaped($0) }
            json.append("\",\"ts\":")
            json.append(batch.eventTime[k])
            json.append(",\"value\":")
            json.append(batch.value[k])
            json.append(",\"score\":")
            json.append(scores.score[k])
            json.append(",\"detector\":\"")
            json.appendRaw(detector.rawValue)
            json.append("\",\"baseline\":")
            json.append(scores.baseline[k])
            json.append(",\"limit\":")
            json.append(scores.limit[k])
            json.append(",\"rule\":")
            if let r = self.detector.ruleIndex(slot: slot) {
                json.append("\"")
                json.appendEscaped(rules[r].rule.name)
                json.append("\"")
            } else {
                json.append("null")
            }
            json.append("}")
            enterprises.withKeyBytes(for: batch.enterprise[k]) { key in
                json.buffer.withUnsafeBytes { value in _ = out.append(.anomalies, key: key, value: value) }
            }
            counts[detector, default: 0] += 1
        }
    }
}
