/// One enterprise's grading state within a partition.
struct EnterpriseRisk {
    var behaviour = AlarmBehaviour()
    var grader: RiskGrader
    /// Offline episodes of its points over the KPI window (§5).
    var offline: OfflineLog
    var seq: Int64 = 0
    var lastEmitted: Int64 = .min
    /// Event time at or after which the grade is evaluated again.
    var nextEvaluation: Int64 = .min
    /// Points currently at AL2, and those of them whose AL2 is a red alert (toxic gases), since when.
    var level2Since: [UInt32: Int64] = [:]
    var redSince: [UInt32: Int64] = [:]
    /// Event time of the evaluation that first saw the current data interruption (`.min`: none).
    var interruptedSince: Int64 = .min
}

/// What one batch's earlier stages found, for the grading stage.
struct GradingInputs {
    var transitions: [AlarmTransition]
    var transitionCounts: [Bool]
    var gapEvents: [DataGapEvent]
    var gapPositions: [Int]
    /// The enterprise of each sensor slot (the sensor catalog's).
    var sensorEnterprises: [UInt32]
    var deviceEvents: [DeviceStatusEvent]
    /// The partition clock's time at each reading.
    var times: [Int64]
    /// This batch's anomaly scores (nil: not scored).
    var scores: AnomalyScores?
}

/// The enterprise grades of one partition (`DOMAIN.md` §4.3): alarm behaviour, offline KPI, the factors from
/// the reference tables, the §4.3 overrides and the data-interruption logic of §5.
struct EnterpriseGrading {
    let settings: PartitionPipelineSettings
    let grading: PartitionPipelineSettings.Grading
    /// Grading state per enterprise slot.
    var risk: [EnterpriseRisk?] = []
    /// When the enterprises that fell silent are evaluated next, on the partition clock's time.
    var silentChecks: Ticker
    /// Per sensor slot: its position in its enterprise's alarm behaviour (-1: not known yet; not snapshotted,
    /// positions are found again after a restore).
    var pointPosition: [Int32] = []
    /// Per sensor slot: frozen as of the reading being graded (the device detector's state runs a batch ahead);
    /// equal to it between batches, so it is not snapshotted.
    var frozenNow: [Bool] = []
    /// Per sensor slot: in instrument fault (§5 FAULT) as of the reading being graded; kept like `frozenNow`.
    var faultNow: [Bool] = []

    init(settings: PartitionPipelineSettings) {
        self.settings = settings
        grading = settings.grading ?? .init()
        silentChecks = Ticker(every: grading.evaluation)
    }

    func newEnterpriseRisk() -> EnterpriseRisk {
        EnterpriseRisk(grader: RiskGrader(settings: grading.grader), offline: OfflineLog(window: grading.offlineKPIWindow))
    }

