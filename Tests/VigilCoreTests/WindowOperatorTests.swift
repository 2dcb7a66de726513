import Testing
import VigilCore
import VigilTesting

/// Runs a stream through the fast operator and the reference, and returns the differences.
///
/// - Parameter clockDriven: Give the operator the watermark at each reading from a separate clock (as a partition
///   pipeline does) instead of letting it observe the event times.
func compareWithReference(
    spec: WindowSpec, outOfOrderness: Int64, records: [StreamGenerator.Record], batchSize: Int = 37, clockDriven: Bool = false
) -> (differences: [String], fastRows: Int, late: Int) {
    var clock = Watermark(outOfOrderness: outOfOrderness)
    var watermarks: [Int64] = []
    let fast = WindowOperator(spec: spec, watermark: Watermark(outOfOrderness: outOfOrderness), expectedSensors: 2)
    let reference = ReferenceWindowEngine(spec: spec, outOfOrderness: outOfOrderness)
    var output = WindowResults()
    var late = LateRecords()
    var lateIndices: [Int] = []
    var batch = ReadingBatch()
    var base = 0
    var values: [UInt32: [(Int64, Int64, Double)]] = [:]  // sensor → (start-agnostic) readings for scale
    for (i, r) in records.enumerated() {
        batch.append(eventTime: r.time, sensor: r.sensor, enterprise: r.enterprise, value: r.value)
        _ = clock.observe(eventTime: r.time)
        watermarks.append(clock.current)
        reference.process(time: r.time, sensor: r.sensor, enterprise: r.enterprise, value: r.value)
        values[r.sensor, default: []].append((r.time, 0, r.value))
        if batch.count == batchSize || i == records.count - 1 {
            if clockDriven {
                fast.process(batch, watermarks: watermarks, into: &output, late: &late)
            } else {
                fast.process(batch, into: &output, late: &late)
            }
            watermarks.removeAll()
            lateIndices.append(contentsOf: late.indices.map { base + Int($0) })
            late.removeAll()
            base += batch.count
            batch.removeAll()
        }
    }
    fast.finish(into: &output)
    reference.finish()
    var diffs: [String] = []
    if lateIndices != reference.lateIndices {
        diffs.append("late records fast \(lateIndices) != reference \(reference.lateIndices)")
    }
    let scaleOf: (WindowRow) -> Double = { row in
        // Mean absolute value of the sensor's readings inside the window bounds.
        let xs = (values[row.sensor] ?? []).filter { $0.0 >= row.windowStart && $0.0 < row.windowEnd }.map { abs($0.2) }
        return xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }
    diffs += RowComparison.differences(
        fast: output.rows, reference: reference.rows, statistics: spec.statistics,
        accuracy: spec.quantileAccuracy, meanAbs: scaleOf
    )
    return (diffs, output.rowCount, lateIndices.count)
}

@Suite struct WindowOperatorTests {
    static let kinds: [WindowSpec.Kind] = [
        .tumbling(size: 10_000), .hopping(size: 10_000, slide: 2_500), .hopping(size: 9_000, slide: 6_000),
        .session(gap: 4_000),
    ]
    static let modes: [WindowSpec.EmitMode] = [.onClose, .final, .early(every: 3_000)]

    @Test("Randomized streams: fast operators agree with the naive reference, observing time or given it", arguments: kinds)
    func randomizedAgreement(kind: WindowSpec.Kind) {
        var streams = 0
        var rows = 0
        var late = 0
        for seed in 0..<UInt64(750) {
            var rng = TestRandom(seed: seed &* 7919)
            let mode = Self.modes[Int(seed % 3)]
            let lateness: Int64 = [0, 2_000, 15_000][Int((seed / 3) % 3)]
            let ooo: Int64 = [0, 1_000, 5_000][Int((seed / 9) % 3)]
            var stats: StatisticSet = .all
            if seed % 4 == 1 { stats = .basic }
            if seed % 4 == 2 { stats = [.count, .first, .last, .rateOfChange, .ewma] }
            let spec = WindowSpec(kind: kind, allowedLateness: lateness, emit: mode, statistics: stats)
            var options = StreamGenerator.Options()
            options.sensors = rng.int(in: 1...6)
            options.records = rng.int(in: 1...160)
            options.extremeValues = seed % 2 == 0
            let records = StreamGenerator.generate(seed: seed, options: options)
            // Every other stream runs with the watermarks given, as in a partition pipeline.
            let result = compareWithReference(
                spec: spec, outOfOrderness: ooo, records: records, batchSize: rng.int(in: 1...50), clockDriven: seed % 2 == 1)
            #expect(result.differences.isEmpty, "seed \(seed) \(spec): \(result.differences.prefix(5))")
            streams += 1
            rows += result.fastRows
            late += result.late
        }
        // The generator must actually exercise emission and lateness.
        #expect(streams == 750)
        #expect(rows > 10_000)
        #expect(late > 100)
    }

