/// The records one call of a ``PartitionPipeline`` emits, encoded, in emission order, in reusable buffers.
///
/// Keys and values live in one byte arena; each record names its sink, and the runtime maps sinks to topics.
/// Records of one sink keep the order in which the pipeline emitted them (a route's copy shares its alert's
/// bytes). Readings refused for the dead-letter topic, which keeps their source position, are kept apart.
public struct PartitionOutputs: Sendable {
    /// Where a record goes.
    public enum Sink: Hashable, Sendable {
        /// Window rows of window `n` (keyed by enterprise).
        case windowRows(Int)
        case alerts
        /// A copy of an alert for route `n`.
        case alertRoute(Int)
        case anomalies
        case grades
        /// A copy of a grade keyed by the enterprise's region.
        case gradesByRegion
    }

    public struct Record: Sendable {
        public var sink: Sink
        var keyStart: Int
        var keyCount: Int
        var valueStart: Int
        var valueCount: Int
    }

    /// A reading the pipeline did not take: behind the watermark by more than the first window's lateness
    /// (`late_record`), or naming another enterprise than its sensor's (`sensor_enterprise_mismatch`).
    public struct DeadLetter: Sendable {
        /// The dead-letter record's `vigil.reason`.
        public var reason: RejectReason
        public var offset: Int64
        /// The enterprise id (the dead-letter record's key) and the reading as JSON.
        public var key: String
        public var value: String
        public var detail: String
    }

    public private(set) var records: [Record] = []
    private var bytes: [UInt8] = []
    /// Readings for the dead-letter topic, with their source offsets.
    public var deadLetters: [DeadLetter] = []
    /// What was emitted, by kind, since the counters were last taken.
    public var counters = PipelineCounters()
    /// Encoding scratch of alert and grade records.
    private var json = JSONBytes(capacity: 1_024)

    public init() {}

    public var isEmpty: Bool { records.isEmpty && deadLetters.isEmpty }

    /// Appends a record; returns its index.
    @discardableResult
    mutating func append(_ sink: Sink, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Int {
        let keyStart = bytes.count
        bytes.append(contentsOf: key)
        let valueStart = bytes.count
        bytes.append(contentsOf: value)
        records.append(Record(sink: sink, keyStart: keyStart, keyCount: key.count, valueStart: valueStart, valueCount: value.count))
        return records.count - 1
    }

    mutating func append(_ sink: Sink, key: String, value: JSONBytes) {
        var key = key
        key.withUTF8 { k in value.buffer.withUnsafeBytes { v in _ = append(sink, key: UnsafeRawBufferPointer(k), value: v) } }
    }

    /// Appends an alert record and a copy for every route that selects its severity and kind (`routed` false: a
    /// suppressed record, not copied).
    mutating func appendAlert(_ record: AlertRecord, routes: [AlertRoute], routed: Bool = true) {
        record.encode(into: &json)
        var key = record.enterprise
        let index = key.withUTF8 { k in json.buffer.withUnsafeBytes { v in append(.alerts, key: UnsafeRawBufferPointer(k), value: v) } }
        guard routed else { return }
        for (r, route) in routes.enumerated() where route.takes(record) {
            copy(index, to: .alertRoute(r))
            counters.routedAlerts += 1
        }
    }

    /// Appends a grade record keyed by its enterprise, and (`byRegion`) a copy keyed by its region when known.
    mutating func appendGrade(_ record: GradeRecord, byRegion: Bool) {
        record.encode(into: &json)
        var key = record.enterprise
        let index = key.withUTF8 { k in json.buffer.withUnsafeBytes { v in append(.grades, key: UnsafeRawBufferPointer(k), value: v) } }
        // Re-keyed by region: the repartition for the heat-map stage goes through Kafka.
        guard byRegion, var region = record.region else { return }
        let r = records[index]
        region.withUTF8 { k in
            let key = UnsafeRawBufferPointer(k)
            let keyStart = bytes.count
            bytes.append(contentsOf: key)
            records.append(Record(sink: .gradesByRegion, keyStart: keyStart, keyCount: key.count, valueStart: r.valueStart, valueCount: r.valueCount))
        }
    }

    /// A copy of record `index` to another sink (sharing its bytes).
    mutating func copy(_ index: Int, to sink: Sink) {
        var r = records[index]
        r.sink = sink
        records.append(r)
    }

    /// Calls `body` with each record's sink, key and value, in emission order.
    public func forEach<E: Error>(_ body: (Sink, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        try bytes.span.withUnsafeBytes { (all) throws(E) in
            for r in records {
                try body(
                    r.sink, UnsafeRawBufferPointer(rebasing: all[r.keyStart..<r.keyStart + r.keyCount]),
                    UnsafeRawBufferPointer(rebasing: all[r.valueStart..<r.valueStart + r.valueCount]))
            }
        }
    }

    /// Empties the records and dead letters, keeping capacity (the counters stay).
    public mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        deadLetters.removeAll(keepingCapacity: true)
    }
}

/// Counts of what a pipeline emitted, by kind (the runtime adds them to its statistics and metrics).
public struct PipelineCounters: Sendable, Hashable {
    /// Alert records, by event and level (`raised AL1`, `offline OFFLINE`, …).
    public var alertsByLevel: [String: Int64] = [:]
    /// Anomaly records, by detector.
    public var anomaliesByDetector: [String: Int64] = [:]
    /// Alert records marked suppressed (not routed), by reason.
    public var suppressedAlerts: [String: Int64] = [:]
    /// Copies of alert records for routes.
    public var routedAlerts: Int64 = 0
    /// Grade records, by level.
    public var gradesByLevel: [String: Int64] = [:]
    /// Window rows, by window name (`""` for an unnamed window).
    public var rowsByWindow: [String: Int64] = [:]
    /// Readings later than the allowed lateness.
    public var late: Int64 = 0
    /// Readings that named another enterprise than their sensor's.
    public var enterpriseMismatches: Int64 = 0

    public init() {}

    public var isEmpty: Bool {
        alertsByLevel.isEmpty && anomaliesByDetector.isEmpty && suppressedAlerts.isEmpty && routedAlerts == 0 && gradesByLevel.isEmpty
            && rowsByWindow.isEmpty && late == 0 && enterpriseMismatches == 0
    }
}