    /// Updates the alarm behaviour and grade of every enterprise in the batch; emits changed grades and
    /// heartbeats.
    ///
    /// Readings and alarm transitions are applied in input order, and an enterprise's grade is evaluated at
    /// the reading that completed one of its alarm transitions or that crossed its next evaluation tick
    /// (`evaluation` of event time). Both depend on the input alone, never on how it was split into batches,
    /// so a replay after a restart evaluates, and emits, exactly the same grades.
    mutating func grade(_ batch: ReadingBatch, inputs: GradingInputs, context: GradeContext, into out: inout PartitionOutputs) {
        let transitions = inputs.transitions
        let transitionCounts = inputs.transitionCounts
        let gapEvents = inputs.gapEvents
        let gapPositions = inputs.gapPositions
        let sensorEnterprises = inputs.sensorEnterprises
        let deviceEvents = inputs.deviceEvents
        let times = inputs.times
        precondition(times.count == batch.count, "EnterpriseGrading: one clock time per reading")
        var tp = 0
        var dp = 0
        var gp = 0
        // Anomaly episodes of the statistical detectors are pseudo-alarms in A (§4.3); threshold proximity and
        // data gaps are not (the alarm itself and the offline share count those).
        let scores = inputs.scores.flatMap { $0.score.count == batch.count ? $0 : nil }
        let floor = settings.anomalyFloor
        let weights = grading.factorWeights
        let evaluation = grading.evaluation
        for k in 0..<batch.count {
            // Points that went offline or came back at this reading, into their enterprises' offline KPI.
            while gp < gapEvents.count && gp < gapPositions.count && gapPositions[gp] == k {
                noteOfflineEpisode(gapEvents[gp], enterprise: sensorEnterprises[Int(gapEvents[gp].sensor)])
                gp += 1
            }
            let e = Int(batch.enterprise[k])
            let t = batch.eventTime[k]
            let sensor = batch.sensor[k]
            // The enterprise's state is changed in place (`risk[e]!`), never copied out and back.
            makeRisk(enterprise: e)
            var due = t >= risk[e]!.nextEvaluation
            while tp < transitions.count && transitions[tp].sensor == sensor && transitions[tp].time == t {
                let tr = transitions[tp]
                let redAL2 = settings.policy(ofRule: tr.rule).level2 == .red
                if tp >= transitionCounts.count || transitionCounts[tp] {
                    let weight = tr.to == 2 ? (redAL2 ? weights.alarmCountRedAL2 : weights.alarmCountAL2) : weights.alarmCountAL1
                    risk[e]!.behaviour.note(tr, weight: weight)
                }
                // Points at AL2 (and those whose AL2 is a red alert) since when, for the §4.3 overrides.
                if tr.to == 2 {
                    if risk[e]!.level2Since[tr.sensor] == nil { risk[e]!.level2Since[tr.sensor] = tr.time }
                    if redAL2 && risk[e]!.redSince[tr.sensor] == nil { risk[e]!.redSince[tr.sensor] = tr.time }
                } else {
                    risk[e]!.level2Since[tr.sensor] = nil
                    risk[e]!.redSince[tr.sensor] = nil
                }
                due = true
                tp += 1
            }
            // A point freezing or thawing, or in and out of instrument fault, changes Q (§4.3, §5): noted at its
            // reading, and the grade evaluated.
            while dp < deviceEvents.count && deviceEvents[dp].reading == k {
                let d = deviceEvents[dp]
                dp += 1
                let slot = Int(d.sensor)
                if slot >= frozenNow.count { frozenNow.append(contentsOf: repeatElement(false, count: slot + 1 - frozenNow.count)) }
                if slot >= faultNow.count { faultNow.append(contentsOf: repeatElement(false, count: slot + 1 - faultNow.count)) }
                switch d.kind {
                case .frozen, .unfrozen: frozenNow[slot] = d.kind == .frozen
                case .fault, .faultCleared: faultNow[slot] = d.kind == .fault
                }
                due = true
            }
            var anomalous: Bool? = nil
            if let scores {
                let detector = scores.detector[k]
                anomalous = scores.score[k] >= floor && detector != .threshold && detector != .dataGap
            }
            // The point's position in its enterprise's alarm behaviour, kept per sensor slot (no lookup per reading).
            let s = Int(sensor)
            // A sensor's readings all name its enterprise (the sensor catalog refuses others).
            if s >= pointPosition.count { pointPosition.append(contentsOf: repeatElement(-1, count: s + 1 - pointPosition.count)) }
            if pointPosition[s] < 0 { pointPosition[s] = Int32(risk[e]!.behaviour.point(sensor: sensor, at: t)) }
            risk[e]!.behaviour.noteReading(point: Int(pointPosition[s]), at: t, anomalous: anomalous)
            if due {
                risk[e]!.nextEvaluation = Ticker.next(after: t, every: evaluation)
                context.evaluate(&risk[e]!, enterprise: UInt32(e), at: t, frozen: frozenNow, faulty: faultNow, into: &out)
            }
            if silentChecks.isDue(at: times[k]) { evaluateSilent(at: times[k], context: context, into: &out) }
        }
    }

