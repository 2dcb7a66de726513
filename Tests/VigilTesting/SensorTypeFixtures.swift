public import VigilCore

extension SensorTypePlan {
    /// A tank-level type without static levels (its points alarm on their setpoints only), alerting production
    /// at yellow and orange, as the tank tests use it.
    public static let tankLevel = SensorTypePlan(
        name: "tank_level", match: ["-LT-"], rule: ThresholdRule(name: "tank_level", level1: nil, deadband: 1),
        policy: AlertPolicy(level1: .yellow, level2: .orange, notify: ["production"]))
}
