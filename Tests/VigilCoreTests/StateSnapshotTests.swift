import Testing
import VigilCore
import VigilTesting

/// Restore-then-continue equals never stopping, for every kind of per-partition state besides the pane
/// operator (see SnapshotTests): session windows, alarm book, anomaly baselines, alarm behaviour and grade
/// hysteresis, key dictionaries.
@Suite struct StateSnapshotTests {
    static func batch(_ rs: ArraySlice<StreamGenerator.Record>) -> ReadingBatch {
        var b = ReadingBatch()
        for r in rs { b.append(eventTime: r.time, sensor: r.sensor, enterprise: r.enterprise, value: r.value) }
        return b
    }

    @Test(
        "session windows: snapshot → restore → continue gives the same rows", arguments: [WindowSpec.EmitMode.onClose, .final, .early(every: 4_000)])
    func sessionRestoreContinues(emit: WindowSpec.EmitMode) throws {
        let spec = WindowSpec(kind: .session(gap: 3_000), allowedLateness: 5_000, emit: emit, statistics: .all)
        for seed in 0..<UInt64(120) {
            var options = StreamGenerator.Options()
            options.sensors = 4
            options.records = 200
            let records = StreamGenerator.generate(seed: seed &+ 7, options: options)
            let cut = Int(seed * 7 % 200)
            let wm = Watermark(outOfOrderness: 1_000)
            var late = LateRecords()
            let a = SessionWindowOperator(spec: spec, watermark: wm)
            var outA = WindowResults()
            a.process(Self.batch(records[..<cut]), into: &outA, late: &late)
            a.process(Self.batch(records[cut...]), into: &outA, late: &late)
            a.finish(into: &outA)
            let b = SessionWindowOperator(spec: spec, watermark: wm)
            var outB = WindowResults()
            b.process(Self.batch(records[..<cut]), into: &outB, late: &late)
            let bytes = b.snapshot()
            let c = try SessionWindowOperator(spec: spec, watermark: wm, restoring: bytes)
            #expect(c.snapshot() == bytes, "seed \(seed): the restored operator snapshots to the same bytes")
            c.process(Self.batch(records[cut...]), into: &outB, late: &late)
            c.finish(into: &outB)
            #expect(outB.rows.map(exact) == outA.rows.map(exact), "seed \(seed) cut \(cut)")
            #expect(c.lateCount == a.lateCount)
        }
    }

