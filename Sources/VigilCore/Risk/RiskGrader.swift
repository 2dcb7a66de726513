/// The four warning levels, 红/橙/黄/蓝 = 重大/较大/一般/低 (`DOMAIN.md` §4.1).
public enum RiskLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case blue = 0
    case yellow, orange, red

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["blue", "yellow", "orange", "red"][rawValue] }

    /// The level named `name` (`blue`, `yellow`, `orange`, `red`), nil for any other text.
    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = level
    }
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
    /// Credit C: `risk.credit.weight` × (100 − credit score) / 100 (`DOMAIN.md` §7.2 [P]).
    public var credit: Double = 0
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
    /// The bands, the alarm weight and the hysteresis (settings; the grader adds the level and since when).
    public struct Settings: Sendable, Hashable {
        /// Lower bounds of R_dyn for red, orange and yellow.
        public var red = 80.0
        public var orange = 60.0
        public var yellow = 40.0
        public var alarmWeight = 0.5
        public var downgradeMargin = 5.0
        public var downgradeHold: Int64 = 7_200_000
        public init() {}
    }

    public var settings: Settings
    public var red: Double {
        get { settings.red }
        set { settings.red = newValue }
    }
    public var orange: Double {
        get { settings.orange }
        set { settings.orange = newValue }
    }
    public var yellow: Double {
        get { settings.yellow }
        set { settings.yellow = newValue }
    }
    public var alarmWeight: Double {
        get { settings.alarmWeight }
        set { settings.alarmWeight = newValue }
    }
    public var downgradeMargin: Double {
        get { settings.downgradeMargin }
        set { settings.downgradeMargin = newValue }
    }
    public var downgradeHold: Int64 {
        get { settings.downgradeHold }
        set { settings.downgradeHold = newValue }
    }

    public internal(set) var level: RiskLevel = .blue
    /// Since when R_dyn has been low enough to downgrade (event time), if it is.
    public internal(set) var belowSince: Int64? = nil

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// R_dyn = min(100, B + w·A + O + H + Q + C).
    public func score(_ i: RiskInputs) -> Double {
        min(100, max(0, i.base + alarmWeight * i.alarm + i.operations + i.hazards + i.dataQuality + i.credit))
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

/// A special-work permit of an enterprise (`DOMAIN.md` §4.3 O): its kind and validity (event time, ms).
public struct WorkPermit: Sendable, Hashable {
    public var kind: String
    public var start: Int64
    public var end: Int64
    /// The unit (单元) the work is in; nil: not stated (the whole enterprise).
    public var unit: String?
    public init(kind: String, start: Int64, end: Int64, unit: String? = nil) {
        self.kind = kind
        self.start = start
        self.end = end
        self.unit = unit
    }

    /// Whether the permit is valid at `t` and covers a point of `unit` (nil: unknown, covered by every permit).
    public func covers(unit pointUnit: String?, at t: Int64) -> Bool {
        start <= t && t < end && (unit == nil || pointUnit == nil || unit == pointUnit)
    }
}

/// A hidden hazard (隐患) of an enterprise (`DOMAIN.md` §4.3 H): major (重大) or general, open or closed,
/// with its rectification deadline.
public struct HiddenHazard: Sendable, Hashable {
    public var major: Bool
    public var open: Bool
    public var deadline: Int64?
    public init(major: Bool, open: Bool, deadline: Int64?) {
        self.major = major
        self.open = open
        self.deadline = deadline
    }
}

/// The weights of the operations load O and the hidden-hazard load H (`DOMAIN.md` §4.3 [P]).
public struct FactorWeights: Sendable, Hashable {
    /// Points per active permit of each kind: 特级动火 15, 一级动火 8, 二级动火 3, 受限空间 8, 开停车/试生产 10, 检维修 5.
    public var permits: [String: Double] = [
        "hot_work_special": 15, "hot_work_1": 8, "hot_work_2": 3, "confined_space": 8, "startup": 10, "trial_production": 10,
        "maintenance": 5,
    ]
    public var operationsCap = 30.0
    /// Points per open major hazard, and per general hazard past its deadline.
    public var openMajorHazard = 20.0
    public var overdueGeneralHazard = 3.0
    public var hazardsCap = 30.0
    /// Points of R_dyn at credit score 0 (C = weight × (100 − credit) / 100; [P]).
    public var creditWeight = 10.0
    /// Q (§4.3, §5): points per unit of offline share (20), and for a missing daily safety commitment (5).
    public var offlineWeight = 20.0
    /// A (§4.3): what an alarm counts for in the alarms-per-point indicator (s3), by the highest level it
    /// reached: AL1 1, AL2 2, an AL2 whose severity is red (toxic gases) 3.
    public var alarmCountAL1 = 1.0
    public var alarmCountAL2 = 2.0
    public var alarmCountRedAL2 = 3.0
    public var missingCommitment = 5.0
    public init() {}

    /// O at event time `t`: the weights of the permits valid at `t`, capped.
    public func operations(_ permits: some Sequence<WorkPermit>, at t: Int64) -> Double {
        min(operationsCap, permits.reduce(0) { $0 + ($1.start <= t && t < $1.end ? self.permits[$1.kind] ?? 0 : 0) })
    }

    /// H at event time `t`, capped, and whether an open major hazard is past its deadline (the §4.3 override:
    /// at least orange).
    public func hazards(_ hazards: some Sequence<HiddenHazard>, at t: Int64) -> (score: Double, overdueMajor: Bool) {
        var score = 0.0
        var overdueMajor = false
        for h in hazards where h.open {
            let overdue = h.deadline.map { t > $0 } ?? false
            if h.major {
                score += openMajorHazard
                if overdue { overdueMajor = true }
            } else if overdue {
                score += overdueGeneralHazard
            }
        }
        return (min(hazardsCap, score), overdueMajor)
    }
}
