/// The state of one input partition as a checkpoint: the source offset it reflects, the key dictionaries,
/// every window operator, the alarm book, the anomaly baselines and the grading state.
///
/// Layout (inside a ``SnapshotCodec`` container of kind 20): topic, partition, next offset, pipeline
/// fingerprint, sensor and enterprise dictionaries, one nested operator snapshot per window, then the
/// detector, scorer and grade sections, each length-prefixed so that a section taken under other rules can
/// be skipped. Format 3 adds the device-status section at the end and each enterprise's offline episodes; a
/// format-2 snapshot restores with no instrument faults, frozen values or offline episodes in progress. Format 4
/// digests the pipeline fingerprint from the windows' fields; older snapshots carry a digest of their text,
/// which is what they are checked against. Format 5 holds the partition clock once, after the fingerprint,
/// where older formats kept a watermark in the alert and data-gap sections and an event time in the grade
/// section (the clock of an older snapshot is the latest of those and the windows'). Format 6 holds each
/// sensor's enterprise once, in the sensor catalog after the key dictionaries, where older formats kept it in
/// the alert and data-gap sections (an older snapshot's sensor has the enterprise of its latest reading, or of
/// its latest alarm when the data-gap section did not see it; one neither saw takes its next reading's). The
/// windows run on the clock: a restored operator keeps only its watermark's value, not the event and
/// processing times it observed in older formats.
public struct PartitionSnapshot: Sendable {
    public static let kind: UInt16 = 20

    public var topic: String
    public var partition: Int32
    /// The next source offset to read: the state reflects every record before it.
    public var nextOffset: Int64
    /// The sealed bytes.
    public var bytes: [UInt8]

    /// Reads the header (topic, partition, offset) of sealed snapshot bytes, checking version and checksum.
    public init(bytes: [UInt8]) throws(SnapshotError) {
        var r = SnapshotReader(try SnapshotCodec.open(bytes, kind: Self.kind))
        topic = try r.string()
        partition = Int32(bitPattern: try r.u32())
        nextOffset = try r.i64()
        self.bytes = bytes
    }
}

extension PartitionPipeline {
    /// The state as sealed snapshot bytes of `topic`/`partition`, reflecting every record before `nextOffset`.
    public func snapshot(topic: String, partition: Int32, nextOffset: Int64) -> [UInt8] {
        var w = SnapshotWriter()
        w.string(topic)
        w.u32(UInt32(bitPattern: partition))
        w.i64(nextOffset)
        w.u32(settings.stateFingerprint)
        clock.write(to: &w)
        decoder.sensors.write(to: &w)
        decoder.enterprises.write(to: &w)
        catalog.write(to: &w)
        w.u64(UInt64(operators.count))
        for op in operators { w.blob(op.snapshot()) }
        var d = SnapshotWriter()
        detector.write(to: &d)
        w.blob(d.bytes)
        var s = SnapshotWriter()
        scorer.write(to: &s)
        w.blob(s.bytes)
        var g = SnapshotWriter()
        g.i64(grading.silentChecks.next)
        g.u64(UInt64(grading.risk.count))
        for slot in grading.risk.indices {
            guard let r = grading.risk[slot] else {
                g.bool(false)
                continue
            }
            g.bool(true)
            r.behaviour.write(to: &g)
            r.grader.write(to: &g)
            g.i64(r.seq)
            g.i64(r.lastEmitted)
            g.i64(r.nextEvaluation)
            g.i64(r.interruptedSince)
            for map in [r.level2Since, r.redSince] {
                let sorted = map.sorted { $0.key < $1.key }
                g.u64(UInt64(sorted.count))
                for (sensor, since) in sorted {
                    g.u32(sensor)
                    g.i64(since)
                }
            }
            r.offline.write(to: &g)
        }
        w.blob(g.bytes)
        var gapState = SnapshotWriter()
        gaps.write(to: &gapState)
        w.blob(gapState.bytes)
        var alertState = SnapshotWriter()
        alerts.write(to: &alertState)
        w.blob(alertState.bytes)
        var floodState = SnapshotWriter()
        flood.write(to: &floodState)
        w.blob(floodState.bytes)
        var deviceState = SnapshotWriter()
        devices.write(to: &deviceState)
        w.blob(deviceState.bytes)
        return SnapshotCodec.seal(kind: PartitionSnapshot.kind, payload: w.bytes)
    }

