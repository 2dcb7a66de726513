public import VigilCore

extension SensorTypeSpec {
    /// The two-level alarm rule of this type, or nil when it has no `al1`, no `h`/`l` and no per-point
    /// setpoints (it cannot alarm).
    public var thresholdRule: ThresholdRule? {
        guard alarm1 != nil || setpoints || sides != nil else { return nil }
        return ThresholdRule(
            name: name, direction: direction == .high ? .high : .low, level1: alarm1, level2: alarm2, deadband: deadband,
            onDelay: onDelay, offDelay: offDelay, adjustments: adjustments, sides: sides
        )
    }
}
