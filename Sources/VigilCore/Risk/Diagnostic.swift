/// The 2018 MEM risk-assessment diagnosis of a hazardous-chemicals enterprise
/// (《危险化学品生产储存企业安全风险评估诊断分级指南(试行)》, `DOMAIN.md` §2.1 [S]): start at 100, deduct per
/// item with each category's deductions capped at its maximum, add the bonuses; bands ≥ 90 blue, 75–90 yellow,
/// 60–75 orange, < 60 red; any direct-red condition makes the enterprise red whatever the score.
///
/// Items are counted by name (an enterprise record says how many of each it has); the major-hazard
/// deduction comes from the enterprise's worst major-hazard grade.
public struct DiagnosticAssessment: Sendable, Hashable {
    /// A scored item: its category and the points per occurrence (negative: a deduction).
    public struct Item: Sendable, Hashable {
        public var category: Category
        public var points: Double
    }

    /// Categories with their maximum deduction (`nil`: bonuses only).
    public enum Category: String, Sendable, Hashable, CaseIterable {
        case majorHazard = "major_hazard"
        case substances, processes
        case fireExplosion = "fire_explosion"
        case surroundings, design, equipment
        case automation, personnel, management, emergency, performance

        public var maximumDeduction: Double? {
            switch self {
            case .majorHazard: 10
            case .substances: 5
            case .processes: 10
            case .fireExplosion: 5
            case .surroundings: 10
            case .design: 10
            case .equipment: 5
            case .automation: 10
            case .personnel: 15
            case .management: 10
            case .emergency: nil
            case .performance: 10
            }
        }
    }

    /// The item table of §2.1, by the names enterprise records use.
    public static let items: [String: Item] = [
        // 物质危险性
        "explosive": Item(category: .substances, points: -2),
        "inhalation_toxic": Item(category: .substances, points: -2),
        "key_supervised_chemical": Item(category: .substances, points: -0.1),
        // 危险化工工艺
        "key_hazardous_process": Item(category: .processes, points: -2),
        // 火灾爆炸
        "class_a_area": Item(category: .fireExplosion, points: -1),
        "class_b_area": Item(category: .fireExplosion, points: -0.5),
        "tanks_near_open_flame": Item(category: .fireExplosion, points: -5),
        // 周边环境
        "outside_chemical_park": Item(category: .surroundings, points: -3),
        "external_distance_fails": Item(category: .surroundings, points: -10),
        // 设计与评估
        "first_process_not_demonstrated": Item(category: .design, points: -5),
        "no_reaction_risk_assessment": Item(category: .design, points: -10),
        "class_a_designer": Item(category: .design, points: 2),
        // 设备
        "obsolete_equipment": Item(category: .equipment, points: -2),
        "special_equipment_unregistered": Item(category: .equipment, points: -2),
        "no_dual_power_supply": Item(category: .equipment, points: -5),
        // 自控与安全设施
        "key_process_without_automation": Item(category: .automation, points: -10),
        "tank_farm_without_sis": Item(category: .automation, points: -10),
        "tank_farm_without_emergency_shutoff": Item(category: .automation, points: -5),
        "mhi_without_remote_monitoring": Item(category: .automation, points: -1),
        "missing_gas_detection": Item(category: .automation, points: -1),
        "non_ex_equipment": Item(category: .automation, points: -1),
        "office_in_hazardous_unit": Item(category: .automation, points: -5),
        // 人员资质
        "unqualified_manager": Item(category: .personnel, points: -5),
        "safety_staff_without_diploma": Item(category: .personnel, points: -5),
        "manager_below_college": Item(category: .personnel, points: -5),
        "no_registered_safety_engineer": Item(category: .personnel, points: -3),
        "chemistry_degree_head": Item(category: .personnel, points: 2),
        // 管理制度
        "incomplete_procedures": Item(category: .management, points: -5),
        "special_work_rules_noncompliant": Item(category: .management, points: -10),
        "missing_post_responsibility": Item(category: .management, points: -2),
        // 应急
        "fire_brigade": Item(category: .emergency, points: 3),
        // 绩效
        "standardisation_level_1": Item(category: .performance, points: 15),
        "standardisation_level_2": Item(category: .performance, points: 5),
        "standardisation_level_3": Item(category: .performance, points: 2),
        "larger_accident_3y": Item(category: .performance, points: -10),
        "fatal_accident_3y": Item(category: .performance, points: -8),
        "social_impact_incident": Item(category: .performance, points: -5),
        "no_accident_5y": Item(category: .performance, points: 5),
    ]

    /// The direct-red conditions of §2.1.
    public static let directRedConditions: Set<String> = [
        "new_process_untested",  // a new process went to production without lab, pilot and industrial trials
        "unit_never_designed",  // an in-service unit was never formally designed and had no design diagnosis
        "special_operators_uncertified",  // special operators without a valid certificate or below high school
        "major_accident_3y",  // a 重大 or worse accident in 3 years
        "two_larger_accidents_3y",  // two 较大 accidents in 3 years
        "two_fatal_accidents_1y",  // two or more fatal 一般 accidents within 1 year
    ]

