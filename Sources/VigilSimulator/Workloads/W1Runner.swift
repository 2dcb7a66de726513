public import VigilCore

/// Runs workload W1 through the window engine and reports what it did.
public enum W1Runner: Sendable {
    /// The outcome of one run.
    public struct Outcome: Sendable {
        public var records: Int
        public var rows: Int
        public var lateRecords: Int64
        /// Sum over rows of count + mean + min + max + stddev, so no work can be optimised away and two
        /// implementations can be compared.
        public var checksum: Double
        public var seconds: Double
    }

    /// Processes `batches` with a fresh operator for `spec` and finishes the input.
    ///
    /// - Parameter measure: Called around the timed region (start, stop) for allocation counting.
    public static func run(
        batches: [ReadingBatch],
        spec: WindowSpec,
        expectedSensors: Int = W1Workload.sensors,
        onStart: () -> Void = {},
        onStop: () -> Void = {}
    ) -> Outcome {
        let op = PaneWindowOperator(
            spec: spec, watermark: Watermark(outOfOrderness: 0), expectedSensors: expectedSensors
        )
        var output = WindowResults()
        var late = LateRecords()
        var rows = 0
        var checksum = 0.0
        var records = 0
        // Warm the output buffer's capacity so the measured region sees steady state.
        output.append(WindowRow.zero)
        output.removeAll()
        output.reserve(expectedSensors * 2)
        late.indices.reserveCapacity(1024)
        let clock = ContinuousClock()
        onStart()
        let start = clock.now
        for batch in batches {
            op.process(batch, into: &output, late: &late)
            records += batch.count
            if output.rowCount > 0 {
                checksum += fold(output)
                rows += output.rowCount
                output.removeAll()
            }
            late.removeAll()
        }
        op.finish(into: &output)
        checksum += fold(output)
        rows += output.rowCount
        let elapsed = clock.now - start
        onStop()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Outcome(records: records, rows: rows, lateRecords: op.lateCount, checksum: checksum, seconds: seconds)
    }

    /// W1 plus, for every reading, a two-level threshold rule and the anomaly scorer (what a pipeline with
    /// sensor types does per reading). Returns the outcome and the number of readings scored ≥ 0.6.
    ///
    /// - Parameter grading: Also grade the enterprises as the job does, without tables and records: every
    ///   reading, alarm transition and anomaly episode goes into its enterprise's 24 h alarm behaviour, and the
    ///   grade is evaluated at each alarm transition and once per minute of event time (the second element then
    ///   also counts the grade changes, so that nothing is optimised away).
    public static func runWithDetectors(
        batches: [ReadingBatch], spec: WindowSpec, expectedSensors: Int = W1Workload.sensors, grading: Bool = false
    ) -> (Outcome, Int) {
        var behaviour: [AlarmBehaviour] = []
        var graders: [RiskGrader] = []
        var nextEvaluation: [Int64] = []
        var gradeChanges = 0
        // Per sensor slot, its position in its enterprise's alarm behaviour (W1's sensors keep their enterprise).
        var pointPosition: [Int32] = []
        var detector = ThresholdDetector(rules: [ThresholdRule(name: "w1", level1: 40, level2: 50, deadband: 1)])
        var scorer = AnomalyScorer()
        scorer.reserve(sensors: expectedSensors)
        var transitions: [AlarmTransition] = []
        transitions.reserveCapacity(1_024)
        var limits = ReadingLimits()
        var scores = AnomalyScores()
        let context = LimitContext()
        var flagged = 0
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = run(batches: batches, spec: spec, expectedSensors: expectedSensors, onStart: {}, onStop: {})
        for batch in batches {
            detector.process(batch, into: &transitions, limits: &limits, context: context) { _ in 0 }
            scorer.score(batch, limits: limits, into: &scores)
            for s in scores.score where s >= 0.6 { flagged += 1 }
            if grading {
                var tp = 0
                for k in 0..<batch.count {
                    let e = Int(batch.enterprise[k])
                    if e >= behaviour.count {
                        let n = e + 1 - behaviour.count
                        behaviour.append(contentsOf: repeatElement(AlarmBehaviour(), count: n))
                        graders.append(contentsOf: repeatElement(RiskGrader(), count: n))
                        nextEvaluation.append(contentsOf: repeatElement(.min, count: n))
                    }
                    let t = batch.eventTime[k]
                    let sensor = batch.sensor[k]
                    var due = t >= nextEvaluation[e]
                    while tp < transitions.count && transitions[tp].sensor == sensor && transitions[tp].time == t {
                        behaviour[e].note(transitions[tp], weight: transitions[tp].to == 2 ? 2 : 1)
                        due = true
                        tp += 1
                    }
                    let anomalous = scores.score[k] >= 0.6 && scores.detector[k] != .threshold && scores.detector[k] != .dataGap
                    let s = Int(sensor)
                    if s >= pointPosition.count { pointPosition.append(contentsOf: repeatElement(-1, count: s + 1 - pointPosition.count)) }
                    if pointPosition[s] < 0 { pointPosition[s] = Int32(behaviour[e].point(sensor: sensor, at: t)) }
                    behaviour[e].noteReading(point: Int(pointPosition[s]), at: t, anomalous: anomalous)
                    if due {
                        nextEvaluation[e] = (EventTime.floorDiv(t, 60_000) + 1) * 60_000
                        let indicators = behaviour[e].indicators(at: t)
                        var inputs = RiskInputs()
                        let alarm = indicators.alarmScore
                        inputs.alarm = max(alarm.alarms, alarm.withPseudo)
                        inputs.dataQuality = 20 * indicators.offlineShare
                        let before = graders[e].level
                        if graders[e].update(inputs, at: t) != before { gradeChanges += 1 }
                    }
                }
            }
            transitions.removeAll(keepingCapacity: true)
        }
        let elapsed = clock.now - start
        outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return (outcome, flagged + gradeChanges)
    }

    /// The checksum contribution of a set of rows (the "sink" of the benchmark).
    public static func fold(_ r: WindowResults) -> Double {
        var s = 0.0
        for i in 0..<r.rowCount {
            s += Double(r.count[i]) + r.mean[i] + r.min[i] + r.max[i] + r.variance[i].squareRoot()
        }
        return s
    }
}
