import Testing
import VigilCore

@Suite struct WatermarkTests {
    @Test func followsMaxEventTimeMinusOutOfOrderness() {
        var wm = Watermark(outOfOrderness: 5_000)
        #expect(wm.current == .min)
        let moved = wm.observe(eventTime: 100_000)
        #expect(moved)
        #expect(wm.current == 95_000)
        let movedBack = wm.observe(eventTime: 90_000)
        #expect(!movedBack)  // out of order: no change
        #expect(wm.current == 95_000 && wm.maxEventTime == 100_000)
    }

    @Test func idlePartitionAdvancesWithProcessingTime() {
        var wm = Watermark(outOfOrderness: 1_000, idleTimeout: 10_000)
        let a0 = wm.advance(processingTime: 1_000_000)
        #expect(!a0)  // nothing seen yet
        _ = wm.observe(eventTime: 50_000)
        wm.noteActivity(processingTime: 1_000_000)
        let a1 = wm.advance(processingTime: 1_009_999)
        #expect(!a1)
        let a2 = wm.advance(processingTime: 1_010_000)
        #expect(a2)
        #expect(wm.current == 49_000 + 10_000)
        let a3 = wm.advance(processingTime: 1_020_000)
        #expect(a3 && wm.current == 69_000)
    }

    @Test func floorDivisionAndAlignment() {
        #expect(EventTime.floorDiv(-1, 60_000) == -1)
        #expect(EventTime.floorDiv(59_999, 60_000) == 0)
        #expect(EventTime.alignDown(-1, 10) == -10)
        #expect(EventTime.alignUp(1, 10) == 10)
        #expect(EventTime.alignUp(10, 10) == 10)
        #expect(EventTime.saturatingAdd(.max, 1) == .max)
        #expect(EventTime.saturatingSubtract(.min, 1) == .min)
    }
}
