import Foundation
import Testing
@testable import VigilCore

/// The partition pipeline's snapshot: restored as it was, refused under other windows, and readable from the
/// previous format (whose fingerprint digests the windows' text).
@Suite struct PartitionPipelineSnapshotTests {
    static func settings(size: Int64) -> PartitionPipelineSettings {
        var s = PartitionPipelineSettings(windows: [.init(name: "m", spec: WindowSpec(kind: .tumbling(size: size), statistics: .basic))])
        s.sensorTypes = [SensorTypePlan(name: "gas", match: ["-GT-"], rule: ThresholdRule(name: "gas", level1: 25, level2: 50))]
        s.idleTimeout = nil
        return s
    }

    /// A pipeline that has seen 10 minutes of two gas points, one of them alarming.
    static func fed(_ settings: PartitionPipelineSettings) -> PartitionPipeline {
        let pipeline = PartitionPipeline(settings: settings)
        var sensors = KeyInterner()
        var enterprises = KeyInterner()
        _ = sensors.intern("E0-GT-1")
        _ = sensors.intern("E0-GT-2")
        _ = enterprises.intern("E0")
        pipeline.decoder = ReadingDecoder(config: settings.decoder, sensors: sensors, enterprises: enterprises)
        var batch = ReadingBatch()
        for k in 0..<60 {
            for s in 0..<2 { batch.append(eventTime: Int64(k) * 10_000, sensor: UInt32(s), enterprise: 0, value: s == 0 && k > 20 ? 30 : 5) }
        }
        var out = PartitionOutputs()
        pipeline.process(batch, tables: nil, now: 0, into: &out)
        #expect(out.counters.alertsByLevel["raised AL1"] == 1, "\(out.counters)")
        return pipeline
    }

    /// `bytes` resealed as format `version` with `fingerprint` in place of the one written.
    static func resealed(_ bytes: [UInt8], version: UInt16, fingerprint: UInt32) throws -> [UInt8] {
        var r = SnapshotReader(try SnapshotCodec.open(bytes, kind: PartitionSnapshot.kind))
        var w = SnapshotWriter()
        w.string(try r.string())
        w.u32(try r.u32())
        w.i64(try r.i64())
        _ = try r.u32()
        w.u32(fingerprint)
        while !r.atEnd { w.u8(try r.u8()) }
        var sealed = SnapshotCodec.seal(kind: PartitionSnapshot.kind, payload: w.bytes)
        sealed[4] = UInt8(version & 0xFF)
        sealed[5] = UInt8(version >> 8)
        let crc = SnapshotCodec.crc32(Array(sealed.dropLast(4)))
        for b in 0..<4 { sealed[sealed.count - 4 + b] = UInt8(truncatingIfNeeded: crc >> (8 * b)) }
        return sealed
    }

    @Test("a snapshot restores the same state, and is refused by a pipeline with other windows")
    func restoresOrRefuses() throws {
        let settings = Self.settings(size: 60_000)
        let bytes = Self.fed(settings).snapshot(topic: "t", partition: 3, nextOffset: 120)
        #expect(try SnapshotCodec.openVersioned(bytes, kind: PartitionSnapshot.kind).version == 7)
        let restored = PartitionPipeline(settings: settings)
        let (offset, warnings) = try restored.restore(from: bytes, topic: "t", partition: 3)
        #expect(offset == 120 && warnings.isEmpty)
        #expect(restored.snapshot(topic: "t", partition: 3, nextOffset: 120) == bytes)
        let other = PartitionPipeline(settings: Self.settings(size: 300_000))
        #expect(throws: SnapshotError.self) { _ = try other.restore(from: bytes, topic: "t", partition: 3) }
        #expect(throws: SnapshotError.self) { _ = try restored.restore(from: bytes, topic: "t", partition: 4) }
    }

    @Test("the fingerprint depends on every window field and the out-of-orderness, not on the spec's text")
    func fingerprintFields() {
        let base = Self.settings(size: 60_000)
        var variants: [PartitionPipelineSettings] = []
        var lateness = base
        lateness.windows[0].spec.allowedLateness = 5_000
        var emit = base
        emit.windows[0].spec.emit = .final
        var statistics = base
        statistics.windows[0].spec.statistics = .all
        var name = base
        name.windows[0].name = "minute"
        var ooo = base
        ooo.outOfOrderness = 1_000
        variants = [lateness, emit, statistics, name, ooo, Self.settings(size: 120_000)]
        let prints = Set(variants.map(\.stateFingerprint))
        #expect(prints.count == variants.count && !prints.contains(base.stateFingerprint))
        #expect(Self.settings(size: 60_000).stateFingerprint == base.stateFingerprint)
    }

