/// Kinds of monitoring points the simulator knows, with their units and typical behaviour.
public enum SensorType: String, Sendable, CaseIterable {
    /// Flammable gas detector, % LEL (alarms AL1 25 %, AL2 50 % per GB/T 50493-2019).
    case flammableGas = "flammable_gas"
    /// Toxic gas detector (H₂S), mg/m³ (AL1 10, AL2 20).
    case toxicGas = "toxic_gas"
    /// Tank temperature, °C, with a diurnal cycle.
    case tankTemperature = "tank_temperature"
    /// Tank pressure, kPa.
    case tankPressure = "tank_pressure"
    /// Tank liquid level, %.
    case tankLevel = "tank_level"

    public var unit: String {
        switch self {
        case .flammableGas: "%LEL"
        case .toxicGas: "mg/m3"
        case .tankTemperature: "degC"
        case .tankPressure: "kPa"
        case .tankLevel: "%"
        }
    }

    /// Id fragment used in sensor ids (`E0001-GT-001`).
    public var tag: String {
        switch self {
        case .flammableGas: "GT"
        case .toxicGas: "AT"
        case .tankTemperature: "TT"
        case .tankPressure: "PT"
        case .tankLevel: "LT"
        }
    }

    /// Normal operating value and noise amplitude.
    var baseline: (value: Double, noise: Double) {
        switch self {
        case .flammableGas: (1.5, 0.4)
        case .toxicGas: (0.8, 0.2)
        case .tankTemperature: (24, 0.15)
        case .tankPressure: (180, 1.5)
        case .tankLevel: (62, 0.2)
        }
    }
}
