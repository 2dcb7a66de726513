/// GB 18218-2018 major-hazard-source identification and grading (`DOMAIN.md` §1).
///
/// For a unit holding substances i with actual (design maximum) quantities qᵢ and critical quantities Qᵢ:
/// `S = Σ qᵢ/Qᵢ` — a major hazard source when S ≥ 1 — and the grading index
/// `R = α · Σ βᵢ · qᵢ/Qᵢ`, graded 一级 (R ≥ 100), 二级 (50 ≤ R < 100), 三级 (10 ≤ R < 50), 四级 (R < 10).
/// Quantities are the design maximum for tanks, containers and warehouses; a live-quantity R is an
/// operational indicator only, never the legal grade.
public enum MajorHazard: Sendable {
    /// One substance held in a unit.
    public struct Holding: Sendable, Hashable {
        /// Actual (design maximum) quantity, t.
        public var quantity: Double
        /// Critical quantity Q from Table 1 (named substances) or Table 2 (hazard classes), t.
        public var critical: Double
        /// Correction factor β from Table 3 (named toxic gases) or Table 4 (by class).
        public var beta: Double
        public init(quantity: Double, critical: Double, beta: Double) {
            self.quantity = quantity
            self.critical = critical
            self.beta = beta
        }
    }

    /// 一级 … 四级 (1 is the most hazardous).
    public enum Grade: Int, Sendable, Hashable, CustomStringConvertible {
        case one = 1, two, three, four
        public var description: String { ["一级", "二级", "三级", "四级"][rawValue - 1] }
    }

    /// S = Σ q/Q.
    public static func identificationSum(_ holdings: [Holding]) -> Double {
        holdings.reduce(0) { $0 + $1.quantity / $1.critical }
    }

    /// R = α · Σ β · q/Q.
    public static func gradingIndex(_ holdings: [Holding], alpha: Double) -> Double {
        alpha * holdings.reduce(0) { $0 + $1.beta * $1.quantity / $1.critical }
    }

    /// The grade of a unit, or nil when it is not a major hazard source (S < 1).
    public static func grade(_ holdings: [Holding], alpha: Double) -> Grade? {
        guard identificationSum(holdings) >= 1 else { return nil }
        return grade(index: gradingIndex(holdings, alpha: alpha))
    }

    /// Table 6: the grade of an index R.
    public static func grade(index r: Double) -> Grade {
        r >= 100 ? .one : r >= 50 ? .two : r >= 10 ? .three : .four
    }

    /// Table 5: α from the number of people who may be exposed outside the plant (within 500 m).
    public static func alpha(exposedPeople n: Int) -> Double {
        switch n {
        case 100...: 2.0
        case 50..<100: 1.5
        case 30..<50: 1.2
        case 1..<30: 1.0
        default: 0.5
        }
    }

    /// Table 3: β of named toxic gases (the 2018 text; Table 4 covers everything else by class).
    public static let betaOfToxicGas: [String: Double] = [
        "CO": 2, "SO2": 2, "NH3": 2, "ethylene_oxide": 2, "HCl": 3, "methyl_bromide": 3, "Cl2": 4,
        "H2S": 5, "HF": 5, "NO2": 10, "HCN": 10, "phosgene": 20, "PH3": 20, "methyl_isocyanate": 20,
    ]

    /// Table 4: β by GHS class symbol, for substances not in Table 3.
    public static let betaOfClass: [String: Double] = [
        "J1": 4, "J2": 1, "J3": 2, "J4": 2, "J5": 1, "W1.1": 2, "W1.2": 2, "W1.3": 2, "W2": 1.5, "W3": 1, "W4": 1,
        "W5.1": 1.5, "W5.2": 1, "W5.3": 1, "W5.4": 1, "W6.1": 1.5, "W6.2": 1, "W7.1": 1.5, "W7.2": 1, "W8": 1,
        "W9.1": 1, "W9.2": 1, "W10": 1, "W11": 1,
    ]

    /// Table 2: critical quantity Q (t) by hazard class, for substances not in Table 1.
    public static let criticalOfClass: [String: Double] = [
        "J1": 5, "J2": 50, "J3": 50, "J4": 50, "J5": 500, "W1.1": 1, "W1.2": 10, "W1.3": 50, "W2": 10, "W3": 150,
        "W4": 50, "W5.1": 10, "W5.2": 50, "W5.3": 1000, "W5.4": 5000, "W6.1": 10, "W6.2": 50, "W7.1": 10, "W7.2": 50,
        "W8": 50, "W9.1": 50, "W9.2": 200, "W10": 200, "W11": 200,
    ]
}
