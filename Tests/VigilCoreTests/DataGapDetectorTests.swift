import Testing
import VigilCore
import VigilTesting

extension DataGapDetector {
    /// Drives the detector as the partition pipeline does: `clock` observes the batch and the detector reads its
    /// watermark at each reading.
    mutating func process(_ batch: ReadingBatch, clock: inout PartitionClock, into events: inout [DataGapEvent]) {
        var times: [Int64] = []
        clock.observe(batch, processingTime: 0, times: &times)
        process(batch, watermarks: times.map { clock.watermark(at: $0) }, into: &events)
    }
}

@Suite struct DataGapDetectorTests {
    static func batch(_ rs: ArraySlice<(UInt32, Int64, Double)>) -> ReadingBatch {
        var b = ReadingBatch()
        for (s, t, x) in rs { b.append(eventTime: t, sensor: s, enterprise: s / 2, value: x) }
        return b
    }

    @Test("a silent point goes offline 30 min after its last reading, noticed while others report, and comes back")
    func offlineWhileSilent() {
        var d = DataGapDetector(offlineAfter: 1_800_000, checkEvery: 60_000)
        var clock = PartitionClock(outOfOrderness: 0)
        var events: [DataGapEvent] = []
        var readings: [(UInt32, Int64, Double)] = []
        // Sensors 0 and 1 every 10 s for 2 h; sensor 1 stops after 20 min and returns at 90 min.
        for k in 0..<720 {
            let t = Int64(k) * 10_000
            readings.append((0, t, 1))
            if t < 1_200_000 || t >= 5_400_000 { readings.append((1, t, 2)) }
        }
        d.process(Self.batch(readings[...]), clock: &clock, into: &events)
        #expect(events.count == 2)
        #expect(events.first == DataGapEvent(sensor: 1, offline: true, time: 1_190_000 + 1_800_000, lastSeen: 1_190_000, value: 2))
        #expect(events.last == DataGapEvent(sensor: 1, offline: false, time: 5_400_000, lastSeen: 1_190_000, value: 2))
        #expect(!d.isOffline(slot: 1) && !d.isOffline(slot: 0))
    }

    @Test("a whole partition falling silent: every point's gap is reported, by the clock while silent or by its next reading")
    func wholePartitionSilent() {
        func readings(from start: Int64, to end: Int64) -> [(UInt32, Int64, Double)] {
            stride(from: start, to: end, by: 10_000).flatMap { t in [(UInt32(0), t, 1.0), (UInt32(1), t, 2.0)] }
        }
        let before = readings(from: 0, to: 600_000)
        let after = readings(from: 4_000_000, to: 4_100_000)
        // Nothing between: the first reading after the gap is the one that shows it, for both points.
        var d = DataGapDetector(offlineAfter: 1_800_000, checkEvery: 60_000)
        var clock = PartitionClock(outOfOrderness: 5_000)
        var events: [DataGapEvent] = []
        d.process(Self.batch(before[...]), clock: &clock, into: &events)
        d.process(Self.batch(after[...]), clock: &clock, into: &events)
        let expected = [UInt32(0), 1].flatMap { s -> [DataGapEvent] in
            [
                DataGapEvent(sensor: s, offline: true, time: 590_000 + 1_800_000, lastSeen: 590_000, value: Double(s + 1)),
                DataGapEvent(sensor: s, offline: false, time: 4_000_000, lastSeen: 590_000, value: Double(s + 1)),
            ]
        }
        #expect(events == expected)
        // The clock of the silent partition moved by the caller: both go offline while silent, and come back.
        var c = DataGapDetector(offlineAfter: 1_800_000, checkEvery: 60_000)
        var cClock = PartitionClock(outOfOrderness: 5_000, idleTimeout: 60_000)
        var clocked: [DataGapEvent] = []
        c.process(Self.batch(before[...]), clock: &cClock, into: &clocked)
        // Silent since processing time 0: the clock extrapolates from its latest reading (590 s).
        let moved1 = cClock.advanceIdle(processingTime: 1_800_000)
        #expect(moved1)
        c.observe(watermark: cClock.watermark, into: &clocked)
        #expect(clocked.isEmpty, "not yet past the out-of-orderness and the next check")
        let moved2 = cClock.advanceIdle(processingTime: 1_800_000 + 65_000)
        #expect(moved2)
        c.observe(watermark: cClock.watermark, into: &clocked)
        #expect(clocked.map(\.offline) == [true, true])
        #expect(c.isOffline(slot: 0) && c.isOffline(slot: 1))
        c.process(Self.batch(after[...]), clock: &cClock, into: &clocked)
        // The same events, in the order the points came back.
        #expect(Set(clocked) == Set(expected) && clocked.count == expected.count)
    }

