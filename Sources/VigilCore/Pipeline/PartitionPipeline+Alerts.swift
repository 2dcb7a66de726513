// Alarm transitions, deadlines, suppression, routes, data gaps and instrument status of a partition.
extension PartitionPipeline {
    /// Runs the alarm rules over the batch and emits every level change, deadline and acknowledgement.
    func detectAlarms(_ batch: ReadingBatch, tables: ReferenceTables?, into out: inout PartitionOutputs) {
        let sensors = decoder.sensors
        let rules = settings.alarmRules
        let permitLimits = tables?.readsPermits == true && rules.contains { $0.adjustments.contains(where: \.duringPermit) }
        if permitLimits, let tables {
            let key = (version: tables.version, enterprises: decoder.enterprises.count)
            if key != limitContextBuiltFor {
                limitContext.permits = tables.permitIntervals(kinds: settings.alarms.hotWorkKinds, enterprises: decoder.enterprises)
                limitContextBuiltFor = key
            }
        }
        if let tables, tables.readsSetpoints {
            // Per-slot setpoints: rebuilt when the table changed, extended for sensors seen since.
            let built = setpointsBuiltFor
            if built.version != tables.setpointsVersion {
                limitContext.setpoints = tables.pointSetpoints(sensors: sensors)
            } else if built.sensors < sensors.count {
                limitContext.setpoints += tables.pointSetpoints(sensors: sensors, from: built.sensors)
            }
            setpointsBuiltFor = (tables.setpointsVersion, sensors.count)
        }
        limitContext.utcOffset = settings.anomalySettings.utcOffset
        let catalog = self.catalog
        detector.process(batch, into: &transitions, limits: &readingLimits, context: limitContext) { slot in catalog.rule(of: slot) }
        func name(_ level: UInt8) -> String { level == 0 ? "normal" : "AL\(level)" }
        let acknowledgements = tables?.currentAcknowledgements
        // Transitions and deadline checks in input order (a transition belongs to the reading that completed it).
        var tp = 0
        var unset = 0
        let notSet = detector.thresholdNotSet
        // A local copy: the loop reads it per reading, and a class property costs an exclusivity check per access.
        let transitions = self.transitions
        for k in 0..<batch.count {
            if unset < notSet.count && notSet[unset] == k {
                // §3.2: a point whose rule has no level for it ("threshold not set") is a data-quality defect, not "no alarm".
                unset += 1
                let sensor = sensors.key(for: batch.sensor[k])
                let rule = catalog.rule(of: batch.sensor[k]).map { rules[$0].name } ?? ""
                let t = batch.eventTime[k]
                emitAlert(
                    AlertRecord(
                        kind: .thresholdNotSet, alertID: AlertRecord.id(sensor: sensor, rule: "threshold_not_set", raisedAt: t),
                        event: .thresholdNotSet, level: .normal, previousLevel: .normal,
                        enterprise: decoder.enterprises.key(for: batch.enterprise[k]), sensor: sensor, rule: rule, ts: t, raisedAt: t,
                        value: batch.value[k], limit: nil, direction: .none, severity: .blue, respondBy: nil, notify: ["equipment"]),
                    into: &out)
                out.counters.alertsByLevel["threshold_not_set", default: 0] += 1
            }
            while tp < transitions.count && transitions[tp].sensor == batch.sensor[k] && transitions[tp].time == batch.eventTime[k] {
                let t = transitions[tp]
                tp += 1
                let rule = rules[t.rule]
                let policy = settings.policy(ofRule: t.rule)
                let (severity, respondBy) = self.alerts.apply(t, severity: t.to == 0 ? nil : t.to == 2 ? policy.level2 : policy.level1)
                let (suppressed, counts) = flood.note(t, severity: severity)
                transitionCounts.append(counts)
                let sensor = sensors.key(for: t.sensor)
                let record = AlertRecord(
                    kind: .alarm, alertID: AlertRecord.id(sensor: sensor, rule: rule.name, raisedAt: t.raisedAt), event: t.kind,
                    level: AlertLevel(alarm: t.to), previousLevel: AlertLevel(alarm: t.from), enterprise: decoder.enterprises.key(for: t.enterprise),
                    sensor: sensor,
                    rule: rule.name, ts: t.time, raisedAt: t.raisedAt, value: t.value, limit: t.limit,
                    direction: AlertDirection(t.direction), severity: severity, respondBy: respondBy, notify: policy.notify,
                    suppressed: suppressed)
                emitAlert(record, routed: suppressed == nil, into: &out)
                out.counters.alertsByLevel["\(t.kind) \(name(t.to))", default: 0] += 1
                if let suppressed { out.counters.suppressedAlerts[suppressed.rawValue, default: 0] += 1 }
            }
            alertEvents.removeAll(keepingCapacity: true)
            observeDeadlines(watermark: watermarks[k], acknowledgements: acknowledgements)
            emitAlertEvents(acknowledgements: acknowledgements, into: &out)
        }
    }

