// Anomaly scores of a partition's readings.
extension PartitionPipeline {
    /// Scores every reading of the batch and emits those at or above the floor
    /// (`Schemas/risk.anomalies.v1.schema.json`).
    func scoreAnomalies(_ batch: ReadingBatch, into out: inout PartitionOutputs) {
        let rules = settings.alarmRules
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
            let rule = catalog.rule(of: slot).map { rules[$0].name }
            AnomalyRecord.encode(
                into: &json, enterprise: batch.enterprise[k], sensor: slot, sensors: sensors, enterprises: enterprises, ts: batch.eventTime[k],
                value: batch.value[k], score: scores.score[k], detector: detector, baseline: scores.baseline[k], limit: scores.limit[k],
                log10Tail: scores.log10Tail[k], rule: rule)
            enterprises.withKeyBytes(for: batch.enterprise[k]) { key in
                json.buffer.withUnsafeBytes { value in _ = out.append(.anomalies, key: key, value: value) }
            }
            counts[detector, default: 0] += 1
        }
    }
}
