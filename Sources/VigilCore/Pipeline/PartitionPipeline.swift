/// Everything one input partition computes: window statistics, alarms and their alerts, data gaps, instrument
/// status, anomaly scores and enterprise grades, from its readings in input order.
///
/// The runtime decodes a partition's records into ``batch`` (with ``decoder``, whose key dictionaries give the
/// slots) and calls ``process(_:tables:now:into:)``; the pipeline appends what it emits to a
/// ``PartitionOutputs`` for the runtime to produce. All per-enterprise state is partition-local because
/// readings are keyed by enterprise. Outputs are deterministic functions of the input (never of how it was
/// split into batches), so what a replay after a restart emits is byte-identical to what was emitted before.
///
/// One instance is used by one thread at a time.
public final class PartitionPipeline {
    public let settings: PartitionPipelineSettings
    public var decoder: ReadingDecoder
    /// The batch the runtime decodes into; ``process(_:tables:now:into:)`` is given it and the runtime clears it.
    public var batch = ReadingBatch(capacity: 1_024)

    var operators: [WindowOperator]
    var detector: ThresholdDetector
    var scorer: AnomalyScorer
    var gaps: DataGapDetector
    var devices: DeviceStatusDetector
    var alerts: AlertBook
    var flood: AlarmFloodFilter
    /// The enterprise grades (`DOMAIN.md` §4.3).
    var grading: EnterpriseGrading
    /// The partition's event time, read by every stage.
    public internal(set) var clock: PartitionClock
    /// What is known of each sensor slot (type, rule, unit, enterprise), catalogued when the key is interned.
    var catalog = SensorCatalog()
    /// Calendar and permits for dynamic alarm limits, and the (table version, enterprises) it was built for.
    var limitContext = LimitContext()
    var limitContextBuiltFor = (version: -1, enterprises: -1)
    var setpointsBuiltFor = (version: -1, sensors: -1)
    /// Whether the reference tables of the current call have been read to their end (alerts record it).
    var tablesComplete = true

    // Scratch of one call, reused.
    /// The clock's time at each reading of the batch.
    var times: [Int64] = []
    var watermarks: [Int64] = []
    var output = WindowResults()
    var late = LateRecords()
    var transitions: [AlarmTransition] = []
    /// Whether each of `transitions` counts in the alarm-behaviour score (chattering raises count once per hold).
    var transitionCounts: [Bool] = []
    var readingLimits = ReadingLimits()
    var anomalyScores = AnomalyScores()
    var gapEvents: [DataGapEvent] = []
    /// The batch position of the reading at which each of `gapEvents` was found (empty on the idle path).
    var gapPositions: [Int] = []
    var deviceEvents: [DeviceStatusEvent] = []
    var alertEvents: [AlertBook.Event] = []
    var encoders: [WindowStatsEncoder]
    var json = JSONBytes(capacity: 512)
    /// Positions of the readings that name another enterprise than their sensor's.
    var mismatches: [Int] = []

    public init(settings: PartitionPipelineSettings) {
        self.settings = settings
        decoder = ReadingDecoder(config: settings.decoder)
        clock = PartitionClock(outOfOrderness: settings.outOfOrderness, idleTimeout: settings.idleTimeout)
        operators = settings.windows.map { window in
            WindowOperator(
                spec: window.spec, watermark: Watermark(outOfOrderness: settings.outOfOrderness, idleTimeout: settings.idleTimeout),
                expectedSensors: settings.expectedSensors)
        }
        detector = ThresholdDetector(rules: settings.alarmRules)
        scorer = AnomalyScorer(settings: settings.anomalySettings)
        gaps = settings.newGapDetector()
        devices = settings.newDeviceDetector()
        alerts = settings.newAlertBook()
        flood = AlarmFloodFilter(settings: settings.alarms.suppression)
        grading = EnterpriseGrading(settings: settings)
        encoders = settings.windows.map { WindowStatsEncoder(statistics: $0.spec.statistics) }
    }

    /// Sizes the per-sensor state of the detectors for `sensors` sensors up front.
    public func reserve(sensors: Int) {
        scorer.reserve(sensors: sensors)
        transitions.reserveCapacity(1_024)
    }

    /// Approximate bytes of window state.
    public var windowStateBytes: Int { operators.reduce(0) { $0 + $1.stateBytes } }

    /// Processes `batch` (decoded with ``decoder``) at processing time `now`, in stage order: alarms and their
    /// alerts, data gaps, instrument status, anomaly scores, grades, then the windows. An empty batch advances
    /// the partition's clocks instead when it has been idle (``advanceIdle(tables:now:into:)``).
    public func process(_ batch: ReadingBatch, tables: ReferenceTables?, now: Int64, into out: inout PartitionOutputs) {
        tablesComplete = tables?.complete ?? true
        guard !batch.isEmpty else {
            advanceIdle(tables: tables, now: now, into: &out)
            return
        }
        catalogueNewSensors()
        if catalog.claim(batch, mismatches: &mismatches) {
            run(batch, tables: tables, now: now, into: &out)
        } else {
            // Rare: the readings that name another enterprise than their sensor's leave the batch.
            refuseMismatches(batch, into: &out)
            var accepted = ReadingBatch(capacity: batch.count - mismatches.count)
            var m = 0
            for k in 0..<batch.count {
                if m < mismatches.count && mismatches[m] == k {
                    m += 1
                    continue
                }
                accepted.append(
                    eventTime: batch.eventTime[k], sensor: batch.sensor[k], enterprise: batch.enterprise[k], value: batch.value[k],
                    flags: batch.flags[k], offset: batch.offset[k])
            }
            if !accepted.isEmpty { run(accepted, tables: tables, now: now, into: &out) }
        }
    }

