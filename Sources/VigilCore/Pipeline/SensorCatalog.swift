/// What the pipeline definition says about each sensor slot of a partition: its sensor type, alarm rule, unit
/// and stale gap, catalogued once when the sensor's key is first interned.
///
/// Every stage reads the catalog instead of resolving a slot's type or rule itself. It is a function of the
/// keys and the pipeline's settings, so it is not snapshotted: after a restore it is built again from the
/// restored key dictionary.
struct SensorCatalog {
    /// Per slot: index in `settings.sensorTypes` (-1: no type matches the id).
    private(set) var types: [Int32] = []
    /// Per slot: index in `settings.alarmRules` (-1: no alarm rule).
    private(set) var rules: [Int32] = []
    /// Per slot: the unit the point belongs to (`settings.sensorUnit` of its id), nil when unknown.
    private(set) var units: [String?] = []

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
        return new
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
}
