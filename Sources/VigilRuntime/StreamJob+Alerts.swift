public import VigilCore
import VigilKafka

// Alarm transitions, deadlines, suppression, routes and data gaps of a StreamJob's partitions.
extension StreamJob {
    /// Runs the alarm rules over the partition's batch and produces every level change.
    func detectAlarms(partitionIndex i: Int) throws(KafkaError) {
        let state = partitions[i]
        let sensors = state.decoder.sensors
        let batch = state.batch
        if permitLimits, let profiles {
            let key = (version: profiles.version, enterprises: state.decoder.enterprises.count)
            if key != state.limitContextBuiltFor {
                state.limitContext.permits = profiles.permitIntervals(kinds: config.hotWorkKinds, enterprises: state.decoder.enterprises)
                state.limitContextBuiltFor = key
            }
        }
        if let profiles, profiles.setpointsTopic != nil {
            // Per-slot setpoints: rebuilt when the table changed, extended for sensors seen since.
            let built = state.setpointsBuiltFor
            if built.version != profiles.setpointsVersion {
                state.limitContext.setpoints = profiles.pointSetpoints(sensors: sensors)
            } else if built.sensors < sensors.count {
                state.limitContext.setpoints += profiles.pointSetpoints(sensors: sensors, from: built.sensors)
            }
            state.setpointsBuiltFor = (profiles.setpointsVersion, sensors.count)
        }
        state.limitContext.utcOffset = config.anomalySettings.utcOffset
        if permitLimits { updateSensorUnits(state: state) }
        state.detector.process(batch, into: &transitions, limits: &readingLimits, context: state.limitContext) { slot in
            alarmRule(slot: slot, state: state)
        }
        func name(_ level: UInt8) -> String { level == 0 ? "normal" : "AL\(level)" }
        let acknowledgements = currentAcknowledgements
        // Transitions and deadline checks in input order (a transition belongs to the reading that completed it).
        var tp = 0
        var unset = 0
        let notSet = state.detector.thresholdNotSet
        // A local copy: the loop reads it per reading, and a class property costs an exclusivity check per access.
        let transitions = self.transitions
        for k in 0..<batch.count {
            if unset < notSet.count && notSet[unset] == k {
                // §3.2: a point whose rule has no level for it ("threshold not set") is a data-quality defect, not "no alarm".
                unset += 1
                let sensor = sensors.key(for: batch.sensor[k])
                let rule = state.detector.ruleIndex(slot: batch.sensor[k]).map { config.alarmRules[$0].rule.name } ?? ""
                let t = batch.eventTime[k]
                try produceAlert(
                    AlertRecord(
                        kind: .thresholdNotSet, alertID: "\(sensor)/threshold_not_set/\(t)", event: "threshold_not_set", level: "normal", previousLevel: "normal",
                        enterprise: state.decoder.enterprises.key(for: batch.enterprise[k]), sensor: sensor, rule: rule, ts: t, raisedAt: t,
                        value: batch.value[k], limit: nil, direction: "none", severity: .blue, respondBy: nil, notify: ["equipment"]))
                stats.alertsByLevel["threshold_not_set", default: 0] += 1
            }
            while tp < transitions.count && transitions[tp].sensor == batch.sensor[k] && transitions[tp].time == batch.eventTime[k] {
                let t = transitions[tp]
                tp += 1
                let rule = config.alarmRules[t.rule].rule
                let policy = t.rule < config.alertPolicies.count ? config.alertPolicies[t.rule] : AlertPolicy()
                let (severity, respondBy) = state.alerts.apply(t, severity: t.to == 0 ? nil : t.to == 2 ? policy.level2 : policy.level1)
                let (suppressed, counts) = state.flood.note(t, severity: severity)
                transitionCounts.append(counts)
                let sensor = sensors.key(for: t.sensor)
                let record = AlertRecord(
                    kind: .alarm, alertID: "\(sensor)/\(rule.name)/\(t.raisedAt)", event: "\(t.kind)", level: name(t.to), previousLevel: name(t.from),
                    enterprise: state.decoder.enterprises.key(for: t.enterprise), sensor: sensor, rule: rule.name, ts: t.time,
                    raisedAt: t.raisedAt, value: t.value, limit: t.limit, direction: t.direction == .high ? "high" : "low", severity: severity,
                    respondBy: respondBy, notify: notifyList(t.rule), suppressed: suppressed?.rawValue)
                try produceAlert(record, routed: suppressed == nil)
                stats.alertsByLevel["\(t.kind) \(name(t.to))", default: 0] += 1
                if let suppressed { stats.suppressedAlerts[suppressed.rawValue, default: 0] += 1 }
            }
            alertEvents.removeAll(keepingCapacity: true)
            observeDeadlines(state: state, eventTime: batch.eventTime[k], acknowledgements: acknowledgements)
            try produceAlertEvents(state: state, acknowledgements: acknowledgements)
        }
    }

    /// The acknowledgements table when one is configured and holds any.
    var currentAcknowledgements: [String: ProfileTable.Acknowledgement]? {
        profiles?.acknowledgementsTopic != nil && profiles?.acknowledgements.isEmpty == false ? profiles?.acknowledgements : nil
    }

    /// Moves the alert book's clock to `t`: deadlines that pass produce `overdue`, acknowledgements in force
    /// `acknowledged` events (into `alertEvents`).
    /// Runs per reading: nothing here copies or allocates unless an acknowledgement is looked up.
    func observeDeadlines(state: PartitionState, eventTime t: Int64, acknowledgements: [String: ProfileTable.Acknowledgement]?) {
        if let acknowledgements {
            let ruleNames = alarmRuleNames
            state.alerts.observe(eventTime: t, into: &alertEvents) { slot, rule, raisedAt in
                acknowledgements["\(state.decoder.sensors.key(for: slot))/\(ruleNames[rule])/\(raisedAt)"]?.time
            }
        } else {
            state.alerts.observe(eventTime: t, into: &alertEvents)
        }
    }