    @Test func sessionSnapshotRejectsOtherSpecsAndCorruption() throws {
        let spec = WindowSpec(kind: .session(gap: 3_000), statistics: .basic)
        let op = SessionWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0))
        var out = WindowResults()
        var late = LateRecords()
        op.process(Self.batch(StreamGenerator.generate(seed: 1, options: .init())[...]), into: &out, late: &late)
        var bytes = op.snapshot()
        let other = WindowSpec(kind: .session(gap: 4_000), statistics: .basic)
        #expect(throws: SnapshotError.self) { try SessionWindowOperator(spec: other, watermark: Watermark(outOfOrderness: 0), restoring: bytes) }
        bytes[bytes.count - 9] ^= 1
        #expect(throws: SnapshotError.self) { try SessionWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), restoring: bytes) }
    }

    /// A noisy series with excursions above both alarm levels and back.
    static func readings(seed: UInt64, count: Int) -> [(sensor: UInt32, t: Int64, x: Double)] {
        var rng = TestRandom(seed: seed)
        var out: [(UInt32, Int64, Double)] = []
        var t: Int64 = 1_700_000_000_000
        for _ in 0..<count {
            t += Int64(rng.int(in: 500...1_500))
            let sensor = UInt32(rng.int(in: 0...5))
            let base = rng.bool(0.1) ? rng.double(in: 20...60) : rng.double(in: 0...10)
            out.append((sensor, t, rng.bool(0.02) ? base : base + rng.double(in: -1...1)))
        }
        return out
    }

    @Test("alarm book and anomaly baselines: snapshot → restore → continue gives the same transitions and scores")
    func detectorsRestoreContinue() throws {
        let rules = [
            ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: 2, onDelay: 2_000, offDelay: 1_000),
            ThresholdRule(name: "o2", direction: .low, level1: 1, deadband: 0.5),
        ]
        var settings = AnomalySettings()
        settings.window = 16
        settings.warmUp = 8
        for seed in 0..<UInt64(40) {
            let series = Self.readings(seed: seed, count: 600)
            let cut = Int(seed * 13 % 600)
            func batch(_ part: ArraySlice<(sensor: UInt32, t: Int64, x: Double)>) -> ReadingBatch {
                var b = ReadingBatch()
                for r in part { b.append(eventTime: r.t, sensor: r.sensor, enterprise: r.sensor / 3, value: r.x) }
                return b
            }
            let ruleFor: (UInt32) -> Int? = { slot in slot == 5 ? nil : slot == 4 ? 1 : 0 }
            func scores(_ scorer: inout AnomalyScorer, _ part: ArraySlice<(sensor: UInt32, t: Int64, x: Double)>) -> [String] {
                part.map { r in
                    let s = scorer.score(slot: r.sensor, time: r.t, value: r.x, rule: r.sensor == 5 ? nil : rules[r.sensor == 4 ? 1 : 0])
                    return "\(s.score.bitPattern) \(s.detector) \(s.baseline.bitPattern)"
                }
            }
            // Uninterrupted.
            var a = ThresholdDetector(rules: rules)
            var tA: [AlarmTransition] = []
            a.process(batch(series[...]), into: &tA, ruleFor: ruleFor)
            var sa = AnomalyScorer(settings: settings)
            let scoresA = scores(&sa, series[...])
            // Stopped at the cut, restored, continued.
            var b = ThresholdDetector(rules: rules)
            var tB: [AlarmTransition] = []
            b.process(batch(series[..<cut]), into: &tB, ruleFor: ruleFor)
            var sb = AnomalyScorer(settings: settings)
            var scoresB = scores(&sb, series[..<cut])
            var w = SnapshotWriter()
            b.write(to: &w)
            sb.write(to: &w)
            var r = SnapshotReader(w.bytes)
            var c = try ThresholdDetector(rules: rules, reading: &r)
            var sc = try AnomalyScorer(settings: settings, reading: &r)
            #expect(r.atEnd)
            c.process(batch(series[cut...]), into: &tB, ruleFor: ruleFor)
            scoresB += scores(&sc, series[cut...])
            #expect(tB == tA, "seed \(seed) cut \(cut)")
            #expect(scoresB == scoresA, "seed \(seed) cut \(cut)")
        }
        #expect(!Self.readings(seed: 0, count: 600).isEmpty)
    }

    @Test func detectorStateUnderOtherRulesIsRefused() throws {
        var d = ThresholdDetector(rules: [ThresholdRule(name: "gas", level1: 25)])
        var t: [AlarmTransition] = []
        var b = ReadingBatch()
        b.append(eventTime: 1, sensor: 0, enterprise: 0, value: 30)
        d.process(b, into: &t, ruleFor: { _ in 0 })
        var w = SnapshotWriter()
        d.write(to: &w)
        var r = SnapshotReader(w.bytes)
        #expect(throws: SnapshotError.self) { try ThresholdDetector(rules: [ThresholdRule(name: "gas", level1: 20)], reading: &r) }
        var settings = AnomalySettings()
        var s = AnomalyScorer(settings: settings)
        _ = s.score(slot: 0, time: 1, value: 1, rule: nil)
        var sw = SnapshotWriter()
        s.write(to: &sw)
        settings.window = 30
        var sr = SnapshotReader(sw.bytes)
        #expect(throws: SnapshotError.self) { try AnomalyScorer(settings: settings, reading: &sr) }
    }

    @Test("alarm behaviour, grade hysteresis and key dictionaries restore exactly")
    func behaviourGraderAndKeys() throws {
        var behaviour = AlarmBehaviour(window: 3_600_000)
        var grader = RiskGrader()
        var keys = KeyInterner()
        for name in ["E0001-GT-001", "E0001-TT-002", "E0002-ÖL-3", ""] { _ = keys.intern(name) }
        let series = Self.readings(seed: 3, count: 400)
        var transitions: [AlarmTransition] = []
        var det = ThresholdDetector(rules: [ThresholdRule(name: "gas", level1: 25, level2: 50)])
        var b = ReadingBatch()
        for r in series { b.append(eventTime: r.t, sensor: r.sensor, enterprise: 0, value: r.x) }
        det.process(b, into: &transitions, ruleFor: { _ in 0 })
        #expect(transitions.count > 4)
        let half = transitions.count / 2
        for t in transitions[..<half] { behaviour.note(t) }
        for r in series.prefix(200) { behaviour.noteReading(sensor: r.sensor, at: r.t) }
        var inputs = RiskInputs()
        inputs.alarm = 90
        _ = grader.update(inputs, at: series[100].t)
        inputs.alarm = 0
        _ = grader.update(inputs, at: series[150].t)
        var w = SnapshotWriter()
        behaviour.write(to: &w)
        grader.write(to: &w)
        keys.write(to: &w)
        var r = SnapshotReader(w.bytes)
        var behaviour2 = try AlarmBehaviour(reading: &r)
        var grader2 = RiskGrader()
        try grader2.read(from: &r)
        let keys2 = try KeyInterner(reading: &r)
        #expect(r.atEnd)
        #expect(grader2.level == grader.level && grader2.belowSince == grader.belowSince && grader.belowSince != nil)
        #expect((0..<keys.count).map { keys2.key(for: UInt32($0)) } == (0..<keys.count).map { keys.key(for: UInt32($0)) })
        #expect(keys2.slot(for: "E0002-ÖL-3") == 2)
        for t in transitions[half...] {
            behaviour.note(t)
            behaviour2.note(t)
        }
        let now = series.last!.t
        let i1 = behaviour.indicators(at: now)
        let i2 = behaviour2.indicators(at: now)
        #expect("\(i1)" == "\(i2)")
        // Truncated input is an error, not a crash.
        var short = SnapshotReader(Array(w.bytes.prefix(w.bytes.count / 2)))
        #expect(throws: SnapshotError.self) {
            _ = try AlarmBehaviour(reading: &short)
            var g = RiskGrader()
            try g.read(from: &short)
            _ = try KeyInterner(reading: &short)
        }
    }
}