    @Test func tumblingWorkedExample() {
        // Sensor 0, 60 s tumbling windows, no lateness: readings at 0 s, 20 s, 59.999 s, 61 s.
        let op = PaneWindowOperator(spec: WindowSpec(kind: .tumbling(size: 60_000)), watermark: Watermark(outOfOrderness: 0))
        var batch = ReadingBatch()
        for (t, x) in [(0, 10.0), (20_000, 14.0), (59_999, 12.0), (61_000, 20.0)] as [(Int64, Double)] {
            batch.append(eventTime: t, sensor: 0, enterprise: 0, value: x)
        }
        var out = WindowResults()
        var late = LateRecords()
        op.process(batch, into: &out, late: &late)
        // 61 s moved the watermark past 60 s: the first window is out, the second is open.
        #expect(out.rowCount == 1)
        let r = out[0]
        #expect(r.windowStart == 0 && r.windowEnd == 60_000 && r.count == 3)
        #expect(r.mean == 12 && r.min == 10 && r.max == 14)
        #expect(abs(r.stddev - (8.0 / 3).squareRoot()) < 1e-12)
        // A reading for the closed window is late: reported with its index, not lost.
        batch.removeAll()
        batch.append(eventTime: 30_000, sensor: 0, enterprise: 0, value: 99)
        op.process(batch, into: &out, late: &late)
        #expect(late.indices == [0] && op.lateCount == 1)
        op.finish(into: &out)
        #expect(out.rowCount == 2 && out[1].windowStart == 60_000 && out[1].count == 1)
    }

    @Test("The last window of a stream that goes quiet is emitted after the idle timeout")
    func quietStreamClosesLastWindow() {
        let op = PaneWindowOperator(
            spec: WindowSpec(kind: .tumbling(size: 10_000)),
            watermark: Watermark(outOfOrderness: 2_000, idleTimeout: 30_000)
        )
        var batch = ReadingBatch()
        for t in stride(from: Int64(0), to: 25_000, by: 1_000) {
            batch.append(eventTime: 1_000_000 + t, sensor: 3, enterprise: 1, value: Double(t))
        }
        var out = WindowResults()
        var late = LateRecords()
        let wall: Int64 = 5_000_000
        op.noteActivity(processingTime: wall)
        op.process(batch, into: &out, late: &late)
        let beforeIdle = out.rowCount
        #expect(beforeIdle == 2)  // [1.00e6, +10 s) and [+10 s, +20 s); the watermark is at +22 s
        op.advance(processingTime: wall + 29_999, into: &out)
        #expect(out.rowCount == beforeIdle)  // not idle yet
        op.advance(processingTime: wall + 30_000, into: &out)
        // idle: watermark = 1_024_000 - 2_000 + 30_000 ≥ 1_030_000, the last window [1_020_000, 1_030_000) closes
        #expect(out.rowCount == beforeIdle + 1)
        #expect(out[out.rowCount - 1].windowStart == 1_020_000 && out[out.rowCount - 1].count == 5)
    }

    @Test("Allowed lateness: a late reading produces a revision, a later one is reported late")
    func latenessRevisionThenLate() {
        let op = PaneWindowOperator(
            spec: WindowSpec(kind: .tumbling(size: 10_000), allowedLateness: 5_000),
            watermark: Watermark(outOfOrderness: 0)
        )
        var out = WindowResults()
        var late = LateRecords()
        var b = ReadingBatch()
        b.append(eventTime: 1_000, sensor: 0, enterprise: 0, value: 1)
        b.append(eventTime: 11_000, sensor: 0, enterprise: 0, value: 2)  // fires [0, 10 s)
        b.append(eventTime: 2_000, sensor: 0, enterprise: 0, value: 3)  // within lateness
        b.append(eventTime: 16_000, sensor: 0, enterprise: 0, value: 4)  // purges [0, 10 s) → revision
        b.append(eventTime: 3_000, sensor: 0, enterprise: 0, value: 5)  // beyond lateness → late
        op.process(b, into: &out, late: &late)
        #expect(out.rows.map(\.kind) == [.onTime, .revision])
        #expect(out[0].count == 1 && out[1].count == 2 && out[1].mean == 2)
        #expect(late.indices == [4])
    }

    @Test func sessionsMergeWhenBridged() {
        let op = SessionWindowOperator(
            spec: WindowSpec(kind: .session(gap: 1_000), statistics: .all), watermark: Watermark(outOfOrderness: 10_000)
        )
        var out = WindowResults()
        var late = LateRecords()
        var b = ReadingBatch()
        b.append(eventTime: 0, sensor: 1, enterprise: 0, value: 1)
        b.append(eventTime: 1_800, sensor: 1, enterprise: 0, value: 2)  // a second session (gap 1.8 s)
        b.append(eventTime: 900, sensor: 1, enterprise: 0, value: 3)  // bridges both
        op.process(b, into: &out, late: &late)
        op.finish(into: &out)
        #expect(out.rowCount == 1)
        #expect(out[0].windowStart == 0 && out[0].windowEnd == 2_800 && out[0].count == 3)
        #expect(out[0].first == 1 && out[0].last == 2)
    }
}
