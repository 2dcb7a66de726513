import Testing
import VigilCore
import VigilTesting

@Suite struct MajorHazardTests {
    @Test("GB 18218-2018 worked example: SO₂ q = 200 t, Q = 20 t, β = 2, 60 people exposed → R = 30, 三级")
    func workedExample() {
        let alpha = MajorHazard.alpha(exposedPeople: 60)
        #expect(alpha == 1.5)
        let so2 = MajorHazard.Holding(quantity: 200, critical: 20, beta: MajorHazard.betaOfToxicGas["SO2"]!)
        #expect(MajorHazard.identificationSum([so2]) == 10)
        #expect(MajorHazard.gradingIndex([so2], alpha: alpha) == 30)
        #expect(MajorHazard.grade([so2], alpha: alpha) == .three)
        #expect(MajorHazard.grade([so2], alpha: alpha)?.description == "三级")
    }

    @Test func identificationAndBands() {
        // Below the critical quantity in sum: not a major hazard source.
        let small = [MajorHazard.Holding(quantity: 2, critical: 5, beta: 4), .init(quantity: 10, critical: 50, beta: 1)]
        #expect(MajorHazard.identificationSum(small) < 1 && MajorHazard.grade(small, alpha: 2) == nil)
        #expect(MajorHazard.grade(index: 100) == .one && MajorHazard.grade(index: 99.9) == .two)
        #expect(MajorHazard.grade(index: 50) == .two && MajorHazard.grade(index: 10) == .three && MajorHazard.grade(index: 9.99) == .four)
        #expect([0, 1, 29, 30, 49, 50, 99, 100].map { MajorHazard.alpha(exposedPeople: $0) } == [0.5, 1, 1, 1.2, 1.2, 1.5, 1.5, 2])
        #expect(MajorHazard.betaOfToxicGas["Cl2"] == 4 && MajorHazard.betaOfToxicGas["phosgene"] == 20)
        #expect(MajorHazard.betaOfClass["W2"] == 1.5 && MajorHazard.criticalOfClass["J1"] == 5)
    }
}

@Suite struct RiskGraderTests {
    @Test func inputsFromTheModel() {
        #expect(RiskInputs.base(majorHazardGrade: .one, diagnosticScore: 90) == 70)
        #expect(RiskInputs.base(majorHazardGrade: nil, diagnosticScore: 55) == 45)
        #expect(RiskInputs.base(majorHazardGrade: .four, diagnosticScore: nil) == 25)
        let a = RiskInputs.alarmScore(
            disturbanceRate: 1, repeatAlarmShare: 1, alarmsPerPoint: 20, meanTimeToClear: 3_600_000, longestAlarm: 7_200_000)
        #expect(abs(a - 100) < 1e-9)
        #expect(RiskInputs.alarmScore(disturbanceRate: 0, repeatAlarmShare: 0, alarmsPerPoint: 0, meanTimeToClear: 0, longestAlarm: 0) == 0)
    }

    @Test("Upgrades at once, downgrades only after the hold below band − margin")
    func hysteresis() {
        var g = RiskGrader()
        var i = RiskInputs()
        i.base = 40
        i.alarm = 90  // 40 + 45 = 85 → red
        #expect(g.update(i, at: 0) == .red)
        i.alarm = 70  // 75: orange band but not below 80 − 5
        #expect(g.update(i, at: 1_000) == .red)
        i.alarm = 60  // 70 < 75: the hold starts
        #expect(g.update(i, at: 2_000) == .red)
        #expect(g.update(i, at: 2_000 + 7_199_999) == .red)
        #expect(g.update(i, at: 2_000 + 7_200_000) == .orange)
        i.alarm = 100  // 90 → red again, immediately
        #expect(g.update(i, at: 2_000 + 7_200_001) == .red)
        // A dip above the margin resets the hold.
        i.alarm = 60
        _ = g.update(i, at: 10_000_000)
        i.alarm = 75  // 77.5 ≥ 75
        _ = g.update(i, at: 12_000_000)
        i.alarm = 60
        #expect(g.update(i, at: 17_300_000) == .red)  // the hold restarted at 17_300_000
    }

