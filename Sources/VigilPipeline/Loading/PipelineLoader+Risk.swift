import Foundation
import VigilCore
import Yams

// The `risk` and `alerts` sections of a pipeline file: grade bands and factor weights, alert routes, deadlines
// and suppression.
extension PipelineLoader {
    static func readRisk(_ node: Node, _ r: inout _Reader) -> RiskSpec {
        var risk = RiskSpec()
        guard
            let m = r.mapping(
                node, "risk",
                keys: [
                    "bands", "downgrade", "alarm_weight", "heartbeat", "operations", "hazards", "overrides", "credit", "data_quality", "alarm_counts",
                ])
        else { return risk }
        if let n = m["alarm_counts"], let c = r.mapping(n, "risk.alarm_counts", keys: ["al1", "al2", "red_al2"]) {
            for (key, path) in [("al1", \FactorWeights.alarmCountAL1), ("al2", \.alarmCountAL2), ("red_al2", \.alarmCountRedAL2)] {
                guard let v = c[key], let x = r.number(v, "risk.alarm_counts.\(key)") else { continue }
                if x < 0 { r.fail(v, "risk.alarm_counts.\(key)", "must be >= 0") } else { risk.factors[keyPath: path] = x }
            }
        }
        if let n = m["data_quality"] { readDataQuality(n, into: &risk, &r) }
        if let n = m["credit"], let c = r.mapping(n, "risk.credit", keys: ["weight"]), let v = c["weight"], let x = r.number(v, "risk.credit.weight")
        {
            if x < 0 { r.fail(v, "risk.credit.weight", "must be >= 0") } else { risk.factors.creditWeight = x }
        }
        if let n = m["overrides"],
            let o = r.mapping(
                n, "risk.overrides",
                keys: [
                    "red_alarm_for", "hot_work_kinds", "interruption_share", "interruption_for", "offline_notice_grace", "tank_alarm_for",
                    "tank_grades",
                ]
            )
        {
            if let v = o["tank_alarm_for"], let d = r.duration(v, "risk.overrides.tank_alarm_for", allowZero: false) { risk.tankAlarmFor = d }
            if let v = o["tank_grades"], let items = r.sequence(v, "risk.overrides.tank_grades") {
                risk.tankGrades = items.enumerated().compactMap { i, item in r.integer(item, "risk.overrides.tank_grades[\(i)]", in: 1...4) }
            }
            if let v = o["red_alarm_for"], let d = r.duration(v, "risk.overrides.red_alarm_for", allowZero: false) { risk.redAlarmFor = d }
            if let v = o["interruption_share"], let x = r.number(v, "risk.overrides.interruption_share") {
                if x >= 0 && x < 1 {
                    risk.interruptionShare = x
                } else {
                    r.fail(v, "risk.overrides.interruption_share", "expected a share in [0, 1), got \(x)")
                }
            }
            if let v = o["interruption_for"], let d = r.duration(v, "risk.overrides.interruption_for") { risk.interruptionFor = d }
            if let v = o["offline_notice_grace"], let d = r.duration(v, "risk.overrides.offline_notice_grace") { risk.offlineNoticeGrace = d }
            if let v = o["hot_work_kinds"], let kinds = r.strings(v, "risk.overrides.hot_work_kinds") { risk.hotWorkKinds = kinds }
        }
        if let n = m["operations"], let o = r.mapping(n, "risk.operations", keys: ["permits", "cap"]) {
            if let p = o["permits"] {
                if case .mapping(let kinds) = p {
                    for (k, v) in kinds {
                        guard case .scalar(let kind) = k else { continue }
                        if let x = r.number(v, "risk.operations.permits.\(kind.string)") { risk.factors.permits[kind.string] = x }
                    }
                } else {
                    r.fail(p, "risk.operations.permits", "expected a mapping of permit kinds to points, e.g. { hot_work_special: 15 }")
                }
            }
            if let v = o["cap"], let x = r.number(v, "risk.operations.cap") { risk.factors.operationsCap = x }
        }
        if let n = m["hazards"], let h = r.mapping(n, "risk.hazards", keys: ["open_major", "overdue_general", "cap"]) {
            if let v = h["open_major"], let x = r.number(v, "risk.hazards.open_major") { risk.factors.openMajorHazard = x }
            if let v = h["overdue_general"], let x = r.number(v, "risk.hazards.overdue_general") { risk.factors.overdueGeneralHazard = x }
            if let v = h["cap"], let x = r.number(v, "risk.hazards.cap") { risk.factors.hazardsCap = x }
        }
        if let n = m["bands"], let b = r.mapping(n, "risk.bands", keys: ["red", "orange", "yellow"]) {
            if let v = b["red"], let d = r.number(v, "risk.bands.red") { risk.red = d }
            if let v = b["orange"], let d = r.number(v, "risk.bands.orange") { risk.orange = d }
            if let v = b["yellow"], let d = r.number(v, "risk.bands.yellow") { risk.yellow = d }
            if !(risk.red > risk.orange && risk.orange > risk.yellow && risk.yellow > 0 && risk.red <= 100) {
                r.fail(n, "risk.bands", "expected 100 ≥ red > orange > yellow > 0, got \(risk.red)/\(risk.orange)/\(risk.yellow)")
            }
        }
        if let n = m["downgrade"], let d = r.mapping(n, "risk.downgrade", keys: ["margin", "hold"]) {
            if let v = d["margin"], let x = r.number(v, "risk.downgrade.margin") { risk.downgradeMargin = x }
            if let v = d["hold"], let x = r.duration(v, "risk.downgrade.hold") { risk.downgradeHold = x }
        }
        if let v = m["alarm_weight"], let x = r.number(v, "risk.alarm_weight") { risk.alarmWeight = x }
        if let v = m["heartbeat"], let x = r.duration(v, "risk.heartbeat", allowZero: false) { risk.heartbeat = x }
        return risk
    }

