import VigilCore
import VigilKafka

// Enterprise grading of a StreamJob's partitions (DOMAIN.md §4.3).
extension StreamJob {
    /// Updates the alarm behaviour and grade of every enterprise in the batch; produces changed grades and
    /// heartbeats.
    ///
    /// Readings and alarm transitions are applied in input order, and an enterprise's grade is evaluated at
    /// the reading that completed one of its alarm transitions or that crossed its next evaluation tick
    /// (`gradeEvaluation` of event time). Both depend on the input alone, never on how it was split into
    /// polls, so a replay after a restart evaluates, and emits, exactly the same grades.
    func grade(partitionIndex i: Int) throws(KafkaError) {
        guard config.gradesTopic != nil else { return }
        let state = partitions[i]
        let batch = state.batch
        // The loop reads the job's columns for this batch and writes the partition's grading columns through
        // locals: a class's properties cost a dynamic exclusivity check on every access. The grading columns
        // go back into the partition on every exit.
        let transitions = self.transitions
        let transitionCounts = self.transitionCounts
        let gapEvents = self.gapEvents
        let gapPositions = self.gapPositions
        let deviceEvents = self.deviceEvents
        let scores = anomalyScores
        var g = state.takeGrading()
        defer { state.putGrading(g) }
        var tp = 0
        var dp = 0
        var gp = 0
        // Anomaly episodes of the statistical detectors are pseudo-alarms in A (§4.3); threshold proximity and
        // data gaps are not (the alarm itself and the offline share count those).
        let scored = config.anomaliesTopic != nil && scores.score.count == batch.count
        let floor = config.anomalyFloor
        let weights = config.factorWeights
        let policies = config.alertPolicies
        for k in 0..<batch.count {
            // Points that went offline or came back at this reading, into their enterprises' offline KPI.
            while gp < gapEvents.count && gp < gapPositions.count && gapPositions[gp] == k {
                noteOfflineEpisode(gapEvents[gp], in: &g.risk)
                gp += 1
            }
            let e = Int(batch.enterprise[k])
            let t = batch.eventTime[k]
            let sensor = batch.sensor[k]
            // The enterprise's state is changed in place (`g.risk[e]!`), never copied out and back.
            makeRisk(enterprise: e, in: &g.risk)
            var due = t >= g.risk[e]!.nextEvaluation
            while tp < transitions.count && transitions[tp].sensor == sensor && transitions[tp].time == t {
                let tr = transitions[tp]
                let redAL2 = tr.rule < policies.count && policies[tr.rule].level2 == .red
                if tp >= transitionCounts.count || transitionCounts[tp] {
                    let weight = tr.to == 2 ? (redAL2 ? weights.alarmCountRedAL2 : weights.alarmCountAL2) : weights.alarmCountAL1
                    g.risk[e]!.behaviour.note(tr, weight: weight)
                }
                // Points at AL2 (and those whose AL2 is a red alert) since when, for the §4.3 overrides.
                if tr.to == 2 {
                    if g.risk[e]!.level2Since[tr.sensor] == nil { g.risk[e]!.level2Since[tr.sensor] = tr.time }
                    if redAL2 && g.risk[e]!.redSince[tr.sensor] == nil { g.risk[e]!.redSince[tr.sensor] = tr.time }
                } else {
                    g.risk[e]!.level2Since[tr.sensor] = nil
                    g.risk[e]!.redSince[tr.sensor] = nil
                }
                due = true
                tp += 1
            }
            // A point freezing or thawing changes Q (§4.3): noted at its reading, and the grade evaluated.
            while dp < deviceEvents.count && deviceEvents[dp].reading == k {
                let d = deviceEvents[dp]
                dp += 1
                guard d.kind == .frozen || d.kind == .unfrozen else { continue }
                let slot = Int(d.sensor)
                if slot >= g.frozenNow.count { g.frozenNow.append(contentsOf: repeatElement(false, count: slot + 1 - g.frozenNow.count)) }
                g.frozenNow[slot] = d.kind == .frozen
                due = true
            }
            var anomalous: Bool? = nil
            if scored {
                let detector = scores.detector[k]
                anomalous = scores.score[k] >= floor && detector != .threshold && detector != .dataGap
            }
            // The point's position in its enterprise's alarm behaviour, kept per sensor slot (no lookup per reading).
            let s = Int(sensor)
            if s >= g.pointPosition.count {
                g.pointPosition.append(contentsOf: repeatElement(-1, count: s + 1 - g.pointPosition.count))
                g.pointEnterprise.append(contentsOf: repeatElement(0, count: s + 1 - g.pointEnterprise.count))
            }
            if g.pointPosition[s] < 0 || g.pointEnterprise[s] != UInt32(e) {
                g.pointPosition[s] = Int32(g.risk[e]!.behaviour.point(sensor: sensor, at: t))
                g.pointEnterprise[s] = UInt32(e)
            }
            g.risk[e]!.behaviour.noteReading(point: Int(g.pointPosition[s]), at: t, anomalous: anomalous)
            if due {
                g.risk[e]!.nextEvaluation = (EventTime.floorDiv(t, config.gradeEvaluation) &+ 1) &* config.gradeEvaluation
                try evaluate(&g.risk[e]!, enterprise: UInt32(e), at: t, frozen: g.frozenNow, state: state)
            }
            if t > g.gradeTime { g.gradeTime = t }
            if g.gradeTime >= g.nextSilentCheck { try evaluateSilent(&g, state: state) }
        }
    }

