import Foundation
import VigilCore
import Yams

// Dynamic alarm limits, the time zone and the seasonal baseline of a pipeline file.
extension PipelineLoader {
    /// `adjustments: [{months, hours, during, scale, al1, al2}]` of a sensor type.
    static func readAdjustments(_ node: Node, path: String, _ r: inout _Reader) -> [LimitAdjustment] {
        guard let items = r.sequence(node, path) else { return [] }
        var out: [LimitAdjustment] = []
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let m = r.mapping(item, p, keys: ["months", "hours", "during", "scale", "al1", "al2"]) else { continue }
            var months: [Int] = []
            var hours: [Int] = []
            var ok = true
            if let n = m["months"], let list = r.sequence(n, "\(p).months") {
                for (k, v) in list.enumerated() {
                    if let month = r.integer(v, "\(p).months[\(k)]", in: 1...12) { months.append(month) } else { ok = false }
                }
                if list.isEmpty { r.fail(n, "\(p).months", "expected at least one month (1–12)") }
            }
            if let n = m["hours"], let pair = r.sequence(n, "\(p).hours") {
                if pair.count != 2 {
                    r.fail(n, "\(p).hours", "expected [from, to]: local hours 0–24, e.g. [22, 6] for 22:00–06:00")
                    ok = false
                } else if let from = r.integer(pair[0], "\(p).hours[0]", in: 0...23), let to = r.integer(pair[1], "\(p).hours[1]", in: 0...24) {
                    if from == to { r.fail(n, "\(p).hours", "from and to are the same hour: leave 'hours' out to apply all day") }
                    var h = from
                    while h != to % 24 {
                        hours.append(h)
                        h = (h + 1) % 24
                    }
                } else {
                    ok = false
                }
            }
            var duringPermit = false
            if let n = m["during"], let d = r.choice(n, "\(p).during", ["special_work"]) { duringPermit = d == "special_work" }
            var scale: Double? = nil
            if let n = m["scale"], let v = r.number(n, "\(p).scale") {
                if v <= 0 { r.fail(n, "\(p).scale", "must be > 0") } else { scale = v }
            }
            let al1 = m["al1"].flatMap { r.number($0, "\(p).al1") }
            let al2 = m["al2"].flatMap { r.number($0, "\(p).al2") }
            if scale == nil && al1 == nil && al2 == nil && m["scale"] == nil {
                r.fail(item, p, "an adjustment needs 'scale' or 'al1'/'al2'")
                ok = false
            }
            if ok { out.append(LimitAdjustment(months: months, hours: hours, duringPermit: duringPermit, scale: scale, level1: al1, level2: al2)) }
        }
        return out
    }

    /// `anomalies.seasonal: {enabled, min_days, alpha}`.
    static func readSeasonal(_ node: Node, into spec: inout AnomaliesSpec, _ r: inout _Reader) {
        guard let m = r.mapping(node, "anomalies.seasonal", keys: ["enabled", "min_days", "alpha"]) else { return }
        if let n = m["enabled"] {
            switch r.choice(n, "anomalies.seasonal.enabled", ["true", "false"]) {
            case "true": spec.seasonal = true
            case "false": spec.seasonal = false
            default: break
            }
        }
        if let n = m["min_days"], let d = r.integer(n, "anomalies.seasonal.min_days", in: 1...365) { spec.seasonalMinDays = d }
        if let n = m["alpha"], let a = r.number(n, "anomalies.seasonal.alpha") {
            if a <= 0 || a > 1 { r.fail(n, "anomalies.seasonal.alpha", "must be in (0, 1]") } else { spec.seasonalAlpha = a }
        }
    }

    /// `+08:00`, `-05:30`, `+8`, `Z` or `UTC` → ms.
    static func parseUTCOffset(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "Z" || t.uppercased() == "UTC" { return 0 }
        guard let sign = t.first, sign == "+" || sign == "-" else { return nil }
        let parts = t.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let h = Int(parts[0]), (0...14).contains(h) else { return nil }
        var m = 0
        if parts.count == 2 {
            guard parts[1].count == 2, let mm = Int(parts[1]), (0..<60).contains(mm) else { return nil }
            m = mm
        }
        let ms = Int64(h * 3_600_000 + m * 60_000)
        return sign == "-" ? -ms : ms
    }

    /// `h`, `hh`, `l`, `ll` of a sensor type: two-sided levels (not combined with `direction`, `al1`, `al2`).
    static func readSides(_ t: [String: Node], path: String, into spec: inout SensorTypeSpec, _ r: inout _Reader) {
        let keys = ["h", "hh", "l", "ll"]
        guard keys.contains(where: { t[$0] != nil }) else { return }
        var levels: [String: Double] = [:]
        for k in keys { if let n = t[k], let x = r.number(n, "\(path).\(k)") { levels[k] = x } }
        if let clash = ["al1", "al2", "direction"].first(where: { t[$0] != nil }) {
            r.fail(t[clash], "\(path).\(clash)", "use either direction with al1/al2, or the two-sided levels h/hh/l/ll, not both")
            return
        }
        let sides = PointSetpoints(high: levels["h"], highHigh: levels["hh"], low: levels["l"], lowLow: levels["ll"])
        for (a, b) in [("h", "hh"), ("ll", "l"), ("l", "h"), ("ll", "hh")] {
            if let x = levels[a], let y = levels[b], x >= y { r.fail(t[b], "\(path).\(b)", "\(b) (\(y)) must be above \(a) (\(x))") }
        }
        spec.sides = sides
    }

    /// Sensor ids take the first type whose `match` they contain: a type every one of whose patterns contains
    /// an earlier type's pattern can never be chosen.
    static func checkShadowed(_ type: SensorTypeSpec, earlier: [SensorTypeSpec], _ node: Node?, _ r: inout _Reader) {
        guard !type.match.isEmpty else { return }
        let covering = type.match.map { pattern in earlier.first { $0.match.contains { pattern.contains($0) } } }
        guard covering.allSatisfy({ $0 != nil }), let first = covering.first, let first else { return }
        r.fail(
            node, "sensor_types.\(type.name).match",
            "every sensor id it matches is matched first by sensor_types.\(first.name), so it would never be used",
            hint: "for a point that alarms both ways, such as oxygen, use one type with l and h"
        )
    }

    /// `risk.data_quality: {offline, missing_commitment, commitment_due, kpi_window}` (Q, `DOMAIN.md` §4.3, §5).
    static func readDataQuality(_ node: Node, into risk: inout RiskSpec, _ r: inout _Reader) {
        guard let m = r.mapping(node, "risk.data_quality", keys: ["offline", "missing_commitment", "commitment_due", "kpi_window"]) else { return }
        if let v = m["kpi_window"], let d = r.duration(v, "risk.data_quality.kpi_window", allowZero: false) { risk.offlineKPIWindow = d }
        if let v = m["offline"], let x = r.number(v, "risk.data_quality.offline") {
            if x < 0 { r.fail(v, "risk.data_quality.offline", "must be >= 0") } else { risk.factors.offlineWeight = x }
        }
        if let v = m["missing_commitment"], let x = r.number(v, "risk.data_quality.missing_commitment") {
            if x < 0 { r.fail(v, "risk.data_quality.missing_commitment", "must be >= 0") } else { risk.factors.missingCommitment = x }
        }
        if let v = m["commitment_due"], let text = r.string(v, "risk.data_quality.commitment_due") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let h = Int(parts[0]), let mm = Int(parts[1]), (0..<24).contains(h),
                (0..<60).contains(mm)
            {
                risk.commitmentDue = Int64(h * 60 + mm) * 60_000
            } else {
                r.fail(v, "risk.data_quality.commitment_due", "expected a local time of day like 09:00, got '\(text)'")
            }
        }
    }
}