    /// Evaluates the enterprises of the partition that had no reading for a whole evaluation period, at the
    /// partition's latest evaluation tick (the latest event time of its readings, floored): a silent enterprise
    /// keeps getting heartbeats and grades, and its data interruption is seen (§4.3, §5). The tick comes from
    /// the partition's readings in input order, so replays evaluate identically.
    ///
    /// - Parameter time: The partition clock's time.
    mutating func evaluateSilent(at time: Int64, context: GradeContext, into out: inout PartitionOutputs) {
        let evaluation = grading.evaluation
        let tick = silentChecks.tick(atOrBefore: time)
        silentChecks.ran(at: time)
        for e in risk.indices {
            guard let next = risk[e]?.nextEvaluation, next <= tick &- evaluation else { continue }
            // Due again at the next tick (silent) or at its next reading (back).
            risk[e]!.nextEvaluation = tick
            context.evaluate(&risk[e]!, enterprise: UInt32(e), at: tick, frozen: frozenNow, faulty: faultNow, into: &out)
        }
    }

    /// Makes sure enterprise slot `e` has a grading state (a new one if it has none).
    mutating func makeRisk(enterprise e: Int) {
        if e >= risk.count { risk.append(contentsOf: repeatElement(nil, count: e + 1 - risk.count)) }
        if risk[e] == nil { risk[e] = newEnterpriseRisk() }
    }

    /// A point of the partition going offline or coming back, in its enterprise's offline KPI.
    mutating func noteOfflineEpisode(_ g: DataGapEvent, enterprise: UInt32) {
        let e = Int(enterprise)
        makeRisk(enterprise: e)
        if g.offline {
            risk[e]!.offline.noteOffline(sensor: g.sensor, at: g.time)
        } else {
            risk[e]!.offline.noteOnline(sensor: g.sensor, at: g.time)
        }
    }
}

/// What evaluating a grade reads besides the enterprise's own state: the settings, the reference tables and
/// the partition's key dictionaries.
struct GradeContext {
    let settings: PartitionPipelineSettings
    let grading: PartitionPipelineSettings.Grading
    let tables: ReferenceTables?
    let sensors: KeyInterner
    let enterprises: KeyInterner
    /// Per sensor slot, its unit (read when a permit names units).
    let sensorUnits: [String?]

    func sensorUnit(_ slot: UInt32) -> String? { Int(slot) < sensorUnits.count ? sensorUnits[Int(slot)] : nil }

