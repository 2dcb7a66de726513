import Foundation
public import VigilCore

extension PipelineSpec {
    /// What each partition of this pipeline computes, compiled from the file: windows, the sensor types'
    /// instrument checks and alarm rules with their alert policies, alert deadlines, routes and suppression,
    /// anomaly scoring and the grade model. Outputs are switched on by the job's topics (a pipeline without a
    /// grades sink computes no grades).
    public var partitionSettings: PartitionPipelineSettings {
        var p = PartitionPipelineSettings(windows: windows.map { .init(name: $0.name, spec: $0.window) })
        if let readings = sources.readings {
            p.outOfOrderness = readings.outOfOrderness
            p.idleTimeout = readings.idleTimeout
            p.decoder = readings.decoder
        }
        // Every type's points are checked against its instrument range (and for FROZEN when analog).
        p.sensorTypes = sensorTypes.map { type in
            SensorTypePlan(
                name: type.name, match: type.match, rule: type.thresholdRule,
                policy: AlertPolicy(level1: type.severity1, level2: type.severity2, notify: type.notify),
                check: DeviceCheck(
                    rangeMin: type.rangeMin ?? -.infinity, rangeMax: type.rangeMax ?? .infinity, analog: type.analog,
                    staleAfter: staleAfter(of: type), period: type.period))
        }
        p.frozenAfter = anomalies.frozenAfter
        p.alarms.routes = alerts.routes.map { AlertRoute(levels: Set($0.levels), kinds: Set($0.kinds), topic: $0.topic) }
        for (level, ms) in alerts.deadlines { p.alarms.deadlines[level] = ms }
        p.alarms.suppression.chatterCount = alerts.chatterRaises
        p.alarms.suppression.chatterWindow = alerts.chatterWithin
        p.alarms.suppression.chatterHold = alerts.chatterHold
        p.alarms.suppression.floodWindow = alerts.floodWindow
        p.alarms.suppression.floodStart = alerts.floodStart
        p.alarms.suppression.floodEnd = alerts.floodEnd
        p.alarms.hotWorkKinds = Set(risk.hotWorkKinds)
        p.sensorUnit = sources.permitsSensorUnit.flatMap(SensorUnitPattern.reader)
        p.offlineAfter = anomalies.offlineAfter
        p.anomalySettings = anomalySettings
        p.anomalyFloor = anomalies.floor
        p.scoreAnomalies = anomalies.floor <= 1
        var g = PartitionPipelineSettings.Grading()
        g.grader = risk.grader
        g.factorWeights = risk.factors
        g.heartbeat = risk.heartbeat
        g.redAlarmFor = risk.redAlarmFor
        g.interruptionShare = risk.interruptionShare
        g.interruptionYellowAfter = risk.interruptionFor
        g.tankAlarmFor = risk.tankAlarmFor
        g.tankGrades = Set(risk.tankGrades)
        g.commitmentDue = risk.commitmentDue
        g.offlineNoticeGrace = risk.offlineNoticeGrace
        g.offlineKPIWindow = risk.offlineKPIWindow
        p.grading = g
        return p
    }
}

extension PipelineSpec {
    /// The anomaly scorer's settings from the `anomalies` section and the time zone.
    public var anomalySettings: AnomalySettings {
        var settings = AnomalySettings()
        settings.window = anomalies.window
        settings.warmUp = anomalies.warmUp
        settings.staleAfter = anomalies.staleAfter
        settings.seasonal = anomalies.seasonal
        settings.seasonalMinDays = anomalies.seasonalMinDays
        settings.seasonalAlpha = anomalies.seasonalAlpha
        settings.utcOffset = utcOffset
        return settings
    }

    /// When a point of `type` is stale (`DOMAIN.md` §5): no reading for more than max(3 × its nominal
    /// `period`, `anomalies.stale_after`).
    public func staleAfter(of type: SensorTypeSpec) -> Int64 { max(3 * type.period, anomalies.staleAfter) }
}

/// Reads a point's unit from its sensor id: the first capture group of a regular expression
/// (`sources.permits.sensor_unit`), so that a permit naming a unit covers that unit's points only.
public enum SensorUnitPattern: Sendable {
    /// A reader for `pattern`, nil when it is not a regular expression (the loader reports that).
    public static func reader(_ pattern: String) -> (@Sendable (String) -> String?)? {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let compiled = CompiledPattern(regex)
        return { id in compiled.firstCapture(in: id) }
    }
}

/// A compiled regular expression shared by the partitions' pipelines (NSRegularExpression is immutable and
/// documented as safe to match from several threads).
private final class CompiledPattern: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }

    func firstCapture(in id: String) -> String? {
        let match = regex.firstMatch(in: id, range: NSRange(id.startIndex..., in: id))
        return match.flatMap { $0.numberOfRanges > 1 ? Range($0.range(at: 1), in: id) : nil }.map { String(id[$0]) }
    }
}