    /// A format-4 snapshot of ``fed(_:)`` with `settings(size: 60_000)` (topic "t", partition 0, next offset 120),
    /// written by the release before the partition clock: the alert book kept its own watermark.
    static let formatFour: [UInt8] = Array(
        Data(
            base64Encoded:
                "VkdTTgQAFAAlAwAAAAAAAAEAAAAAAAAAdAAAAAB4AAAAAAAAANhaoxUCAAAAAAAAAAcAAAAAAAAARTAtR1QtMQcAAAAAAAAARTAtR1QtMgEAAAAAAAAAAgAAAAAAAABFMAEAAAAAAAAA8QAAAAAAAABWR1NOBAABAN0AAAAAAAAAImdmGLAACQAAAAAAKO0IAAAAAAABAAAAAAAAAAAAAAAAAAAAABIAAAAAAAAAwCcJAAAAAADAJwkAAAAAAMAnCQAAAAAAAAAAAAAAAIAABAAAAAAAAAUAAAAAAAAAAQAAAAAAAAAJAAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAGAAAAAAAAAAAAAAAAAD5AAAAAAAAAAAAAAAAAAAA+QAAAAAAAAD5AAQAAAAAAAAAGAAAAAAAAAAAAAAAAABRAAAAAAAAAAAAAAAAAAAAUQAAAAAAAABRAAAAAAAAAAACNwixjOAAAAAAAAAAlWXiyAgAAAAAAAAAAAAAAAQFQNAMAAAAAAFA0AwAAAAAAAAAAAAAAAAAAAAAAAIAAAAAAAAAAABwAAAAAAAAAXPuGXgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABgAAAAAAAAAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAAAAYwAAAAAAAABAdxsAAAAAAGDqAAAAAAAAsAAJAAAAAAAo7QgAAAAAAAAAAAAAAAAAAMAnCQAAAAAAAgAAAAAAAACwAAkAAAAAAAAAAAAAAD5AAAAAAACwAAkAAAAAAAAAAAAAABRAAAAAAAB7AAAAAAAAAABcJgUAAAAAAN1tAAAAAABAdxsAAAAAAOCTBAAAAAAAYOoAAAAAAACwAAkAAAAAACjtCAAAAAAAAAAAAAAAAAAAwCcJAAAAAAABAAAAAAAAAAFQEXEAAAAAAFA0AwAAAAAAAAAAAAAAAAABUDQDAAAAAAAAAAAAAAAAgEkAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAAAAAAAAACAAAAAAAAAAIBQNAMAAAAAAAAAAAAAAACAAQAAAAAAAAAAAQAAAAAAAABQNAMAAAAAAAgAAAAAAAAAAAAAAAAAAAB8NjAM"
        )!)

    @Test("a format-4 snapshot (a watermark per stage) restores into one partition clock and the same state")
    func formatFourRestores() throws {
        let restored = try Self.restoresLikeAFreshRun(Self.formatFour, version: 4)
        #expect(restored.clock.time == 590_000 && restored.clock.latestReading == 590_000)
    }

    /// Restores committed snapshot bytes of ``fed(_:)`` written in format `version`, expects no warnings and a
    /// snapshot equal to a fresh run's; returns the restored pipeline.
    static func restoresLikeAFreshRun(_ bytes: [UInt8], version: UInt16) throws -> PartitionPipeline {
        let settings = Self.settings(size: 60_000)
        let current = Self.fed(settings).snapshot(topic: "t", partition: 0, nextOffset: 120)
        #expect(try SnapshotCodec.openVersioned(bytes, kind: PartitionSnapshot.kind).version == version)
        let restored = PartitionPipeline(settings: settings)
        let (offset, warnings) = try restored.restore(from: bytes, topic: "t", partition: 0)
        #expect(offset == 120 && warnings.isEmpty, "\(warnings)")
        #expect(restored.snapshot(topic: "t", partition: 0, nextOffset: 120) == current)
        return restored
    }