    /// Evaluates one enterprise's grade at `now` and emits it when it changed or a heartbeat is due; emits the
    /// enterprise's data-interruption alerts.
    ///
    /// - Parameters:
    ///   - frozen: Per sensor slot, whether the point is frozen (§5 FROZEN).
    ///   - faulty: Per sensor slot, whether the point is in instrument fault (§5 FAULT): no valid value either,
    ///     so it counts in the same share as a frozen one.
    func evaluate(
        _ risk: inout EnterpriseRisk, enterprise e: UInt32, at now: Int64, frozen: [Bool], faulty: [Bool], into out: inout PartitionOutputs
    ) {
        let ind = risk.behaviour.indicators(at: now, staleAfter: settings.offlineAfter ?? 1_800_000) { s in
            (Int(s) < frozen.count && frozen[Int(s)]) || (Int(s) < faulty.count && faulty[Int(s)])
        }
        let enterprise = enterprises.key(for: e)
        let profile = tables?.profiles[enterprise]
        let weights = grading.factorWeights
        var inputs = RiskInputs()
        inputs.base = RiskInputs.base(
            majorHazardGrade: profile?.majorHazardGrade.flatMap { MajorHazard.Grade(rawValue: $0) }, diagnosticScore: profile?.diagnosis
        )
        let directRed = profile?.directRed ?? []
        inputs.directRed = !directRed.isEmpty
        let offlineKPI = risk.offline.kpi(at: now)
        // §5 → §7.2: the offline KPI is the credit's monitoring compliance where the profile's factors leave it out.
        let (creditScore, monitoringCompliance) =
            profile?.credibility {
                CreditScore.monitoringCompliance(
                    offlinePointHours: offlineKPI.pointHours, points: risk.behaviour.pointCount, window: risk.offline.window)
            } ?? (nil, nil)
        if let creditScore { inputs.credit = CreditScore.riskPoints(score: creditScore, weight: weights.creditWeight) }
        let alarmScores = ind.alarmScore
        inputs.alarm = max(alarmScores.alarms, alarmScores.withPseudo)
        inputs.dataQuality = weights.offlineWeight * (ind.offlineShare + ind.frozenShare)
        // §4.3 Q: +5 once today's safety commitment is due (local time) and missing.
        var commitmentMissing: Bool? = nil
        if let tables, tables.readsCommitments {
            let local = now + settings.anomalySettings.utcOffset
            let day = EventTime.floorDiv(local, 86_400_000)
            commitmentMissing = local - day * 86_400_000 >= grading.commitmentDue && tables.commitments[enterprise]?.contains(day) != true
            if commitmentMissing == true { inputs.dataQuality += weights.missingCommitment }
        }
        let permits = tables?.permits[enterprise]
        if let permits { inputs.operations = weights.operations(permits.values, at: now) }
        var overdueMajorHazard = false
        if let hazards = tables?.hazards[enterprise] {
            let h = weights.hazards(hazards.values, at: now)
            inputs.hazards = h.score
            overdueMajorHazard = h.overdueMajor
            // §4.3 override: an open major hazard past its deadline → at least orange.
            if h.overdueMajor { inputs.floor = .orange }
        }
        var overrides: [String] = overdueMajorHazard ? ["overdue_major_hazard"] : []
        // §2.1 / §4.3: a 2018 direct-red condition → red.
        if inputs.directRed { overrides.append("direct_red") }
        // §4.3 override: a red-severity AL2 (toxic gas ≥ 200 % OEL) lasting longer than `redAlarmFor` → red.
        if risk.redSince.values.contains(where: { now - $0 > grading.redAlarmFor }) {
            inputs.floor = .red
            overrides.append("red_alarm_sustained")
        }
        // §4.3 override: HH or LL on a tank of a major hazard of grade 1 or 2 (the point's setpoint record, else the
        // enterprise profile) lasting longer than `tankAlarmFor` → at least orange.
        if let tables, tables.readsSetpoints {
            let sustained = risk.level2Since.contains { sensor, since in
                guard now - since > grading.tankAlarmFor, let point = tables.setpoints[sensors.key(for: sensor)],
                    let grade = point.majorHazardGrade ?? profile?.majorHazardGrade
                else { return false }
                return grading.tankGrades.contains(grade)
            }
            if sustained {
                inputs.floor = max(inputs.floor, .orange)
                overrides.append("tank_alarm_sustained")
            }
        }
        let hotWorkKinds = settings.alarms.hotWorkKinds
        let hotWorkPermits = permits?.values.filter { hotWorkKinds.contains($0.kind) } ?? []
        let hotWork = hotWorkPermits.contains { $0.covers(unit: nil, at: now) }
        // §4.3 override: any AL2 while hot work or confined-space work is under way in the same unit → red.
        if !risk.level2Since.isEmpty && hotWork
            && risk.level2Since.keys.contains(where: { sensor in
                let unit = sensorUnit(sensor)
                return hotWorkPermits.contains { $0.covers(unit: unit, at: now) }
            })
        {
            inputs.floor = .red
            overrides.append("al2_during_hot_work")
        }
        // §5 / §4.3: a data interruption (more than `interruptionShare` of the points offline) lasting
        // `interruptionYellowAfter` → at least yellow; during hot work or confined-space work → at least orange.
        // §5: a filed offline notice in force (from its start until the planned online time + grace) suspends
        // the escalation; the interruption itself is still reported and counts in Q.
        let notice = tables?.offlineNotices[enterprise]?.values.filter { $0.from <= now && now < $0.plannedOnline &+ grading.offlineNoticeGrace }
            .min { ($0.plannedOnline, $0.id) < ($1.plannedOnline, $1.id) }
        if ind.offlineShare > grading.interruptionShare {
            if risk.interruptedSince == .min {
                risk.interruptedSince = now
                interruptionAlert(enterprise: enterprise, since: now, at: now, share: ind.offlineShare, restored: false, into: &out)
            }
            if notice == nil {
                if now - risk.interruptedSince >= grading.interruptionYellowAfter {
                    inputs.floor = max(inputs.floor, .yellow)
                    overrides.append("data_interruption")
                }
                if hotWork {
                    inputs.floor = max(inputs.floor, .orange)
                    overrides.append("data_interruption_during_hot_work")
                }
            }
        } else if risk.interruptedSince != .min {
            interruptionAlert(enterprise: enterprise, since: risk.interruptedSince, at: now, share: ind.offlineShare, restored: true, into: &out)
            risk.interruptedSince = .min
        }
        let activePermits = permits?.values.filter { $0.start <= now && now < $0.end }.count ?? 0
        let openHazards = tables?.hazards[enterprise]?.values.filter(\.open).count ?? 0
        let previous = risk.grader.level
        let level = risk.grader.update(inputs, at: now)
        let changed = risk.seq == 0 || level != previous
        guard changed || now - risk.lastEmitted >= grading.heartbeat else { return }
        risk.seq += 1
        risk.lastEmitted = now
        let g = risk.grader
        let record = GradeRecord(
            enterprise: enterprise, region: profile?.region, industry: profile?.industry, level: level, previousLevel: previous,
            score: g.score(inputs), seq: risk.seq, ts: now, changed: changed, factors: inputs, alarmWeight: g.alarmWeight, indicators: ind,
            offlinePointHours: offlineKPI.pointHours, offlineEpisodes: offlineKPI.episodes, alarmScoreWithoutPseudo: alarmScores.alarms,
            commitmentMissing: commitmentMissing, majorHazardGrade: profile?.majorHazardGrade, activePermits: activePermits,
            openHazards: openHazards, overdueMajorHazard: overdueMajorHazard, interruptedSince: risk.interruptedSince,
            offlineNotice: notice.map { ($0.id, $0.plannedOnline) }, diagnosticScore: profile?.diagnosis, directRed: directRed,
            creditScore: creditScore, monitoringCompliance: monitoringCompliance, overrides: overrides, tablesComplete: tables?.complete,
            profileMissing: tables?.readsProfiles == true ? profile == nil : nil, bands: (g.red, g.orange, g.yellow))
        out.appendGrade(record, byRegion: grading.byRegion)
        out.counters.gradesByLevel["\(level)", default: 0] += 1
    }

    /// §5: the enterprise-level `DATA_INTERRUPTION` blue alert (more than `interruptionShare` of its points
    /// offline), and its end; one episode shares an alert id.
    func interruptionAlert(enterprise: String, since: Int64, at now: Int64, share: Double, restored: Bool, into out: inout PartitionOutputs) {
        var record = AlertRecord(
            kind: .dataInterruption, alertID: AlertRecord.id(sensor: enterprise, rule: "data_interruption", raisedAt: since),
            event: restored ? .restored : .interrupted, level: restored ? .normal : .offline, previousLevel: restored ? .offline : .normal,
            enterprise: enterprise, sensor: nil, rule: "data_interruption", ts: now, raisedAt: since, value: share,
            limit: grading.interruptionShare, direction: .none, severity: .blue, respondBy: nil, notify: ["equipment"])
        record.tablesIncomplete = tables?.complete == false
        out.appendAlert(record, routes: settings.alarms.routes)
        out.counters.alertsByLevel[restored ? "restored data_interruption" : "interrupted data_interruption", default: 0] += 1
    }
}