    /// Shows the alert book the partition's watermark `wm`: deadlines that pass give `overdue`, acknowledgements
    /// in force `acknowledged` events (into `alertEvents`). Runs per reading: nothing here copies or allocates
    /// unless an acknowledgement is looked up.
    func observeDeadlines(watermark wm: Int64, acknowledgements: [String: ReferenceTables.Acknowledgement]?) {
        if let acknowledgements {
            let rules = settings.alarmRules
            let sensors = decoder.sensors
            alerts.observe(watermark: wm, into: &alertEvents) { slot, rule, raisedAt in
                acknowledgements[AlertRecord.id(sensor: sensors.key(for: slot), rule: rules[rule].name, raisedAt: raisedAt)]?.time
            }
        } else {
            alerts.observe(watermark: wm, into: &alertEvents)
        }
    }

    /// Emits the alert book's events (`overdue`, `acknowledged`) in `alertEvents`.
    func emitAlertEvents(acknowledgements: [String: ReferenceTables.Acknowledgement]?, into out: inout PartitionOutputs) {
        guard !alertEvents.isEmpty else { return }
        let sensors = decoder.sensors
        for e in alertEvents {
            let rule = settings.alarmRules[e.rule]
            let sensor = sensors.key(for: e.sensor)
            let level = AlertLevel(alarm: e.level)
            let id = AlertRecord.id(sensor: sensor, rule: rule.name, raisedAt: e.raisedAt)
            emitAlert(
                AlertRecord(
                    kind: .alarm, alertID: id, event: e.kind == .overdue ? .overdue : .acknowledged, level: level, previousLevel: level,
                    enterprise: decoder.enterprises.key(for: catalog.enterprise(of: e.sensor)), sensor: sensor, rule: rule.name, ts: e.time,
                    raisedAt: e.raisedAt,
                    value: nil, limit: nil, direction: AlertDirection(e.direction), severity: e.to, previousSeverity: e.from,
                    respondBy: e.respondBy, notify: settings.policy(ofRule: e.rule).notify,
                    acknowledgedBy: e.kind == .acknowledged ? acknowledgements?[id]?.by : nil),
                into: &out)
            out.counters.alertsByLevel["\(e.kind.rawValue) \(e.to)", default: 0] += 1
        }
    }

    func emitAlert(_ record: AlertRecord, routed: Bool = true, into out: inout PartitionOutputs) {
        var record = record
        record.tablesIncomplete = !tablesComplete
        out.appendAlert(record, routes: settings.alarms.routes, routed: routed)
    }

    /// Emits `offline` records for points that went silent and `online` records when they report again.
    func detectGaps(_ batch: ReadingBatch, into out: inout PartitionOutputs) {
        gapEvents.removeAll(keepingCapacity: true)
        gapPositions.removeAll(keepingCapacity: true)
        gaps.process(batch, watermarks: watermarks, into: &gapEvents, positions: &gapPositions)
        emitGapEvents(into: &out)
    }