    @Test("a format-3 snapshot is checked against the textual fingerprint it carries, and restores")
    func formatThreeRestores() throws {
        let settings = Self.settings(size: 60_000)
        let current = Self.fed(settings).snapshot(topic: "t", partition: 0, nextOffset: 120)
        // Formats 3 and 4 share their layout; format 3 digests the windows' text.
        let old = try Self.resealed(Self.formatFour, version: 3, fingerprint: settings.legacyStateFingerprint)
        let restored = PartitionPipeline(settings: settings)
        #expect(try restored.restore(from: old, topic: "t", partition: 0).nextOffset == 120)
        #expect(restored.snapshot(topic: "t", partition: 0, nextOffset: 120) == current)
        // A format-3 header with the new digest is another pipeline's snapshot as far as format 3 knows.
        let mismatched = try Self.resealed(Self.formatFour, version: 3, fingerprint: settings.stateFingerprint)
        #expect(throws: SnapshotError.self) { _ = try PartitionPipeline(settings: settings).restore(from: mismatched, topic: "t", partition: 0) }
    }

    /// A format-5 snapshot of ``fed(_:)`` with `settings(size: 60_000)` (topic "t", partition 0, next offset 120),
    /// written by the release before the sensor catalog held each sensor's enterprise: the alert book and the
    /// data-gap detector kept one per slot.
    static let formatFive: [UInt8] = Array(
        Data(
            base64Encoded:
                "VkdTTgUAFAD7AgAAAAAAAAEAAAAAAAAAdAAAAAB4AAAAAAAAANhaoxWwAAkAAAAAALAACQAAAAAAAgAAAAAAAAAHAAAAAAAAAEUwLUdULTEHAAAAAAAAAEUwLUdULTIBAAAAAAAAAAIAAAAAAAAARTABAAAAAAAAAPEAAAAAAAAAVkdTTgUAAQDdAAAAAAAAACJnZhiwAAkAAAAAACjtCAAAAAAAAQAAAAAAAAAAAAAAAAAAAAASAAAAAAAAAMAnCQAAAAAAwCcJAAAAAADAJwkAAAAAAAAAAAAAAACAAAQAAAAAAAAFAAAAAAAAAAEAAAAAAAAACQAAAAAAAAACAAAAAAAAAAAAAAAAAAAABgAAAAAAAAAAAAAAAAA+QAAAAAAAAAAAAAAAAAAAPkAAAAAAAAA+QAEAAAAAAAAABgAAAAAAAAAAAAAAAAAUQAAAAAAAAAAAAAAAAAAAFEAAAAAAAAAUQAAAAAAAAAAAyGBRmzgAAAAAAAAAJVl4sgIAAAAAAAAAAAAAAAEBUDQDAAAAAABQNAMAAAAAAAAAAAAAAAAAAAAAAACAAAAAAAAAAAAcAAAAAAAAAFz7hl4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAACAAAAAAAAAAABKAAAAAAAAAEB3GwAAAAAAYOoAAAAAAADAJwkAAAAAAAIAAAAAAAAAsAAJAAAAAAAAAAAAAAA+QAAAAAAAsAAJAAAAAAAAAAAAAAAUQAAAAAAAYgAAAAAAAAAAXCYFAAAAAADdbQAAAAAAQHcbAAAAAADgkwQAAAAAAGDqAAAAAAAAwCcJAAAAAAABAAAAAAAAAAFQEXEAAAAAAFA0AwAAAAAAAAAAAAAAAAABUDQDAAAAAAAAAAAAAAAAgEkAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAAAAAAAAACAAAAAAAAAAIBQNAMAAAAAAAAAAAAAAACAAQAAAAAAAAAAAQAAAAAAAABQNAMAAAAAAAgAAAAAAAAAAAAAAAAAAAD7TNP2"
        )!)

    @Test("a format-5 snapshot (an enterprise per slot in two stages) restores into the sensor catalog and the same state")
    func formatFiveRestores() throws {
        let restored = try Self.restoresLikeAFreshRun(Self.formatFive, version: 5)
        #expect(restored.catalog.enterprises == [0, 0])
    }

    @Test("a sensor's enterprise survives a restore: a reading naming another one is still refused")
    func enterpriseRestored() throws {
        let settings = Self.settings(size: 60_000)
        let bytes = Self.fed(settings).snapshot(topic: "t", partition: 0, nextOffset: 120)
        let restored = PartitionPipeline(settings: settings)
        _ = try restored.restore(from: bytes, topic: "t", partition: 0)
        let other = restored.decoder.enterprises.count == 1 ? UInt32(1) : 0
        _ = restored.decoder.enterprises.intern("E1")
        var batch = ReadingBatch()
        batch.append(eventTime: 600_000, sensor: 1, enterprise: other, value: 5)
        var out = PartitionOutputs()
        restored.process(batch, tables: nil, now: 0, into: &out)
        #expect(out.deadLetters.map(\.reason) == [.sensorEnterpriseMismatch])
    }
}