    /// The stages, in order, over a batch whose readings all name their sensors' enterprises.
    private func run(_ batch: ReadingBatch, tables: ReferenceTables?, now: Int64, into out: inout PartitionOutputs) {
        clock.observe(batch, processingTime: now, times: &times)
        watermarks.removeAll(keepingCapacity: true)
        for t in times { watermarks.append(clock.watermark(at: t)) }
        transitions.removeAll(keepingCapacity: true)
        transitionCounts.removeAll(keepingCapacity: true)
        deviceEvents.removeAll(keepingCapacity: true)
        gapEvents.removeAll(keepingCapacity: true)
        gapPositions.removeAll(keepingCapacity: true)
        if !settings.alarmRules.isEmpty { detectAlarms(batch, tables: tables, into: &out) }
        if settings.offlineAfter != nil { detectGaps(batch, into: &out) }
        if settings.hasDeviceChecks { detectDeviceStatus(batch, into: &out) }
        if settings.scoreAnomalies { scoreAnomalies(batch, into: &out) }
        if settings.grading != nil { grade(batch, tables: tables, into: &out) }
        for w in operators.indices {
            let op = operators[w]
            // The windows run on the partition clock's watermark at each reading.
            op.process(batch, watermarks: watermarks, into: &output, late: &late)
            // A reading is late only if it is late for the first window (others may have more lateness).
            if w == 0 && !late.indices.isEmpty { emitLate(batch, watermark: op.watermark.current, into: &out) }
            late.removeAll()
            emitRows(window: w, into: &out)
        }
    }

    /// Catalogues the sensor slots the decoder interned since the last batch (type, rule, unit, stale gap).
    func catalogueNewSensors() {
        let new = catalog.catalogue(decoder.sensors, settings: settings)
        guard !new.isEmpty else { return }
        if settings.sensorUnit != nil { limitContext.sensorUnits = catalog.units }
        guard settings.hasDeviceChecks else { return }
        // Below its instrument's range a reading is a fault, not a process value (`DOMAIN.md` §5).
        limitContext.rangeMin += new.map { slot in
            catalog.type(of: UInt32(slot)).flatMap { settings.sensorTypes[$0].check?.rangeMin } ?? .nan
        }
        for slot in new {
            // A type's instrument check may give its points their own stale gap (`DOMAIN.md` §5) and a prior
            // for their cadence.
            guard let type = catalog.type(of: UInt32(slot)), let check = settings.sensorTypes[type].check else { continue }
            if let stale = check.staleAfter { scorer.setStaleAfter(stale, slot: UInt32(slot)) }
            if let period = check.period { scorer.setPeriod(period, slot: UInt32(slot)) }
        }
    }

    /// Ends bounded input: the windows' watermarks move to the end of time and every window is emitted.
    public func finish(into out: inout PartitionOutputs) {
        for w in operators.indices {
            operators[w].finish(into: &output)
            emitRows(window: w, into: &out)
        }
    }

    /// Moves a silent partition's event-time clocks with the processing clock once it has had no readings for
    /// `idleTimeout`: to its latest event time plus the processing time since its last batch. Its points then
    /// still go offline (and count in the enterprises' offline share), alarm deadlines still pass, and its
    /// enterprises are still graded, while a gateway or link outage silences all of them at once.
    ///
    /// This is processing time, like the windows' idle close: which poll does it depends on the wall clock.
    /// The records it produces are the ones event time would produce later (an offline record's time and id
    /// come from the point's last reading), except when the input resumes with a backlog whose event times
    /// are within the idle span: then the points were marked offline although their readings were only late,
    /// and an alarm raised in that backlog finds its response deadline already passed.
    func advanceIdle(tables: ReferenceTables?, now: Int64, into out: inout PartitionOutputs) {
        guard clock.advanceIdle(processingTime: now) else { return }
        let t = clock.time
        if settings.offlineAfter != nil {
            gapEvents.removeAll(keepingCapacity: true)
            gaps.observe(watermark: clock.watermark, into: &gapEvents)
            emitGapEvents(into: &out)
            if settings.grading != nil {
                for event in gapEvents { grading.noteOfflineEpisode(event, enterprise: catalog.enterprise(of: event.sensor)) }
            }
        }
        if !settings.alarmRules.isEmpty {
            alertEvents.removeAll(keepingCapacity: true)
            let acknowledgements = tables?.currentAcknowledgements
            observeDeadlines(watermark: clock.watermark, acknowledgements: acknowledgements)
            emitAlertEvents(acknowledgements: acknowledgements, into: &out)
        }
        if settings.grading != nil && grading.silentChecks.isDue(at: t) {
            let context = gradeContext(tables)
            grading.evaluateSilent(at: t, context: context, into: &out)
        }
        // The windows close what the idle watermark passed.
        for w in operators.indices {
            operators[w].advance(toWatermark: clock.watermark, into: &output)
            emitRows(window: w, into: &out)
        }
    }