    /// Emits `offline` and `online` records for the data-gap events in `gapEvents`.
    func emitGapEvents(into out: inout PartitionOutputs) {
        let severity = settings.offlineSeverity
        for g in gapEvents {
            let sensor = decoder.sensors.key(for: g.sensor)
            let raisedAt = g.lastSeen + gaps.offlineAfter
            let (event, level, previous): (AlertEvent, AlertLevel, AlertLevel) =
                g.offline ? (.offline, .offline, .normal) : (.online, .normal, .offline)
            emitAlert(
                AlertRecord(
                    kind: .dataGap, alertID: AlertRecord.id(sensor: sensor, rule: "data_gap", raisedAt: raisedAt), event: event, level: level,
                    previousLevel: previous, enterprise: decoder.enterprises.key(for: catalog.enterprise(of: g.sensor)), sensor: sensor,
                    rule: "data_gap",
                    ts: g.time,
                    raisedAt: raisedAt, value: g.value, limit: nil, direction: .none, severity: severity,
                    respondBy: g.offline ? raisedAt + (settings.alarms.deadlines[severity] ?? 86_400_000) : nil, notify: ["equipment"]),
                into: &out)
            out.counters.alertsByLevel["\(event) \(level)", default: 0] += 1
        }
    }

    /// Runs the instrument checks over the batch and emits a record per change (`DOMAIN.md` §5 FAULT, FROZEN).
    func detectDeviceStatus(_ batch: ReadingBatch, into out: inout PartitionOutputs) {
        let checks = settings.deviceChecks
        devices.process(batch, into: &deviceEvents) { slot in
            guard let type = catalog.type(of: slot), checks[type] != nil else { return nil }
            return type
        }
        for e in deviceEvents { emitDeviceEvent(e, into: &out) }
    }

    /// One `fault`, `fault_cleared`, `frozen` or `unfrozen` record. A fault and its clearing share the alert id
    /// `<sensor>/instrument_fault/<first faulty reading>`, a frozen episode `<sensor>/frozen/<since>`; both have
    /// the severity of `offline` records and notify equipment.
    func emitDeviceEvent(_ e: DeviceStatusEvent, into out: inout PartitionOutputs) {
        let sensor = decoder.sensors.key(for: e.sensor)
        let severity = settings.offlineSeverity
        let (event, rule, level, previous): (AlertEvent, String, AlertLevel, AlertLevel) =
            switch e.kind {
            case .fault: (.fault, "instrument_fault", .fault, .normal)
            case .faultCleared: (.faultCleared, "instrument_fault", .normal, .fault)
            case .frozen: (.frozen, "frozen", .frozen, .normal)
            case .unfrozen: (.unfrozen, "frozen", .normal, .frozen)
            }
        let starts = e.kind == .fault || e.kind == .frozen
        emitAlert(
            AlertRecord(
                kind: .instrument, alertID: AlertRecord.id(sensor: sensor, rule: rule, raisedAt: e.since), event: event, level: level,
                previousLevel: previous, enterprise: decoder.enterprises.key(for: e.enterprise), sensor: sensor, rule: rule, ts: e.time,
                raisedAt: e.since, value: e.value, limit: e.limit, direction: e.limit.map { e.value > $0 ? .high : .low } ?? .none,
                severity: severity, respondBy: starts ? e.since + (settings.alarms.deadlines[severity] ?? 86_400_000) : nil,
                notify: ["equipment"]),
            into: &out)
        out.counters.alertsByLevel["\(event) \(level)", default: 0] += 1
    }
}

/// The index of the first sensor type whose `match` substrings occur in `id` (the pipeline rule: an id takes
/// the first type that matches), nil when none does.
public func sensorType(of id: String, among matches: some Collection<[String]>) -> Int? {
    for (index, patterns) in matches.enumerated() where patterns.contains(where: { id.contains($0) }) { return index }
    return nil
}