    /// Restores the state from ``snapshot(topic:partition:nextOffset:)`` bytes of `topic`/`partition`.
    ///
    /// - Returns: The offset the snapshot reflects (the next one to read), and warnings for sections that were
    ///   taken under other alarm rules or anomaly settings and therefore start afresh.
    /// - Throws: ``SnapshotError`` for a corrupted or foreign snapshot, one of another partition, or one
    ///   taken with other windows (the runtime refuses to run on it).
    public func restore(from bytes: [UInt8], topic: String, partition: Int32) throws(SnapshotError) -> (nextOffset: Int64, warnings: [String]) {
        let config = settings
        let (version, payload) = try SnapshotCodec.openVersioned(bytes, kind: PartitionSnapshot.kind)
        var r = SnapshotReader(payload)
        let t = try r.string()
        let p = Int32(bitPattern: try r.u32())
        guard t == topic && p == partition else {
            throw SnapshotError("the snapshot is of \(t)/\(p), not of \(topic)/\(partition)")
        }
        let offset = try r.i64()
        guard try r.u32() == (version >= 4 ? settings.stateFingerprint : settings.legacyStateFingerprint) else {
            throw SnapshotError(
                "the snapshot of \(topic)/\(partition) was taken with other windows or out-of-orderness than this pipeline now defines; restore the previous pipeline file, or move the checkpoint away to start afresh"
            )
        }
        var warnings: [String] = []
        var newClock = PartitionClock(outOfOrderness: config.outOfOrderness, idleTimeout: config.idleTimeout)
        if version >= 5 { try newClock.read(from: &r) }
        // Formats before 5: the latest event time of the stages that kept their own, and of the readings.
        var legacyTime = Int64.min
        var legacyLatestReading = Int64.min
        let sensors = try KeyInterner(reading: &r)
        let enterprises = try KeyInterner(reading: &r)
        let restored = ReadingDecoder(config: config.decoder, sensors: sensors, enterprises: enterprises)
        var newCatalog = SensorCatalog()
        if version >= 6 { try newCatalog.readEnterprises(from: &r, sensors: sensors.count) }
        // Formats before 6: each sensor's enterprise as the data-gap and alert sections knew it.
        var legacyEnterprises: [UInt32?] = []
        let n = try r.count(minBytes: 8)
        guard n == config.windows.count else { throw SnapshotError("the snapshot holds \(n) window operators, the pipeline \(config.windows.count)") }
        var ops: [WindowOperator] = []
        for window in config.windows {
            let blob = try r.blob()
            let watermark = Watermark(outOfOrderness: config.outOfOrderness, idleTimeout: config.idleTimeout)
            let op = try WindowOperator(spec: window.spec, watermark: watermark, restoring: blob)
            legacyLatestReading = max(legacyLatestReading, op.watermark.maxEventTime)
            legacyTime = max(legacyTime, op.watermark.maxEventTime)
            if op.watermark.current != .min { legacyTime = max(legacyTime, EventTime.saturatingAdd(op.watermark.current, config.outOfOrderness)) }
            op.followClock()
            ops.append(op)
        }
        /// Reads a length-prefixed section; one taken under other settings starts afresh, with a warning.
        func section<T>(_ what: String, fresh: T, _ read: (inout SnapshotReader) throws(SnapshotError) -> T) throws(SnapshotError) -> T {
            var reader = SnapshotReader(try r.blob())
            do {
                return try read(&reader)
            } catch {
                warnings.append("\(what) of \(topic)/\(partition) start afresh: \(error)")
                return fresh
            }
        }
        let rules = config.alarmRules
        let newDetector = try section("alarm states", fresh: ThresholdDetector(rules: rules)) { (s) throws(SnapshotError) in
            try ThresholdDetector(rules: rules, reading: &s)
        }
        let newScorer = try section("anomaly baselines", fresh: AnomalyScorer(settings: config.anomalySettings)) { (s) throws(SnapshotError) in
            try AnomalyScorer(settings: config.anomalySettings, reading: &s, version: version)
        }
        var g = SnapshotReader(try r.blob())
        if version < 5 { legacyTime = max(legacyTime, try g.i64()) }
        let newSilentCheck = try g.i64()
        let slots = try g.count()
        var newRisk: [EnterpriseRisk?] = []
        newRisk.reserveCapacity(slots)
        for _ in 0..<slots {
            guard try g.bool() else {
                newRisk.append(nil)
                continue
            }
            var e = grading.newEnterpriseRisk()
            e.behaviour = try AlarmBehaviour(reading: &g)
            try e.grader.read(from: &g)
            e.seq = try g.i64()
            e.lastEmitted = try g.i64()
            e.nextEvaluation = try g.i64()
            e.interruptedSince = try g.i64()
            for which in 0..<2 {
                let n = try g.count(minBytes: 12)
                var map: [UInt32: Int64] = [:]
                for _ in 0..<n {
                    let sensor = try g.u32()
                    map[sensor] = try g.i64()
                }
                if which == 0 { e.level2Since = map } else { e.redSince = map }
            }
            if version >= 3 { e.offline = try OfflineLog(window: grading.grading.offlineKPIWindow, reading: &g) }
            newRisk.append(e)
        }
        let gapsFresh = config.newGapDetector()
        let newGaps = try section("data-gap states", fresh: gapsFresh) { (s) throws(SnapshotError) in
            try DataGapDetector(
                offlineAfter: gapsFresh.offlineAfter, checkEvery: gapsFresh.checkEvery, reading: &s, version: version, clock: &legacyTime,
                enterprises: &legacyEnterprises)
        }
        let alertsFresh = config.newAlertBook()
        let newAlerts = try section("alert deadlines", fresh: alertsFresh) { (s) throws(SnapshotError) in
            try AlertBook(
                deadlines: config.alarms.deadlines, checkEvery: alertsFresh.checkEvery, reading: &s, version: version, clock: &legacyTime,
                enterprises: &legacyEnterprises)
        }
        let newFlood = try section("chattering/flood states", fresh: AlarmFloodFilter(settings: config.alarms.suppression)) {
            (s) throws(SnapshotError) in
            try AlarmFloodFilter(settings: config.alarms.suppression, reading: &s)
        }
        let devicesFresh = config.newDeviceDetector()
        let newDevices =
            version < 3
            ? devicesFresh
            : try section("device states", fresh: devicesFresh) { (s) throws(SnapshotError) in
                try DeviceStatusDetector(checks: devicesFresh.checks, frozenAfter: devicesFresh.frozenAfter, reading: &s)
            }
        guard r.atEnd else { throw SnapshotError("snapshot payload has trailing data after byte \(r.position)") }
        if version < 5 { newClock.restore(latestReading: legacyLatestReading, time: legacyTime) }
        flood = newFlood
        devices = newDevices
        grading = EnterpriseGrading(settings: settings)
        grading.frozenNow = newDevices.frozenSlots
        grading.faultNow = newDevices.faultSlots
        gaps = newGaps
        alerts = newAlerts
        decoder = restored
        clock = newClock
        operators = ops
        detector = newDetector
        scorer = newScorer
        grading.risk = newRisk
        grading.silentChecks.next = newSilentCheck
        // Catalogued again from the restored key dictionary (the restored scorer needs the stale gaps again).
        if version < 6 { newCatalog.restoreEnterprises(Array(legacyEnterprises.prefix(sensors.count))) }
        catalog = newCatalog
        limitContext.sensorUnits = []
        limitContext.rangeMin = []
        catalogueNewSensors()
        return (offset, warnings)
    }
}