    /// The kinds of alert record a route can select (``AlertsSpec/Route/kinds``).
    public static let alertKinds = AlertKind.allCases.map(\.rawValue)

    static func readAlerts(_ node: Node, _ r: inout _Reader) -> AlertsSpec {
        var alerts = AlertsSpec()
        guard let m = r.mapping(node, "alerts", keys: ["routes", "deadlines", "acknowledgements", "chattering", "flood"]) else { return alerts }
        if let n = m["routes"], let items = r.sequence(n, "alerts.routes") {
            for (i, item) in items.enumerated() {
                let path = "alerts.routes[\(i)]"
                guard let rm = r.mapping(item, path, keys: ["levels", "kinds", "topic"], required: ["topic"]) else { continue }
                if rm["levels"] == nil && rm["kinds"] == nil { r.fail(item, path, "a route needs levels, kinds or both") }
                var levels: [RiskLevel] = []
                var kinds: [AlertKind] = []
                if let v = rm["kinds"], let ks = r.strings(v, "\(path).kinds") {
                    for k in ks {
                        if let kind = AlertKind(rawValue: k) {
                            if !kinds.contains(kind) { kinds.append(kind) }
                        } else {
                            r.fail(
                                v, "\(path).kinds", "unknown kind '\(k)'; expected \(Self.alertKinds.joined(separator: ", "))",
                                hint: r.suggestion(k, Self.alertKinds).map { "did you mean '\($0)'?" }
                            )
                        }
                    }
                }
                if let v = rm["levels"], let ls = r.strings(v, "\(path).levels") {
                    for l in ls {
                        if let level = RiskLevel(name: l) {
                            if !levels.contains(level) { levels.append(level) }
                        } else {
                            r.fail(
                                v, "\(path).levels", "unknown level '\(l)'; expected red, orange, yellow or blue",
                                hint: r.suggestion(l, Self.levels).map { "did you mean '\($0)'?" }
                            )
                        }
                    }
                }
                if let v = rm["topic"], let t = r.nonEmptyString(v, "\(path).topic") {
                    alerts.routes.append(AlertsSpec.Route(levels: levels, kinds: kinds, topic: t))
                }
            }
        }
        if let n = m["deadlines"], let d = r.mapping(n, "alerts.deadlines", keys: Self.levels) {
            for level in Self.levels {
                if let v = d[level], let x = r.duration(v, "alerts.deadlines.\(level)", allowZero: false), let colour = RiskLevel(name: level) {
                    alerts.deadlines[colour] = x
                }
            }
        }
        if let n = m["acknowledgements"] { alerts.acknowledgements = r.nonEmptyString(n, "alerts.acknowledgements") }
        if let n = m["chattering"], let c = r.mapping(n, "alerts.chattering", keys: ["raises", "within", "hold"]) {
            if let v = c["raises"], let x = r.integer(v, "alerts.chattering.raises", in: 2...100) { alerts.chatterRaises = x }
            if let v = c["within"], let d = r.duration(v, "alerts.chattering.within", allowZero: false) { alerts.chatterWithin = d }
            if let v = c["hold"], let d = r.duration(v, "alerts.chattering.hold", allowZero: false) { alerts.chatterHold = d }
        }
        if let n = m["flood"], let f = r.mapping(n, "alerts.flood", keys: ["window", "start", "end"]) {
            if let v = f["window"], let d = r.duration(v, "alerts.flood.window", allowZero: false) { alerts.floodWindow = d }
            if let v = f["start"], let x = r.integer(v, "alerts.flood.start", in: 1...100_000) { alerts.floodStart = x }
            if let v = f["end"], let x = r.integer(v, "alerts.flood.end", in: 1...100_000) { alerts.floodEnd = x }
            if alerts.floodEnd > alerts.floodStart {
                r.fail(n, "alerts.flood.end", "must not exceed alerts.flood.start (\(alerts.floodStart)): a flood ends below where it starts")
            }
        }
        return alerts
    }
}