    /// Counts per item name.
    public var counts: [String: Double]
    public var majorHazardGrade: MajorHazard.Grade?
    /// Direct-red conditions that hold.
    public var directRed: Set<String>

    public init(counts: [String: Double] = [:], majorHazardGrade: MajorHazard.Grade? = nil, directRed: Set<String> = []) {
        self.counts = counts
        self.majorHazardGrade = majorHazardGrade
        self.directRed = directRed
    }

    /// Item names in `counts` that are not in the table (they score nothing; a data-quality finding).
    public var unknownItems: [String] { counts.keys.filter { Self.items[$0] == nil }.sorted() }

    /// Deductions per category (capped, ≥ 0) and the bonuses.
    public var breakdown: (deductions: [Category: Double], bonuses: Double) {
        var deducted: [Category: Double] = [:]
        var bonuses = 0.0
        if let g = majorHazardGrade {
            deducted[.majorHazard] = [MajorHazard.Grade.one: 10, .two: 8, .three: 6, .four: 4][g]
        }
        for (name, count) in counts {
            guard let item = Self.items[name], count > 0 else { continue }
            if item.points > 0 { bonuses += item.points * count } else { deducted[item.category, default: 0] += -item.points * count }
        }
        for (c, d) in deducted { deducted[c] = min(d, c.maximumDeduction ?? 0) }
        return (deducted, bonuses)
    }

    /// D_2018: 100 − capped deductions + bonuses.
    public var score: Double {
        let b = breakdown
        return 100 - b.deductions.values.reduce(0, +) + b.bonuses
    }

    /// The 2018 colour of a score (without the direct-red conditions).
    public static func band(_ score: Double) -> RiskLevel {
        score >= 90 ? .blue : score >= 75 ? .yellow : score >= 60 ? .orange : .red
    }

    /// The colour, with the direct-red conditions.
    public var level: RiskLevel { directRed.isEmpty ? Self.band(score) : .red }
}

/// The enterprise credit score (`DOMAIN.md` §7.2 [P]): seven factors, each 0–100, weighted; a listed serious
/// dishonest entity (严重失信主体, 应急管理部令第11号 [S]) scores 0. Bands A ≥ 85, B ≥ 70, C ≥ 55, D below.
public struct CreditScore: Sendable, Hashable {
    /// Factor weights (sum 1): hidden-hazard closure 25 %, enforcement record 20 %, accidents 15 %,
    /// monitoring-system compliance 15 %, standardisation 10 %, training and certification 10 %, drills 5 %.
    public static let weights: [(name: String, weight: Double)] = [
        ("hazard_closure", 0.25), ("enforcement", 0.20), ("accidents", 0.15), ("monitoring", 0.15), ("standardisation", 0.10),
        ("training", 0.10), ("drills", 0.05),
    ]

    /// Factor values (0–100) by name; a missing factor counts as 100 (no finding).
    public var factors: [String: Double]
    public var seriousDishonesty: Bool

    public init(factors: [String: Double] = [:], seriousDishonesty: Bool = false) {
        self.factors = factors
        self.seriousDishonesty = seriousDishonesty
    }

    public var score: Double {
        if seriousDishonesty { return 0 }
        return Self.weights.reduce(0) { $0 + $1.weight * min(100, max(0, factors[$1.name] ?? 100)) }
    }

    /// A (≥ 85), B (≥ 70), C (≥ 55) or D.
    public var grade: String { Self.grade(of: score) }
    public static func grade(of score: Double) -> String { score >= 85 ? "A" : score >= 70 ? "B" : score >= 55 ? "C" : "D" }

    /// The monitoring-system compliance factor (`DOMAIN.md` §7.2) from the engine's own §5 offline KPI [P]: 100 ×
    /// the share of the KPI window's point-hours that the enterprise's `points` were online (the provinces' monthly
    /// offline hours, per point). An enterprise seen for less than the window is judged over the whole window,
    /// as a monthly report would.
    ///
    /// - Parameters:
    ///   - offlinePointHours: Offline time of the points within the window (``OfflineLog/kpi(at:)``).
    ///   - points: The enterprise's points that have reported (0: nothing to judge, 100).
    ///   - window: The KPI window, ms.
    public static func monitoringCompliance(offlinePointHours: Double, points: Int, window: Int64) -> Double {
        guard points > 0, window > 0 else { return 100 }
        let pointHours = Double(points) * Double(window) / 3_600_000
        return 100 * min(1, max(0, 1 - offlinePointHours / pointHours))
    }

    /// This score with the `monitoring` factor supplied by the engine where the profile leaves it out (a factor
    /// the profile gives, from the regulator's own assessment, stands).
    public func fillingMonitoring(_ compliance: Double) -> CreditScore {
        guard factors["monitoring"] == nil else { return self }
        var filled = self
        filled.factors["monitoring"] = compliance
        return filled
    }

    /// The points a credit score adds to R_dyn (`risk.credit.weight` × (100 − score) / 100; [P]).
    public static func riskPoints(score: Double, weight: Double) -> Double { weight * (100 - min(100, max(0, score))) / 100 }
}
