import Foundation
import VigilRuntime
public import VigilCore
import VigilKafka

/// `vigil explain`: the latest grade record of one enterprise, read from the grades topic, as a
/// factor-by-factor explanation of R_dyn = min(100, B + w·A + O + H + Q) (`DOMAIN.md` §4.3).
public enum GradeExplainer: Sendable {
    public struct NotFound: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads `topic` from the beginning to its end and returns the newest grade record of `enterprise`
    /// (the last in its partition: grades are keyed by enterprise), with how many records it read.
    public static func latest(
        enterprise: String, topic: String, brokers: String, additional: [String: String] = [:], timeoutMs: Int64 = 30_000
    ) throws -> (record: [String: Any], records: Int) {
        var admin = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        guard let partitions = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()[topic] else {
            throw NotFound(description: "the grades topic \(topic) does not exist on \(brokers)")
        }
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.explain.\(UUID().uuidString)")
        cc.additionalConfig = admin
        let consumer = try KafkaConsumer(config: cc)
        try consumer.assign((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
        let wanted = Array(enterprise.utf8)
        var latest: [UInt8]? = nil
        var count = 0
        var polls = 0
        let deadline = currentTimeMillis() + timeoutMs
        while currentTimeMillis() < deadline {
            let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 200) { record in
                count += 1
                if let key = record.key, key.elementsEqual(wanted) { latest = Array(record.payload) }
            }
            polls += 1
            let lag = consumer.lag()
            if polls >= 2 && n == 0 && lag.count == Int(partitions) && lag.values.allSatisfy({ $0 == 0 }) { break }
        }
        try consumer.close()
        guard let latest else {
            throw NotFound(description: "no grade of enterprise '\(enterprise)' in \(topic) (\(count) grade records read)")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(latest)) as? [String: Any] else {
            throw NotFound(description: "the latest grade record of '\(enterprise)' is not a JSON object")
        }
        return (object, count)
    }

    /// The explanation of one grade record (the `risk.grades` v1 schema).
    ///
    /// - Parameter weights: The pipeline's O, H and Q weights (`risk.operations`, `risk.hazards`,
    ///   `risk.data_quality`), printed next to those factors (the record carries the factors, not the weights).
    public static func explain(_ g: [String: Any], weights: FactorWeights = FactorWeights()) -> String {
        func num(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }
        func f(_ x: Double?, _ digits: Int = 1) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
        let factors = g["factors"] as? [String: Any] ?? [:]
        let inputs = g["inputs"] as? [String: Any] ?? [:]
        let bands = g["bands"] as? [String: Any] ?? [:]
        let level = (g["level"] as? String ?? "?").uppercased()
        let b = num(factors["base"]) ?? 0
        let a = num(factors["alarm"]) ?? 0
        let w = num(factors["alarm_weight"]) ?? 0.5
        let o = num(factors["operations"]) ?? 0
        let h = num(factors["hazards"]) ?? 0
        let q = num(factors["data_quality"]) ?? 0
        let c = num(factors["credit"]) ?? 0
        let ts = (g["ts"] as? NSNumber)?.int64Value ?? 0
        let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ts) / 1_000))
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        line("Enterprise \(g["enterprise"] as? String ?? "?") — \(level), R_dyn \(f(num(g["score"]))) at \(time)")
        let region = g["region"] as? String
        let industry = g["industry"] as? String
        line(
            "  region \(region ?? "unknown"), industry \(industry ?? "unknown"); record #\((g["seq"] as? NSNumber)?.intValue ?? 0) (\(g["reason"] as? String ?? "?")"
                + ", previous level \(g["previous_level"] as? String ?? "?")), rule version \(g["rule_version"] as? String ?? "?")"
        )
        if (inputs["profile_missing"] as? Bool) == true {
            line(
                "  profile missing: the enterprise is not in the profile table (sources.profiles), so region, industry, major-hazard grade,"
                    + " diagnosis and credit are unknown; register it, or check that readings name the right enterprise")
        }
        if (inputs["tables_complete"] as? Bool) == false {
            line("  tables incomplete: a reference-table topic had not been read to its end yet when this grade was taken")
        }
        line("")
        line(
            "  R_dyn = min(100, B + w·A + O + H + Q + C) = min(100, \(f(b)) + \(f(w, 2))×\(f(a)) + \(f(o)) + \(f(h)) + \(f(q)) + \(f(c)))"
                + " = \(f(min(100, b + w * a + o + h + q + c)))")
        line("")
        let grade = (inputs["major_hazard_grade"] as? NSNumber)?.intValue
        let gradeName = grade.map { ["一级", "二级", "三级", "四级"][max(0, min(3, $0 - 1))] + " (grade \($0))" } ?? "none or unknown"
        line(
            "  B  inherent base        \(f(b).padded(6))  max(B_MHI, 100 − D_2018); major-hazard grade \(gradeName) → 一级 70 | 二级 55 | 三级 40 | 四级 25 | none 10 (GB 18218-2018, §4.3)"
        )
        if let d = num(inputs["diagnostic_score"]) {
            line(
                "       2018 diagnosis D_2018 = \(f(d)) → \(inputs["diagnostic_level"] as? String ?? "?") (≥ 90 blue, 75–90 yellow, 60–75 orange, < 60 red; §2.1)"
            )
        }
        line("  A  alarm behaviour      \(f(a).padded(6))  24 h, weight w = \(f(w, 2)); Σ wᵢ·sᵢ × 100 over the five indicators:")
        let s1 = num(inputs["disturbance_rate"]) ?? 0
        let s2 = num(inputs["repeat_alarm_share"]) ?? 0
        let perPoint = num(inputs["alarms_per_point"]) ?? 0
        let clear = num(inputs["mean_time_to_clear_ms"]) ?? 0
        let longest = num(inputs["longest_alarm_ms"]) ?? 0
        func indicator(_ name: String, _ value: String, _ note: String, _ weight: String) {
            line("       \(name.rightPadded(22))\(value.padded(10))  \(note.rightPadded(42))× \(weight)")
        }
        indicator("s1 disturbance rate", f(s1, 2), "alarming points / online points", "0.30")
        indicator("s2 repeat alarms", f(s2, 2), "points with ≥ 3 alarms / online points", "0.15")
        indicator("s3 alarms per point", f(perPoint, 2), "severity-weighted, capped at 10 → \(f(min(perPoint, 10) / 10, 2))", "0.15")
        indicator("s4 mean time to clear", f(clear / 60_000) + " min", "/ 30 min target → \(f(min(clear / 1_800_000, 1), 2))", "0.20")
        indicator("s5 longest alarm", f(longest / 60_000) + " min", "/ 120 min target → \(f(min(longest / 7_200_000, 1), 2))", "0.20")
        line("       alarms in 24 h: \((inputs["alarms_24h"] as? NSNumber)?.intValue ?? 0)")
        if let pseudo = (inputs["pseudo_alarms_24h"] as? NSNumber)?.intValue, pseudo > 0 {
            let without = num(inputs["alarm_score_without_pseudo"]).map { f($0) } ?? "?"
            line("       anomaly episodes in 24 h: \(pseudo), as pseudo-alarms of weight 0.5 in s1–s3 (A without them: \(without)) (§4.3)")
        }
        let permits = (inputs["active_permits"] as? NSNumber)?.intValue ?? 0
        let hazards = (inputs["open_hazards"] as? NSNumber)?.intValue ?? 0
        // The permit kinds' weights, the domain's kinds first with their names.
        let names = [
            ("hot_work_special", "特级动火"), ("hot_work_1", "一级"), ("hot_work_2", "二级"), ("confined_space", "受限空间"), ("startup", "开停车"),
            ("trial_production", "试生产"), ("maintenance", "检维修"),
        ]
        let known = Set(names.map(\.0))
        let kinds =
            names.compactMap { kind, name in weights.permits[kind].map { "\(name) \(f($0, 0))" } }
            + weights.permits.keys.filter { !known.contains($0) }.sorted().map { "\($0) \(f(weights.permits[$0], 0))" }
        line(
            "  O  operations load      \(f(o).padded(6))  \(permits) special-work permit(s) valid: \(kinds.joined(separator: ", ")); cap \(f(weights.operationsCap, 0)) (§4.3)"
        )
        line(
            "  H  hidden hazards       \(f(h).padded(6))  \(hazards) open: major +\(f(weights.openMajorHazard, 0)) each, general past deadline +\(f(weights.overdueGeneralHazard, 0)) each; cap \(f(weights.hazardsCap, 0)) (§4.3)"
        )
        let overrides = inputs["overrides"] as? [String] ?? ((inputs["overdue_major_hazard"] as? Bool) == true ? ["overdue_major_hazard"] : [])
        for o in overrides {
            switch o {
            case "overdue_major_hazard": line("     override: an open major hazard is past its deadline → at least ORANGE (§4.3)")
            case "red_alarm_sustained": line("     override: a red-severity AL2 (toxic gas) has lasted beyond its limit → RED (§4.3)")
            case "al2_during_hot_work": line("     override: an AL2 alarm while hot work / confined-space work is under way in its unit → RED (§4.3)")
            case "direct_red":
                let conditions = (inputs["direct_red"] as? [String] ?? []).joined(separator: ", ")
                line("     override: 2018 direct-red condition(s) \(conditions) → RED (§2.1)")
            case "tank_alarm_sustained":
                line("     override: HH or LL on a grade 1/2 major-hazard tank has lasted beyond its limit → at least ORANGE (§4.3)")
            case "data_interruption":
                let since = (inputs["interrupted_since"] as? NSNumber)?.int64Value
                line(
                    "     override: data interrupted since \(since.map { "\($0)" } ?? "?") (too many points offline) for 24 h or more → at least YELLOW (§4.3, §5)"
                )
            case "data_interruption_during_hot_work":
                line("     override: data interrupted while hot work / confined-space work is under way → at least ORANGE (§5)")
            default: line("     override: \(o)")
            }
        }
        if let notice = inputs["offline_notice"] as? [String: Any], let id = notice["notice"] as? String {
            let planned = (notice["planned_online"] as? NSNumber)?.int64Value
            line("     offline notice \(id) filed (planned online \(planned.map { "\($0)" } ?? "?")): the data interruption does not escalate (§5)")
        }
        let commitment =
            switch inputs["commitment_missing"] as? Bool {
            case true: "; today's safety commitment is missing (+\(f(weights.missingCommitment, 0)))"
            case false: "; today's safety commitment is filed"
            default: ""
            }
        let offline = "offline share \(f(num(inputs["offline_share"]), 2))"
        let shares = num(inputs["frozen_share"]).flatMap { $0 > 0 ? "(\(offline) + frozen share \(f($0, 2)))" : nil } ?? offline
        line("  Q  data quality         \(f(q).padded(6))  \(shares) × \(f(weights.offlineWeight, 0)) (§5)\(commitment)")
        if let episodes = inputs["offline_episodes"] as? NSNumber, let hours = num(inputs["offline_point_hours"]) {
            line("                                 offline KPI (§5, risk.data_quality.kpi_window): \(episodes) episodes, \(f(hours, 1)) point-hours")
        }
        let credit = num(inputs["credit_score"]).map {
            "credit score \(f($0)) (grade \(inputs["credit_grade"] as? String ?? "?")) → weight × (100 − score) / 100 (§7.2)"
        }
        line("  C  credit               \(f(c).padded(6))  \(credit ?? "no credit score in the profile")")
        if let compliance = num(inputs["monitoring_compliance"]) {
            let weight = CreditScore.weights.first { $0.name == "monitoring" }.map { f($0.weight * 100, 0) } ?? "?"
            line(
                "                                 monitoring compliance \(f(compliance)) (\(weight) %) from the offline KPI: online share of the KPI window's point-hours (§5 → §7.2)"
            )
        }
        line("")
        line(
            "  bands: red ≥ \(f(num(bands["red"]), 0)), orange ≥ \(f(num(bands["orange"]), 0)), yellow ≥ \(f(num(bands["yellow"]), 0)), blue below;"
                + " upgrades are immediate, downgrades wait for the hold time below the band (hysteresis)"
        )
        return out
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    fileprivate func rightPadded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
