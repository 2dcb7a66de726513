public import VigilCore

extension SensorTypeSpec {
    /// The two-level alarm rule of this type, or nil when it has no `al1` and no per-point setpoints (it
    /// cannot alarm).
    public var thresholdRule: ThresholdRule? {
        guard alarm1 != nil || setpoints else { return nil }
        return ThresholdRule(
            name: name, direction: direction == .high ? .high : .low, level1: alarm1, level2: alarm2, deadband: deadband,
            onDelay: onDelay, offDelay: offDelay, adjustments: adjustments
        )
    }
}