    /// Evaluates the enterprises of the partition that had no reading for a whole evaluation period, at the
    /// partition's latest evaluation tick (the latest event time of its readings, floored): a silent enterprise
    /// keeps getting heartbeats and grades, and its data interruption is seen (§4.3, §5). The tick comes from
    /// the partition's readings in input order, so replays evaluate identically.
    func evaluateSilent(state: PartitionState) throws(KafkaError) {
        var g = state.takeGrading()
        defer { state.putGrading(g) }
        try evaluateSilent(&g, state: state)
    }

    /// ``evaluateSilent(state:)`` on the partition's grading columns, taken out of it.
    func evaluateSilent(_ g: inout PartitionState.Grading, state: PartitionState) throws(KafkaError) {
        let tick = EventTime.floorDiv(g.gradeTime, config.gradeEvaluation) &* config.gradeEvaluation
        g.nextSilentCheck = tick &+ config.gradeEvaluation
        for e in g.risk.indices {
            guard let next = g.risk[e]?.nextEvaluation, next <= tick &- config.gradeEvaluation else { continue }
            // Due again at the next tick (silent) or at its next reading (back).
            g.risk[e]!.nextEvaluation = tick
            try evaluate(&g.risk[e]!, enterprise: UInt32(e), at: tick, frozen: g.frozenNow, state: state)
        }
    }

