/// What is known about each sensor slot of a partition: its sensor type, alarm rule, unit and stale gap from
/// the pipeline definition, catalogued once when the sensor's key is first interned, and the enterprise it
/// belongs to, from its first reading.
///
/// Every stage reads the catalog instead of resolving a slot's type, rule or enterprise itself. A sensor id is
/// unique within the deployment (`safety.readings.v1`), so a sensor belongs to one enterprise: a later reading
/// that names another enterprise for it is refused (``claim(_:mismatches:)``) and goes to the dead-letter topic,
/// instead of moving the sensor's windows, alarms and offline state to another enterprise's grade.
///
/// The type, rule and unit are functions of the keys and the pipeline's settings and are built again after a
/// restore; the enterprises are snapshotted.
struct SensorCatalog {
    /// `enterprises` of a slot that has had no reading yet.
    static let unclaimed = UInt32.max

    /// Per slot: index in `settings.sensorTypes` (-1: no type matches the id).
    private(set) var types: [Int32] = []
    /// Per slot: index in `settings.alarmRules` (-1: no alarm rule).
    private(set) var rules: [Int32] = []
    /// Per slot: the unit the point belongs to (`settings.sensorUnit` of its id), nil when unknown.
    private(set) var units: [String?] = []
    /// Per slot: the enterprise slot of its first reading (``unclaimed`` before it).
    private(set) var enterprises: [UInt32] = []

    /// The number of slots catalogued.
    var count: Int { types.count }

    /// Catalogues the slots of `sensors` interned since the last call.
    ///
    /// - Returns: The slots catalogued now.
    mutating func catalogue(_ sensors: KeyInterner, settings: PartitionPipelineSettings) -> Range<Int> {
        let new = types.count..<sensors.count
        guard !new.isEmpty else { return new }
        let matches = settings.sensorTypes.map(\.match)
        types.reserveCapacity(sensors.count)
        for slot in new {
            let id = sensors.key(for: UInt32(slot))
            let type = sensorType(of: id, among: matches)
            types.append(Int32(type ?? -1))
            rules.append(Int32(type.flatMap { settings.ruleOfType[$0] } ?? -1))
            units.append(settings.sensorUnit?(id))
        }
        if enterprises.count < sensors.count {
            enterprises.append(contentsOf: repeatElement(Self.unclaimed, count: sensors.count - enterprises.count))
        }
        return new
    }

    /// Gives each unclaimed sensor of `batch` the enterprise of its first reading, and finds the readings that
    /// name another enterprise than their sensor's.
    ///
    /// - Returns: Whether every reading names its sensor's enterprise (`mismatches` is then empty).
    mutating func claim(_ batch: ReadingBatch, mismatches: inout [Int]) -> Bool {
        mismatches.removeAll(keepingCapacity: true)
        for k in 0..<batch.count {
            let s = Int(batch.sensor[k])
            let e = batch.enterprise[k]
            if s < enterprises.count && enterprises[s] == e { continue }
            if s >= enterprises.count { enterprises.append(contentsOf: repeatElement(Self.unclaimed, count: s + 1 - enterprises.count)) }
            if enterprises[s] == Self.unclaimed {
                enterprises[s] = e
            } else {
                mismatches.append(k)
            }
        }
        return mismatches.isEmpty
    }

    /// The sensor type of `slot` (its index in `settings.sensorTypes`).
    @inline(__always)
    func type(of slot: UInt32) -> Int? {
        Int(slot) < types.count && types[Int(slot)] >= 0 ? Int(types[Int(slot)]) : nil
    }

    /// The alarm rule of `slot` (its index in `settings.alarmRules`): its sensor type's rule.
    @inline(__always)
    func rule(of slot: UInt32) -> Int? {
        Int(slot) < rules.count && rules[Int(slot)] >= 0 ? Int(rules[Int(slot)]) : nil
    }

    /// The enterprise slot `slot` belongs to (the caller has seen a reading of it).
    @inline(__always)
    func enterprise(of slot: UInt32) -> UInt32 { enterprises[Int(slot)] }

    /// Writes the enterprises (the rest is built again from the keys).
    func write(to w: inout SnapshotWriter) {
        w.u64(UInt64(enterprises.count))
        for e in enterprises { w.u32(e) }
    }

    /// Reads the enterprises of ``write(to:)``; `sensors` is the restored key dictionary.
    mutating func readEnterprises(from r: inout SnapshotReader, sensors: Int) throws(SnapshotError) {
        let n = try r.count(minBytes: 4)
        guard n <= sensors else { throw SnapshotError("the sensor catalog holds \(n) enterprises for \(sensors) sensors") }
        var restored: [UInt32] = []
        restored.reserveCapacity(n)
        for _ in 0..<n { restored.append(try r.u32()) }
        enterprises = restored
    }

    /// Snapshot formats before 6 kept a sensor's enterprise in the alert and data-gap sections, as of its
    /// latest reading or alarm: those, for the sensors they knew.
    mutating func restoreEnterprises(_ legacy: [UInt32?]) {
        enterprises = legacy.map { $0 ?? Self.unclaimed }
    }
}
