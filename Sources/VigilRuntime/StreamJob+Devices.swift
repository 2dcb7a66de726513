import VigilCore
import VigilKafka

// Instrument faults and frozen values of a StreamJob's points (`DOMAIN.md` §5 FAULT, FROZEN).
extension StreamJob {
    /// Runs the instrument checks over the partition's batch and produces a record per change.
    func detectDeviceStatus(partitionIndex i: Int) throws(KafkaError) {
        let state = partitions[i]
        let checks = config.deviceChecks
        // Asked once per sensor slot by this detector (again after a restore, which also replaces the scorer): the
        // slot's type also gives the scorer the slot's stale gap.
        state.devices.process(state.batch, into: &deviceEvents) { slot in
            let type = slotType(slot, state: state)
            if let type, let stale = checks[type].check.staleAfter { state.scorer.setStaleAfter(stale, slot: slot) }
            return type
        }
        for e in deviceEvents { try produceDeviceEvent(e, state: state) }
    }

    /// One `fault`, `fault_cleared`, `frozen` or `unfrozen` record on the alerts topic. A fault and its clearing
    /// share the alert id `<sensor>/instrument_fault/<first faulty reading>`, a frozen episode
    /// `<sensor>/frozen/<since>`; both have the severity of `offline` records and notify equipment.
    func produceDeviceEvent(_ e: DeviceStatusEvent, state: PartitionState) throws(KafkaError) {
        let sensor = state.decoder.sensors.key(for: e.sensor)
        let severity = config.offlineSeverity
        let (event, rule, level, previous): (String, String, String, String) =
            switch e.kind {
            case .fault: ("fault", "instrument_fault", "FAULT", "normal")
            case .faultCleared: ("fault_cleared", "instrument_fault", "normal", "FAULT")
            case .frozen: ("frozen", "frozen", "FROZEN", "normal")
            case .unfrozen: ("unfrozen", "frozen", "normal", "FROZEN")
            }
        let starts = e.kind == .fault || e.kind == .frozen
        try produceAlert(
            AlertRecord(
                kind: .instrument, alertID: "\(sensor)/\(rule)/\(e.since)", event: event, level: level, previousLevel: previous,
                enterprise: state.decoder.enterprises.key(for: e.enterprise), sensor: sensor, rule: rule, ts: e.time, raisedAt: e.since,
                value: e.value, limit: e.limit, direction: e.limit.map { e.value > $0 ? "high" : "low" } ?? "none", severity: severity,
                respondBy: starts ? e.since + (config.alertDeadlines[severity] ?? 86_400_000) : nil, notify: ["equipment"]))
        stats.alertsByLevel["\(event) \(level)", default: 0] += 1
    }
}

extension StreamJob {
    /// The sensor type of `slot` (its index in `config.deviceChecks`), matched once per slot and partition.
    func slotType(_ slot: UInt32, state: PartitionState) -> Int? {
        let s = Int(slot)
        if s >= state.slotTypes.count { state.slotTypes.append(contentsOf: repeatElement(-2, count: s + 1 - state.slotTypes.count)) }
        if state.slotTypes[s] == -2 {
            let type = sensorType(of: state.decoder.sensors.key(for: slot), among: config.deviceChecks.lazy.map(\.match))
            state.slotTypes[s] = Int32(type ?? -1)
        }
        return state.slotTypes[s] >= 0 ? Int(state.slotTypes[s]) : nil
    }

    /// The alarm rule of `slot` (its index in `config.alarmRules`): its sensor type's rule when the job runs a
    /// pipeline (``StreamJobConfig/typeAlarmRules``), else the first rule it matches.
    func alarmRule(slot: UInt32, state: PartitionState) -> Int? {
        guard !config.typeAlarmRules.isEmpty else {
            return sensorType(of: state.decoder.sensors.key(for: slot), among: config.alarmRules.lazy.map(\.match))
        }
        return slotType(slot, state: state).flatMap { config.typeAlarmRules[$0] }
    }
}

/// The index of the first sensor type whose `match` substrings occur in `id` (the pipeline rule: an id takes
/// the first type that matches), nil when none does.
func sensorType(of id: String, among matches: some Collection<[String]>) -> Int? {
    for (index, patterns) in matches.enumerated() where patterns.contains(where: { id.contains($0) }) { return index }
    return nil
}

extension StreamJobConfig {
    func newDeviceDetector() -> DeviceStatusDetector {
        DeviceStatusDetector(checks: deviceChecks.map(\.check), frozenAfter: frozenAfter)
    }
}