    /// - Parameter frozen: Per sensor slot, whether the point is frozen (§5 FROZEN).
    func evaluate(_ risk: inout EnterpriseRisk, enterprise e: UInt32, at now: Int64, frozen: [Bool], state: PartitionState) throws(KafkaError) {
        guard let topic = config.gradesTopic else { return }
        let ind = risk.behaviour.indicators(at: now, staleAfter: config.offlineAfter ?? 1_800_000) { Int($0) < frozen.count && frozen[Int($0)] }
        let enterprise = state.decoder.enterprises.key(for: e)
        let profile = profiles?.profiles[enterprise]
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
        if let creditScore { inputs.credit = CreditScore.riskPoints(score: creditScore, weight: config.factorWeights.creditWeight) }
        let alarmScores = ind.alarmScore
        inputs.alarm = max(alarmScores.alarms, alarmScores.withPseudo)
        inputs.dataQuality = config.factorWeights.offlineWeight * (ind.offlineShare + ind.frozenShare)
        // §4.3 Q: +5 once today's safety commitment is due (local time) and missing.
        var commitmentMissing: Bool? = nil
        if let table = profiles, table.commitmentsTopic != nil {
            let local = now + config.anomalySettings.utcOffset
            let day = EventTime.floorDiv(local, 86_400_000)
            commitmentMissing = local - day * 86_400_000 >= config.commitmentDue && table.commitments[enterprise]?.contains(day) != true
            if commitmentMissing == true { inputs.dataQuality += config.factorWeights.missingCommitment }
        }
        if let permits = profiles?.permits[enterprise] { inputs.operations = config.factorWeights.operations(permits.values, at: now) }
        var overdueMajorHazard = false
        if let hazards = profiles?.hazards[enterprise] {
            let h = config.factorWeights.hazards(hazards.values, at: now)
            inputs.hazards = h.score
            overdueMajorHazard = h.overdueMajor
            // §4.3 override: an open major hazard past its deadline → at least orange.
            if h.overdueMajor { inputs.floor = .orange }
        }
        var overrides: [String] = overdueMajorHazard ? ["overdue_major_hazard"] : []
        // §2.1 / §4.3: a 2018 direct-red condition → red.
        if inputs.directRed { overrides.append("direct_red") }
        // §4.3 override: a red-severity AL2 (toxic gas ≥ 200 % OEL) lasting longer than `redAlarmFor` → red.
        if risk.redSince.values.contains(where: { now - $0 > config.redAlarmFor }) {
            inputs.floor = .red
            overrides.append("red_alarm_sustained")
        }
        // §4.3 override: HH or LL on a tank of a major hazard of grade 1 or 2 (the point's setpoint record, else the
        // enterprise profile) lasting longer than `tankAlarmFor` → at least orange.
        if let table = profiles, table.setpointsTopic != nil {
            let sustained = risk.level2Since.contains { sensor, since in
                guard now - since > config.tankAlarmFor, let point = table.setpoints[state.decoder.sensors.key(for: sensor)],
                    let grade = point.majorHazardGrade ?? profile?.majorHazardGrade
                else { return false }
                return config.tankGrades.contains(grade)
            }
            if sustained {
                inputs.floor = max(inputs.floor, .orange)
                overrides.append("tank_alarm_sustained")
            }
        }
        let hotWorkPermits = profiles?.permits[enterprise]?.values.filter { config.hotWorkKinds.contains($0.kind) } ?? []
        let hotWork = hotWorkPermits.contains { $0.covers(unit: nil, at: now) }
        // §4.3 override: any AL2 while hot work or confined-space work is under way in the same unit → red.
        if !risk.level2Since.isEmpty && hotWork && risk.level2Since.keys.contains(where: { sensor in
            let unit = sensorUnit(slot: sensor, state: state)
            return hotWorkPermits.contains { $0.covers(unit: unit, at: now) }
        }) {
            inputs.floor = .red
            overrides.append("al2_during_hot_work")
        }
        // §5 / §4.3: a data interruption (more than `interruptionShare` of the points offline) lasting
        // `interruptionYellowAfter` → at least yellow; during hot work or confined-space work → at least orange.
        // §5: a filed offline notice in force (from its start until the planned online time + grace) suspends
        // the escalation; the interruption itself is still reported and counts in Q.
        let notice = profiles?.offlineNotices[enterprise]?.values.filter { $0.from <= now && now < $0.plannedOnline &+ config.offlineNoticeGrace }
            .min { ($0.plannedOnline, $0.id) < ($1.plannedOnline, $1.id) }
        if ind.offlineShare > config.interruptionShare {
            if risk.interruptedSince == .min {
                risk.interruptedSince = now
                try interruptionAlert(enterprise: enterprise, since: now, at: now, share: ind.offlineShare, restored: false)
            }
            if notice == nil {
                if now - risk.interruptedSince >= config.interruptionYellowAfter {
                    inputs.floor = max(inputs.floor, .yellow)
                    overrides.append("data_interruption")
                }
                if hotWork {
                    inputs.floor = max(inputs.floor, .orange)
                    overrides.append("data_interruption_during_hot_work")
                }
            }
        } else if risk.interruptedSince != .min {
            try interruptionAlert(enterprise: enterprise, since: risk.interruptedSince, at: now, share: ind.offlineShare, restored: true)
            risk.interruptedSince = .min
        }
        let activePermits = profiles?.permits[enterprise]?.values.filter { $0.start <= now && now < $0.end }.count ?? 0
        let openHazards = profiles?.hazards[enterprise]?.values.filter(\.open).count ?? 0
        let previous = risk.grader.level
        let level = risk.grader.update(inputs, at: now)
        let changed = risk.seq == 0 || level != previous
        guard changed || now - risk.lastEmitted >= config.gradeHeartbeat else { return }
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
            creditScore: creditScore, monitoringCompliance: monitoringCompliance, overrides: overrides, bands: (g.red, g.orange, g.yellow))
        record.encode(into: &gradeJSON)
        var failure: KafkaError? = nil
        func produce(topic: String, key: String) {
            var key = key
            key.withUTF8 { key in
                gradeJSON.buffer.withUnsafeBytes { value in
                    do throws(KafkaError) {
                        try producer.produce(topic: topic, key: UnsafeRawBufferPointer(key), value: value)
                    } catch { failure = error }
                }
            }
        }
        produce(topic: topic, key: enterprise)
        if let failure { throw failure }
        if let byRegion = config.gradesByRegionTopic, let region = profile?.region {
            // Re-keyed by region: the repartition for the heat-map stage goes through Kafka.
            produce(topic: byRegion, key: region)
            if let failure { throw failure }
        }
        stats.gradesByLevel["\(level)", default: 0] += 1
    }
}

