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
        let seconds = elapsed.inSeconds
        return Outcome(records: records, rows: rows, lateRecords: op.lateCount, checksum: checksum, seconds: seconds)
    }

    /// W1 through the production ``PartitionPipeline``: the same window plus, for every reading, a two-level
    /// threshold rule with its alerts and the anomaly scorer with its records (what a pipeline with a sensor type
    /// does per reading; no data-gap or instrument checks). Records are encoded as the job encodes them, window
    /// rows excepted (W1 does not encode them either). Returns the outcome and the number of anomaly and grade
    /// records emitted.
    ///
    /// - Parameter grading: Also grade the enterprises, without tables: every reading, alarm transition and
    ///   anomaly episode goes into its enterprise's 24 h alarm behaviour, and the grade is evaluated at each
    ///   alarm transition and once per minute of event time; changed grades and hourly heartbeats are encoded.
    public static func runWithDetectors(
        batches: [ReadingBatch], spec: WindowSpec, expectedSensors: Int = W1Workload.sensors, grading: Bool = false
    ) -> (Outcome, Int) {
        var settings = PartitionPipelineSettings(windows: [.init(name: nil, spec: spec)])
        settings.outOfOrderness = 0
        settings.idleTimeout = nil
        settings.expectedSensors = expectedSensors
        settings.encodeOutputs = false
        settings.offlineAfter = nil
        settings.sensorTypes = [SensorTypePlan(name: "w1", match: ["W1-"], rule: ThresholdRule(name: "w1", level1: 40, level2: 50, deadband: 1))]
        settings.scoreAnomalies = true
        settings.anomalyFloor = 0.6
        if grading { settings.grading = PartitionPipelineSettings.Grading() }
        let pipeline = PartitionPipeline(settings: settings)
        // W1's slots: sensor k of enterprise k / 20, named so that the rule matches every sensor.
        var sensors = KeyInterner()
        var enterprises = KeyInterner()
        for k in 0..<expectedSensors { _ = sensors.intern("W1-S\(k)") }
        for e in 0..<(expectedSensors + W1Workload.sensorsPerEnterprise - 1) / W1Workload.sensorsPerEnterprise { _ = enterprises.intern("W1-E\(e)") }
        pipeline.decoder = ReadingDecoder(config: settings.decoder, sensors: sensors, enterprises: enterprises)
        pipeline.reserve(sensors: expectedSensors)
        var out = PartitionOutputs()
        var records = 0
        var emitted = 0
        var outputRecords = 0
        let clock = ContinuousClock()
        let start = clock.now
        for batch in batches {
            pipeline.process(batch, tables: nil, now: 0, into: &out)
            records += batch.count
            outputRecords += out.records.count
            out.removeAll()
        }
        pipeline.finish(into: &out)
        let elapsed = clock.now - start
        let counters = out.counters
        emitted = Int(counters.anomaliesByDetector.values.reduce(0, +) + counters.gradesByLevel.values.reduce(0, +))
        let seconds = elapsed.inSeconds
        let outcome = Outcome(
            records: records, rows: Int(counters.rowsByWindow.values.reduce(0, +)), lateRecords: counters.late,
            checksum: Double(outputRecords + out.records.count), seconds: seconds)
        return (outcome, emitted)
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
