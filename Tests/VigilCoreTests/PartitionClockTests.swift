import Testing
import VigilCore

@Suite struct PartitionClockTests {
    @Test("the clock follows the latest reading, moves with the processing clock once idle, and never moves back")
    func followsReadingsAndIdles() {
        var clock = PartitionClock(outOfOrderness: 5_000, idleTimeout: 30_000)
        #expect(clock.time == .min && clock.watermark == .min)
        let moved1 = clock.advanceIdle(processingTime: 1_000_000)
        #expect(!moved1, "no reading yet: nothing to extrapolate from")
        var batch = ReadingBatch()
        for t: Int64 in [10_000, 30_000, 20_000] { batch.append(eventTime: t, sensor: 0, enterprise: 0, value: 1) }
        var times: [Int64] = []
        clock.observe(batch, processingTime: 1_000_000, times: &times)
        #expect(times == [10_000, 30_000, 30_000], "the time after each reading, what each stage reads there")
        #expect(clock.watermark == 25_000 && clock.latestReading == 30_000)
        let moved2 = clock.advanceIdle(processingTime: 1_029_999)
        #expect(!moved2, "not idle for 30 s yet")
        let moved3 = clock.advanceIdle(processingTime: 1_040_000)
        #expect(moved3)
        #expect(clock.time == 70_000 && clock.watermark == 65_000 && clock.latestReading == 30_000)
        // A late backlog after the idle span does not move the clock back, and the next idle advance starts
        // from the latest reading.
        var late = ReadingBatch()
        late.append(eventTime: 50_000, sensor: 0, enterprise: 0, value: 1)
        clock.observe(late, processingTime: 1_050_000, times: &times)
        #expect(times == [70_000] && clock.latestReading == 50_000)
        let moved4 = clock.advanceIdle(processingTime: 1_060_000)
        #expect(!moved4, "50 s + 10 s idle is not past 70 s (and not idle long enough)")
        let moved5 = clock.advanceIdle(processingTime: 1_100_000)
        #expect(moved5 && clock.time == 100_000)
    }

    @Test("after a restart the idle span counts from the restart; the snapshot holds the times, not the activity")
    func resumeAndSnapshot() throws {
        var clock = PartitionClock(outOfOrderness: 0, idleTimeout: 10_000)
        clock.observe(eventTime: 500_000)
        var w = SnapshotWriter()
        clock.write(to: &w)
        var restored = PartitionClock(outOfOrderness: 0, idleTimeout: 10_000)
        var r = SnapshotReader(w.bytes)
        try restored.read(from: &r)
        #expect(restored.time == 500_000 && restored.lastActivity == nil)
        let moved6 = restored.advanceIdle(processingTime: 9_000_000)
        #expect(!moved6, "no activity known: the restart must resume the clock")
        restored.resume(processingTime: 9_000_000)
        let moved7 = restored.advanceIdle(processingTime: 9_009_999)
        #expect(!moved7)
        let moved8 = restored.advanceIdle(processingTime: 9_010_000)
        #expect(moved8 && restored.time == 510_000)
        var bad = SnapshotWriter()
        bad.i64(10)
        bad.i64(5)
        var badReader = SnapshotReader(bad.bytes)
        #expect(throws: SnapshotError.self) { try restored.read(from: &badReader) }
    }

    @Test("a ticker is due at the first time it sees, then at each multiple after the time it ran, negative times included")
    func ticker() {
        var t = Ticker(every: 60_000)
        #expect(t.isDue(at: .min + 1))
        t.ran(at: 125_000)
        #expect(t.next == 180_000 && !t.isDue(at: 179_999) && t.isDue(at: 180_000))
        #expect(t.tick(atOrBefore: 125_000) == 120_000)
        t.ran(at: -1)
        #expect(t.next == 0 && Ticker.tick(atOrBefore: -1, every: 60_000) == -60_000)
        #expect(Ticker.next(after: 120_000, every: 60_000) == 180_000)
    }
}