    /// Produces the alert book's events (`overdue`, `acknowledged`) in `alertEvents`.
    func produceAlertEvents(state: PartitionState, acknowledgements: [String: ProfileTable.Acknowledgement]?) throws(KafkaError) {
        guard !alertEvents.isEmpty else { return }
        let sensors = state.decoder.sensors
        for e in alertEvents {
            let rule = config.alarmRules[e.rule].rule
            let sensor = sensors.key(for: e.sensor)
            let level = e.level == 0 ? "normal" : "AL\(e.level)"
            let id = "\(sensor)/\(rule.name)/\(e.raisedAt)"
            try produceAlert(
                AlertRecord(
                    kind: .alarm, alertID: id, event: e.kind.rawValue, level: level, previousLevel: level, enterprise: state.decoder.enterprises.key(for: e.enterprise),
                    sensor: sensor, rule: rule.name, ts: e.time, raisedAt: e.raisedAt, value: nil, limit: nil,
                    direction: e.direction == .high ? "high" : "low", severity: e.to, previousSeverity: e.from, respondBy: e.respondBy,
                    notify: notifyList(e.rule), acknowledgedBy: e.kind == .acknowledged ? acknowledgements?[id]?.by : nil))
            stats.alertsByLevel["\(e.kind.rawValue) \(e.to)", default: 0] += 1
        }
    }

    /// The departments to notify for a rule's alerts.
    func notifyList(_ rule: Int) -> [String] {
        rule < config.alertPolicies.count ? config.alertPolicies[rule].notify : ["safety"]
    }

    /// Produces an alert record to the alerts topic and a copy to every route that selects its severity and
    /// kind (`routed` false: a suppressed record, not copied).
    func produceAlert(_ record: AlertRecord, routed: Bool = true) throws(KafkaError) {
        record.encode(into: &alertJSON)
        var enterprise = record.enterprise
        let routes = config.alertRoutes
        var copies: Int64 = 0
        var failure: KafkaError? = nil
        enterprise.withUTF8 { key in
            alertJSON.buffer.withUnsafeBytes { value in
                do throws(KafkaError) {
                    try producer.produce(topic: config.alertsTopic, key: UnsafeRawBufferPointer(key), value: value)
                    for route in routes where routed && route.takes(record) {
                        try producer.produce(topic: route.topic, key: UnsafeRawBufferPointer(key), value: value)
                        copies += 1
                    }
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        stats.routedAlerts += copies
    }

    /// Produces `offline` records for points that went silent and `online` records when they report again.
    func detectGaps(partitionIndex i: Int) throws(KafkaError) {
        let state = partitions[i]
        gapEvents.removeAll(keepingCapacity: true)
        gapPositions.removeAll(keepingCapacity: true)
        state.gaps.process(state.batch, into: &gapEvents, positions: &gapPositions)
        try produceGapEvents(state: state)
    }

    /// Produces `offline` and `online` records for the data-gap events in `gapEvents`.
    func produceGapEvents(state: PartitionState) throws(KafkaError) {
        for g in gapEvents {
            let sensor = state.decoder.sensors.key(for: g.sensor)
            let raisedAt = g.lastSeen + state.gaps.offlineAfter
            let (event, level, previous) = g.offline ? ("offline", "OFFLINE", "normal") : ("online", "normal", "OFFLINE")
            try produceAlert(
                AlertRecord(
                    kind: .dataGap, alertID: "\(sensor)/data_gap/\(raisedAt)", event: event, level: level, previousLevel: previous,
                    enterprise: state.decoder.enterprises.key(for: g.enterprise), sensor: sensor, rule: "data_gap", ts: g.time, raisedAt: raisedAt,
                    value: g.value, limit: nil, direction: "none", severity: config.offlineSeverity,
                    respondBy: g.offline ? raisedAt + (config.alertDeadlines[config.offlineSeverity] ?? 86_400_000) : nil, notify: ["equipment"]))
            stats.alertsByLevel["\(event) \(level)", default: 0] += 1
        }
    }
}

extension StreamJobConfig {
    func newAlertBook() -> AlertBook {
        AlertBook(deadlines: alertDeadlines, checkEvery: 60_000, outOfOrderness: outOfOrderness)
    }

    func newGapDetector() -> DataGapDetector {
        DataGapDetector(offlineAfter: offlineAfter ?? .max / 4, checkEvery: 60_000, outOfOrderness: outOfOrderness)
    }
}

/// How an alarm rule's alerts are handled: the severity colour of AL1 and AL2 and the departments to notify.
public struct AlertPolicy: Sendable, Hashable {
    public var level1: RiskLevel = .yellow
    public var level2: RiskLevel = .orange
    public var notify: [String] = ["safety"]
    public init(level1: RiskLevel = .yellow, level2: RiskLevel = .orange, notify: [String] = ["safety"]) {
        self.level1 = level1
        self.level2 = level2
        self.notify = notify
    }
}

/// `s` as a JSON string literal, escaped (`null` for nil).
func jsonString(_ s: String?) -> String {
    guard let s else { return "null" }
    return "\"" + jsonEscaped(s) + "\""
}

/// `s` with JSON string escaping, without the quotes, by the escaping the byte encoders use (``JSONBytes``).
func jsonEscaped(_ s: String) -> String {
    // Ids almost never need it: return them as they are.
    guard s.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else { return s }
    var out = JSONBytes(capacity: s.utf8.count + 16)
    out.appendEscaped(s)
    return String(decoding: out.buffer, as: UTF8.self)
}
