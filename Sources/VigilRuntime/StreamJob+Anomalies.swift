import VigilCore
import VigilKafka

// Anomaly scores of a StreamJob's partitions.
extension StreamJob {
    /// Scores every reading of the partition's batch and produces those at or above the floor
    /// (`Schemas/risk.anomalies.v1.schema.json`), encoded into a reused byte buffer.
    func scoreAnomalies(partitionIndex i: Int) throws(KafkaError) {
        guard let topic = config.anomaliesTopic else { return }
        let state = partitions[i]
        let batch = state.batch
        let rules = config.alarmRules
        // `readingLimits` holds this batch's limits when the alarm rules ran on it (detectAlarms).
        let limits = rules.isEmpty || readingLimits.count != batch.count ? nil : readingLimits
        state.scorer.score(batch, limits: limits, into: &anomalyScores)
        // A local copy: the loop reads it per reading, and a class property costs an exclusivity check per access.
        let scores = anomalyScores
        let floor = config.anomalyFloor
        let sensors = state.decoder.sensors
        let enterprises = state.decoder.enterprises
        var counts: [AnomalyScore.Detector: Int64] = [:]
        defer { for (detector, n) in counts { stats.anomaliesByDetector[detector.rawValue, default: 0] += n } }
        for k in 0..<batch.count where scores.score[k] >= floor {
            let slot = batch.sensor[k]
            let detector = scores.detector[k]
            anomalyJSON.removeAll()
            anomalyJSON.append("{\"enterprise\":\"")
            enterprises.withKeyBytes(for: batch.enterprise[k]) { anomalyJSON.appendEscaped($0) }
            anomalyJSON.append("\",\"sensor\":\"")
            sensors.withKeyBytes(for: slot) { anomalyJSON.appendEscaped($0) }
            anomalyJSON.append("\",\"ts\":")
            anomalyJSON.append(batch.eventTime[k])
            anomalyJSON.append(",\"value\":")
            anomalyJSON.append(batch.value[k])
            anomalyJSON.append(",\"score\":")
            anomalyJSON.append(scores.score[k])
            anomalyJSON.append(",\"detector\":\"")
            anomalyJSON.appendRaw(detector.rawValue)
            anomalyJSON.append("\",\"baseline\":")
            anomalyJSON.append(scores.baseline[k])
            anomalyJSON.append(",\"limit\":")
            anomalyJSON.append(scores.limit[k])
            anomalyJSON.append(",\"rule\":")
            if let r = state.detector.ruleIndex(slot: slot) {
                anomalyJSON.append("\"")
                anomalyJSON.appendEscaped(rules[r].rule.name)
                anomalyJSON.append("\"")
            } else {
                anomalyJSON.append("null")
            }
            anomalyJSON.append("}")
            var failure: KafkaError? = nil
            enterprises.withKeyBytes(for: batch.enterprise[k]) { key in
                anomalyJSON.buffer.withUnsafeBytes { value in
                    do throws(KafkaError) {
                        try producer.produce(topic: topic, key: key, value: value)
                    } catch { failure = error }
                }
            }
            if let failure { throw failure }
            counts[detector, default: 0] += 1
        }
    }
}
