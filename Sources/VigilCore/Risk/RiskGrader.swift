/// The four warning levels, 红/橙/黄/蓝 = 重大/较大/一般/低 (`DOMAIN.md` §4.1).
public enum RiskLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case blue = 0, yellow, orange, red

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["blue", "yellow", "orange", "red"][rawValue] }
}

/// The inputs of one enterprise's dynamic risk, `DOMAIN.md` §4.3 ([P] model, every constant a default).
public struct RiskInputs: Sendable, Hashable {
    /// Inherent base B in 0…100 (from the major-hazard grade and the 2018 diagnostic score).
    public var base: Double = 10
    /// Alarm-behaviour score A in 0…100 (the five indicators, weighted).
    public var alarm: Double = 0
    /// Operations load O (special work permits, start-ups, maintenance).
    public var operations: Double = 0
    /// Hidden hazards H.
    public var hazards: Double = 0
    /// Data quality Q.
    public var dataQuality: Double = 0
    /// Override: the 2018 direct-red conditions hold.
    public var directRed = false
    /// Override floor from the §4.3 rules (e.g. orange for an overdue 重大隐患).
    public var floor: RiskLevel = .blue
    public init() {}

    /// B from the worst major-hazard grade and the 2018 diagnostic score: `max(B_MHI, 100 − D_2018)`.
    public static func base(majorHazardGrade: MajorHazard.Grade?, diagnosticScore: Double?) -> Double {
        let mhi: Double
        switch majorHazardGrade {
        case .one: mhi = 70
        case .two: mhi = 55
        case .three: mhi = 40
        case .four: mhi = 25
        case nil: mhi = 10
        }
        return max(mhi, diagnosticScore.map { 100 - $0 } ?? 0)
    }

    /// A from the five alarm-behaviour indicators (each 0…1) with the §4.3 weights.
    public static func alarmScore(
        disturbanceRate s1: Double, repeatAlarmShare s2: Double, alarmsPerPoint: Double, meanTimeToClear: Int64,
        longestAlarm: Int64
    ) -> Double {
        let s3 = min(alarmsPerPoint, 10) / 10
        let s4 = min(Double(meanTimeToClear) / 1_800_000, 1)
        let s5 = min(Double(longestAlarm) / 7_200_000, 1)
        return 100 * (0.30 * min(s1, 1) + 0.15 * min(s2, 1) + 0.15 * s3 + 0.20 * s4 + 0.20 * s5)
    }
}

/// R_dyn → level with hysteresis: upgrades at once, downgrades only after R_dyn stayed below the current
/// band's lower bound minus a margin for a hold time (`DOMAIN.md` §4.3).
public struct RiskGrader: Sendable {
    /// Lower bounds of R_dyn for red, orange and yellow.
    public var red = 80.0
    public var orange = 60.0
    public var yellow = 40.0
    public var alarmWeight = 0.5
    public var downgradeMargin = 5.0
    public var downgradeHold: Int64 = 7_200_000

    public internal(set) var level: RiskLevel = .blue
    /// Since when R_dyn has been low enough to downgrade (event time), if it is.
    public internal(set) var belowSince: Int64? = nil

    public init() {}

    /// R_dyn = min(100, B + w·A + O + H + Q).
    public func score(_ i: RiskInputs) -> Double {
        min(100, max(0, i.base + alarmWeight * i.alarm + i.operations + i.hazards + i.dataQuality))
    }

    /// The band of a score, without hysteresis.
    public func band(_ r: Double) -> RiskLevel {
        r >= red ? .red : r >= orange ? .orange : r >= yellow ? .yellow : .blue
    }

    func lowerBound(_ level: RiskLevel) -> Double {
        switch level {
        case .red: red
        case .orange: orange
        case .yellow: yellow
        case .blue: -.infinity
        }
    }

    /// Updates the level with the inputs at event time `t`; returns the new level.
    public mutating func update(_ inputs: RiskInputs, at t: Int64) -> RiskLevel {
        let r = score(inputs)
        var target = max(band(r), inputs.floor)
        if inputs.directRed { target = .red }
        if target >= level {
            level = target
            belowSince = nil
            return level
        }
        // Downgrade only after a hold below (current band − margin).
        if r < lowerBound(level) - downgradeMargin && !inputs.directRed && inputs.floor < level {
            let since = belowSince ?? t
            belowSince = since
            if t - since >= downgradeHold {
                level = target
                belowSince = nil
            }
        } else {
            belowSince = nil
        }
        return level
    }
}