    @Test func overridesWin() {
        var g = RiskGrader()
        var i = RiskInputs()
        i.base = 10
        i.directRed = true
        #expect(g.update(i, at: 0) == .red)
        i.directRed = false
        i.floor = .orange
        // R_dyn = 10, far below, but the floor holds orange after the hold.
        _ = g.update(i, at: 1)
        #expect(g.update(i, at: 1 + 7_200_000) == .orange)
        #expect(g.score(i) == 10 && g.band(85) == .red && g.band(39.99) == .blue)
    }
}

@Suite struct DiagnosisAndCreditTests {
    @Test("2018 diagnosis: deductions capped per category, bonuses added, bands and direct red")
    func diagnosis() {
        var d = DiagnosticAssessment(
            counts: [
                "key_hazardous_process": 6, "class_a_designer": 1, "standardisation_level_2": 1, "larger_accident_3y": 1, "fatal_accident_3y": 1,
            ],
            majorHazardGrade: .two)
        // 100 − 8 (二级) − 10 (six processes: 12, capped at 10) − 10 (performance: 18, capped) + 2 + 5 = 79.
        #expect(d.score == 79)
        #expect(d.breakdown.deductions == [.majorHazard: 8, .processes: 10, .performance: 10] && d.breakdown.bonuses == 7)
        #expect(d.level == .yellow)
        #expect(DiagnosticAssessment.band(90) == .blue && DiagnosticAssessment.band(89.9) == .yellow && DiagnosticAssessment.band(75) == .yellow)
        #expect(DiagnosticAssessment.band(74.9) == .orange && DiagnosticAssessment.band(60) == .orange && DiagnosticAssessment.band(59.9) == .red)
        d.directRed = ["two_larger_accidents_3y"]
        #expect(d.level == .red && d.score == 79)
        d.counts["made_up_item"] = 2
        #expect(d.unknownItems == ["made_up_item"] && d.score == 79)
        #expect(DiagnosticAssessment.directRedConditions.isSuperset(of: d.directRed))
        // Small deductions add up within their category: 60 key supervised chemicals × 0.1 = 6, capped at 5.
        #expect(DiagnosticAssessment(counts: ["key_supervised_chemical": 60]).score == 95)
        // B = max(B_MHI, 100 − D_2018).
        #expect(RiskInputs.base(majorHazardGrade: .three, diagnosticScore: 79) == 40)
        #expect(RiskInputs.base(majorHazardGrade: .four, diagnosticScore: 50) == 50)
    }

    @Test("Credit score: weighted factors, missing ones count 100, serious dishonesty scores 0; bands and R_dyn points")
    func credit() {
        let c = CreditScore(factors: ["hazard_closure": 80, "enforcement": 50])
        #expect(abs(c.score - 85) < 1e-9 && c.grade == "A")
        #expect(CreditScore(factors: ["hazard_closure": 80, "enforcement": 50], seriousDishonesty: true).score == 0)
        #expect(
            CreditScore.grade(of: 84.9) == "B" && CreditScore.grade(of: 70) == "B" && CreditScore.grade(of: 55) == "C"
                && CreditScore.grade(of: 54.9) == "D")
        #expect(abs(CreditScore.weights.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
        #expect(abs(CreditScore.riskPoints(score: 85, weight: 10) - 1.5) < 1e-12 && CreditScore.riskPoints(score: 0, weight: 10) == 10)
        var inputs = RiskInputs()
        inputs.base = 40
        inputs.credit = 1.5
        #expect(RiskGrader().score(inputs) == 41.5)
    }

    @Test("Monitoring compliance from the offline KPI: the online share of the window's point-hours, filling only a missing factor")
    func monitoringCompliance() {
        let day: Int64 = 86_400_000
        // 4 points over a 1-day window: 96 point-hours; 12 of them offline → 87.5 % online.
        #expect(abs(CreditScore.monitoringCompliance(offlinePointHours: 12, points: 4, window: day) - 87.5) < 1e-9)
        #expect(CreditScore.monitoringCompliance(offlinePointHours: 0, points: 4, window: day) == 100)
        #expect(CreditScore.monitoringCompliance(offlinePointHours: 500, points: 4, window: day) == 0, "capped at 0")
        #expect(CreditScore.monitoringCompliance(offlinePointHours: 3, points: 0, window: day) == 100, "no points: nothing to judge")
        let c = CreditScore(factors: ["hazard_closure": 80, "enforcement": 50])
        // 85 with monitoring at 100; at 87.5 the factor's 15 % loses 12.5 × 0.15 = 1.875.
        #expect(abs(c.fillingMonitoring(87.5).score - 83.125) < 1e-9)
        // A factor the profile gives stands; serious dishonesty still scores 0.
        let given = CreditScore(factors: ["monitoring": 60])
        #expect(given.fillingMonitoring(87.5) == given && abs(given.fillingMonitoring(87.5).score - 94) < 1e-9)
        #expect(CreditScore(factors: [:], seriousDishonesty: true).fillingMonitoring(50).score == 0)
    }
}