    /// Random streams: the events are the same however the input is split into batches, and after a
    /// snapshot/restore at any cut.
    @Test func independentOfBatchingAndRestorable() throws {
        var offlineEvents = 0
        var onlineEvents = 0
        for seed in 0..<UInt64(60) {
            var rng = TestRandom(seed: seed)
            var readings: [(UInt32, Int64, Double)] = []
            var t: Int64 = 1_700_000_000_000
            var silentUntil = [Int64](repeating: 0, count: 8)
            for _ in 0..<3_000 {
                t += Int64(rng.int(in: 0...4_000))
                let s = rng.int(in: 0...7)
                if rng.bool(0.002) { silentUntil[s] = t + Int64(rng.int(in: 600_000...4_000_000)) }
                guard t >= silentUntil[s] else { continue }
                let jitter = rng.bool(0.1) ? Int64(rng.int(in: 0...20_000)) : 0
                readings.append((UInt32(s), t - jitter, rng.double(in: 0...10)))
            }
            func run(_ cuts: [Int]) -> [DataGapEvent] {
                var d = DataGapDetector(offlineAfter: 600_000, checkEvery: 30_000)
                var clock = PartitionClock(outOfOrderness: 5_000)
                var out: [DataGapEvent] = []
                var start = 0
                for c in cuts + [readings.count] {
                    d.process(Self.batch(readings[start..<c]), clock: &clock, into: &out)
                    start = c
                }
                return out
            }
            let whole = run([])
            offlineEvents += whole.filter(\.offline).count
            onlineEvents += whole.filter { !$0.offline }.count
            var cuts = (0..<rng.int(in: 1...20)).map { _ in rng.int(in: 0...readings.count) }.sorted()
            #expect(run(cuts) == whole, "seed \(seed)")
            // Snapshot at one cut, restore, continue.
            let cut = cuts.removeFirst()
            var a = DataGapDetector(offlineAfter: 600_000, checkEvery: 30_000)
            var clock = PartitionClock(outOfOrderness: 5_000)
            var out: [DataGapEvent] = []
            a.process(Self.batch(readings[..<cut]), clock: &clock, into: &out)
            var w = SnapshotWriter()
            a.write(to: &w)
            clock.write(to: &w)
            var r = SnapshotReader(w.bytes)
            var legacy = Int64.min
            var legacyEnterprises: [UInt32?] = []
            var b = try DataGapDetector(
                offlineAfter: 600_000, checkEvery: 30_000, reading: &r, clock: &legacy, enterprises: &legacyEnterprises)
            #expect(legacyEnterprises.isEmpty)
            var restoredClock = PartitionClock(outOfOrderness: 5_000)
            try restoredClock.read(from: &r)
            #expect(r.atEnd && restoredClock.time == clock.time && restoredClock.latestReading == clock.latestReading)
            b.process(Self.batch(readings[cut...]), clock: &restoredClock, into: &out)
            #expect(out == whole, "seed \(seed) cut \(cut)")
        }
        // The streams do go silent and come back: the comparisons are not vacuous.
        #expect(offlineEvents > 20 && onlineEvents > 20, "\(offlineEvents) offline, \(onlineEvents) online events")
    }
}