    /// After a restore: the idle span counts from `now`, so a partition that stays silent after a restart is
    /// still noticed.
    public func resumeClock(now: Int64) {
        clock.resume(processingTime: now)
    }

    /// Grades the enterprises of the batch from what the earlier stages found in it.
    func grade(_ batch: ReadingBatch, tables: ReferenceTables?, into out: inout PartitionOutputs) {
        let inputs = GradingInputs(
            transitions: transitions, transitionCounts: transitionCounts, gapEvents: gapEvents, gapPositions: gapPositions,
            sensorEnterprises: catalog.enterprises,
            deviceEvents: deviceEvents, times: times, scores: settings.scoreAnomalies ? anomalyScores : nil)
        let context = gradeContext(tables)
        grading.grade(batch, inputs: inputs, context: context, into: &out)
    }

    func gradeContext(_ tables: ReferenceTables?) -> GradeContext {
        GradeContext(
            settings: settings, grading: settings.grading ?? .init(), tables: tables, sensors: decoder.sensors, enterprises: decoder.enterprises,
            sensorUnits: catalog.units)
    }

    private func emitRows(window w: Int, into out: inout PartitionOutputs) {
        guard output.rowCount > 0 else { return }
        let name = settings.windows[w].name
        if settings.encodeOutputs {
            let sensors = decoder.sensors
            let enterprises = decoder.enterprises
            for r in 0..<output.rowCount {
                encoders[w].encode(output, row: r, sensors: sensors, enterprises: enterprises, window: name)
                enterprises.withKeyBytes(for: output.enterprise[r]) { key in
                    encoders[w].buffer.withUnsafeBytes { value in _ = out.append(.windowRows(w), key: key, value: value) }
                }
            }
        }
        out.counters.rowsByWindow[name ?? "", default: 0] += Int64(output.rowCount)
        output.removeAll()
    }

    private func emitLate(_ batch: ReadingBatch, watermark: Int64, into out: inout PartitionOutputs) {
        for index in late.indices {
            let k = Int(index)
            refuse(batch, reading: k, reason: .lateRecord, into: &out) { _, _ in
                "event time \(batch.eventTime[k]) is behind the watermark \(watermark) by more than the allowed lateness"
            }
            out.counters.late += 1
        }
    }

    /// Sends the readings at `mismatches` to the dead-letter topic: a sensor id is unique in the deployment, so
    /// a sensor belongs to the enterprise of its first reading.
    private func refuseMismatches(_ batch: ReadingBatch, into out: inout PartitionOutputs) {
        for k in mismatches {
            let owner = decoder.enterprises.key(for: catalog.enterprise(of: batch.sensor[k]))
            refuse(batch, reading: k, reason: .sensorEnterpriseMismatch, into: &out) { sensor, enterprise in
                "sensor '\(sensor)' belongs to enterprise '\(owner)' (its first reading); this reading names '\(enterprise)'"
            }
            out.counters.enterpriseMismatches += 1
        }
    }

    /// Reading `k` of `batch` as a dead letter: keyed by its enterprise, the reading as JSON, `detail` given
    /// its sensor and enterprise ids.
    private func refuse(
        _ batch: ReadingBatch, reading k: Int, reason: RejectReason, into out: inout PartitionOutputs,
        detail: (_ sensor: String, _ enterprise: String) -> String
    ) {
        let sensor = decoder.sensors.key(for: batch.sensor[k])
        let enterprise = decoder.enterprises.key(for: batch.enterprise[k])
        let json = RefusedReadingRecord.json(enterprise: enterprise, sensor: sensor, ts: batch.eventTime[k], value: batch.value[k])
        out.deadLetters.append(
            PartitionOutputs.DeadLetter(
                reason: reason, offset: batch.offset[k], key: enterprise, value: json, detail: detail(sensor, enterprise)))
    }
}

@available(*, unavailable)
extension PartitionPipeline: Sendable {}

extension PartitionPipelineSettings {
    func newAlertBook() -> AlertBook {
        AlertBook(deadlines: alarms.deadlines, checkEvery: 60_000)
    }

    func newGapDetector() -> DataGapDetector {
        DataGapDetector(offlineAfter: offlineAfter ?? .max / 4, checkEvery: 60_000)
    }

    func newDeviceDetector() -> DeviceStatusDetector {
        DeviceStatusDetector(checks: deviceChecks.map { $0 ?? DeviceCheck() }, frozenAfter: frozenAfter)
    }
}