@Suite struct PseudoAlarmTests {
    @Test("an alarm counts with the weight of the highest level it reached (AL1 1, AL2 2, red AL2 3) in s3, once in s1 and s2")
    func severityWeights() {
        var b = AlarmBehaviour()
        for s in UInt32(0)..<2 { b.noteReading(sensor: s, at: 0) }
        func t(_ sensor: UInt32, _ time: Int64, _ from: UInt8, _ to: UInt8) -> AlarmTransition {
            AlarmTransition(sensor: sensor, enterprise: 0, rule: 0, time: time, from: from, to: to, value: 0, raisedAt: 0, limit: 0)
        }
        b.note(t(0, 0, 0, 1), weight: 1)
        b.note(t(0, 10, 1, 2), weight: 3)
        b.note(t(0, 20, 2, 1), weight: 1)  // stepping down keeps the episode's weight
        b.note(t(0, 30, 1, 0))
        b.note(t(1, 40, 0, 1), weight: 1)
        let i = b.indicators(at: 100)
        #expect(i.alarms == 2 && i.alarmsPerPoint == (3 + 1) / 2.0)
        #expect(i.repeatAlarmShare == 0, "one alarm, however severe, is not a repeated alarm")
        #expect(i.disturbanceRate == 1)
    }

    @Test("anomaly episodes count as pseudo-alarms of weight 0.5 in s1–s3, never lower A, and leave the window after 24 h")
    func pseudoAlarmsRaiseA() throws {
        var b = AlarmBehaviour()
        for s in UInt32(0)..<4 { b.noteReading(sensor: s, at: 0) }
        // Sensor 0: one real alarm, raised at 0 and cleared after 40 min. Sensor 1: three anomaly episodes
        // (a run of anomalous readings is one episode). Sensor 2: one episode that is still going on.
        b.note(AlarmTransition(sensor: 0, enterprise: 0, rule: 0, time: 0, from: 0, to: 1, value: 30, raisedAt: 0, limit: 25))
        b.note(AlarmTransition(sensor: 0, enterprise: 0, rule: 0, time: 2_400_000, from: 1, to: 0, value: 5, raisedAt: 0, limit: 25))
        for (k, anomalous) in [true, true, false, true, false, false, true, true].enumerated() {
            b.noteAnomaly(sensor: 1, at: Int64(k) * 60_000, anomalous: anomalous)
            b.noteReading(sensor: 1, at: Int64(k) * 60_000)
        }
        b.noteAnomaly(sensor: 2, at: 100_000, anomalous: true)
        b.noteAnomaly(sensor: 3, at: 100_000, anomalous: false)
        let i = b.indicators(at: 3_600_000)
        #expect(i.alarms == 1 && i.pseudoAlarms == 4)
        #expect(i.disturbanceRate == 0.25 && i.repeatAlarmShare == 0 && i.alarmsPerPoint == 0.25)
        // Points alarming: sensor 0 (1) + sensors 1 and 2 (0.5 each); sensor 1 has 3 × 0.5 = 1.5 < 3: no repeat.
        #expect(i.withPseudo.disturbanceRate == 2.0 / 4 && i.withPseudo.repeatAlarmShare == 0)
        #expect(i.withPseudo.alarmsPerPoint == (1 + 0.5 * 4) / 4)
        let a = i.alarmScore
        #expect(a.withPseudo > a.alarms)
        let expected = RiskInputs.alarmScore(
            disturbanceRate: 0.5, repeatAlarmShare: 0, alarmsPerPoint: 0.75, meanTimeToClear: 2_400_000, longestAlarm: 2_400_000)
        #expect(abs(a.withPseudo - expected) < 1e-9)
        // A day later, only what happened since counts.
        b.noteAnomaly(sensor: 3, at: 90_000_000, anomalous: true)
        let later = b.indicators(at: 90_000_000)
        #expect(later.pseudoAlarms == 1 && later.alarms == 0)
        // Snapshot and restore keep the episodes and which points are in one.
        var w = SnapshotWriter()
        b.write(to: &w)
        var r = SnapshotReader(w.bytes)
        var restored = try AlarmBehaviour(reading: &r)
        #expect(r.atEnd)
        b.noteAnomaly(sensor: 3, at: 90_060_000, anomalous: true)
        restored.noteAnomaly(sensor: 3, at: 90_060_000, anomalous: true)
        #expect(b.indicators(at: 90_100_000) == restored.indicators(at: 90_100_000))
        #expect(restored.indicators(at: 90_100_000).pseudoAlarms == 1, "the episode that was going on continues")
    }