extension StreamJob {
    /// §5: the enterprise-level `DATA_INTERRUPTION` blue alert (more than `interruptionShare` of its points
    /// offline), and its end; one episode shares an alert id.
    func interruptionAlert(enterprise: String, since: Int64, at now: Int64, share: Double, restored: Bool) throws(KafkaError) {
        try produceAlert(
            AlertRecord(
                kind: .dataInterruption, alertID: "\(enterprise)/data_interruption/\(since)", event: restored ? "restored" : "interrupted",
                level: restored ? "normal" : "OFFLINE", previousLevel: restored ? "OFFLINE" : "normal", enterprise: enterprise, sensor: nil,
                rule: "data_interruption", ts: now, raisedAt: since, value: share, limit: config.interruptionShare, direction: "none",
                severity: .blue, respondBy: nil, notify: ["equipment"]))
        stats.alertsByLevel[restored ? "restored data_interruption" : "interrupted data_interruption", default: 0] += 1
    }
}

extension StreamJob {
    /// Makes sure enterprise slot `e` has a grading state in `risk` (a new one if it has none).
    func makeRisk(enterprise e: Int, in risk: inout [EnterpriseRisk?]) {
        if e >= risk.count { risk.append(contentsOf: repeatElement(nil, count: e + 1 - risk.count)) }
        if risk[e] == nil { risk[e] = config.newEnterpriseRisk() }
    }

    /// A point of the partition going offline or coming back, in its enterprise's offline KPI.
    func noteOfflineEpisode(_ g: DataGapEvent, in risk: inout [EnterpriseRisk?]) {
        let e = Int(g.enterprise)
        makeRisk(enterprise: e, in: &risk)
        if g.offline {
            risk[e]!.offline.noteOffline(sensor: g.sensor, at: g.time)
        } else {
            risk[e]!.offline.noteOnline(sensor: g.sensor, at: g.time)
        }
    }
}

extension StreamJob.PartitionState {
    /// A partition's grading columns, moved out of it while they are worked on.
    struct Grading {
        var risk: [EnterpriseRisk?]
        var pointPosition: [Int32]
        var pointEnterprise: [UInt32]
        var frozenNow: [Bool]
        var gradeTime: Int64
        var nextSilentCheck: Int64
    }

    /// Moves the grading columns out (the partition keeps empty ones until ``putGrading(_:)``).
    func takeGrading() -> Grading {
        let g = Grading(
            risk: risk, pointPosition: pointPosition, pointEnterprise: pointEnterprise, frozenNow: frozenNow, gradeTime: gradeTime,
            nextSilentCheck: nextSilentCheck)
        risk = []
        pointPosition = []
        pointEnterprise = []
        frozenNow = []
        return g
    }

    func putGrading(_ g: Grading) {
        risk = g.risk
        pointPosition = g.pointPosition
        pointEnterprise = g.pointEnterprise
        frozenNow = g.frozenNow
        gradeTime = g.gradeTime
        nextSilentCheck = g.nextSilentCheck
    }
}

extension StreamJobConfig {
    func newEnterpriseRisk() -> EnterpriseRisk {
        EnterpriseRisk(grader: grader, offline: OfflineLog(window: offlineKPIWindow))
    }
}

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