    @Test(
        "A reading noted with its anomaly verdict in one call equals noting them apart, also for points first seen by an anomaly and across a snapshot"
    )
    func combinedNoteEqualsSeparateNotes() throws {
        // Events: (time, sensor, reading?, verdict?); a verdict without a reading is an anomaly noted alone.
        var rng = TestRandom(seed: 29)
        var events: [(t: Int64, sensor: UInt32, reading: Bool, verdict: Bool?)] = []
        var t: Int64 = 0
        for _ in 0..<3_000 {
            t += Int64(rng.int(in: 0...30_000))
            let sensor = UInt32(rng.int(in: 0...11)) + (rng.bool(0.1) ? 100 : 0)
            if rng.bool(0.05) {
                events.append((t, sensor, false, rng.bool(0.5)))
            } else {
                events.append((t, sensor, true, rng.bool(0.2) ? nil : rng.bool(0.3)))
            }
        }
        var together = AlarmBehaviour()
        var apart = AlarmBehaviour()
        for (k, e) in events.enumerated() {
            if e.reading {
                together.noteReading(sensor: e.sensor, at: e.t, anomalous: e.verdict)
                apart.noteReading(sensor: e.sensor, at: e.t)
                if let verdict = e.verdict { apart.noteAnomaly(sensor: e.sensor, at: e.t, anomalous: verdict) }
            } else {
                together.noteAnomaly(sensor: e.sensor, at: e.t, anomalous: e.verdict!)
                apart.noteAnomaly(sensor: e.sensor, at: e.t, anomalous: e.verdict!)
            }
            if k == 1_500 {
                var w = SnapshotWriter()
                together.write(to: &w)
                var r = SnapshotReader(w.bytes)
                together = try AlarmBehaviour(reading: &r)
            }
            if k % 500 == 0 {
                #expect(together.indicators(at: e.t, staleAfter: 600_000) == apart.indicators(at: e.t, staleAfter: 600_000), "event \(k)")
            }
        }
        let a = together.indicators(at: t, staleAfter: 600_000)
        #expect(a == apart.indicators(at: t, staleAfter: 600_000))
        #expect(a.pseudoAlarms > 50, "\(a.pseudoAlarms) episodes: the comparison is not vacuous")
    }
}
