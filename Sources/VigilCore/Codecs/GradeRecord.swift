/// One record of the grades topic (`Schemas/risk.grades.v1.schema.json`): an enterprise's level with its
/// factors, inputs and bands, built as this value and encoded in one place, in the schema's key order.
struct GradeRecord {
    var enterprise: String
    var region: String?
    var industry: String?
    var level: RiskLevel
    var previousLevel: RiskLevel
    /// R_dyn.
    var score: Double
    var seq: Int64
    var ts: Int64
    /// A level change (else a heartbeat).
    var changed: Bool
    var factors: RiskInputs
    var alarmWeight: Double
    var indicators: AlarmBehaviour.Indicators
    /// The offline KPI (§5) over the KPI window.
    var offlinePointHours: Double
    var offlineEpisodes: Int
    /// A from the alarms alone.
    var alarmScoreWithoutPseudo: Double
    var commitmentMissing: Bool?
    var majorHazardGrade: Int?
    var activePermits: Int
    var openHazards: Int
    var overdueMajorHazard: Bool
    /// `.min`: no data interruption.
    var interruptedSince: Int64
    var offlineNotice: (id: String, plannedOnline: Int64)?
    var diagnosticScore: Double?
    var directRed: [String]
    var creditScore: Double?
    /// The credit score's monitoring-compliance factor when it came from the offline KPI (nil: from the profile,
    /// or no factors).
    var monitoringCompliance: Double?
    var overrides: [String]
    /// Whether the reference tables had been read to their end (nil: the pipeline reads none).
    var tablesComplete: Bool?
    /// The enterprise is not in the profile table (nil: the pipeline reads no profiles).
    var profileMissing: Bool?
    var bands: (red: Double, orange: Double, yellow: Double)

    static let ruleVersion: StaticString = "vigil-risk-2"

    /// Writes the record as JSON into `out` (cleared first; the job reuses one buffer for every record).
    func encode(into out: inout JSONBytes) {
        func string(_ s: String?) { out.appendString(s) }
        func strings(_ list: [String]) {
            out.append("[")
            for (i, s) in list.enumerated() {
                if i > 0 { out.append(",") }
                string(s)
            }
            out.append("]")
        }
        func number(_ x: Double?) { out.appendNumber(x) }
        func integer(_ n: Int64?) { out.appendInteger(n) }
        func boolean(_ b: Bool?) {
            guard let b else { return out.append("null") }
            out.append(b ? "true" : "false")
        }
        let ind = indicators
        out.removeAll()
        out.append("{\"enterprise\":")
        string(enterprise)
        out.append(",\"region\":")
        string(region)
        out.append(",\"industry\":")
        string(industry)
        out.append(",\"level\":")
        string("\(level)")
        out.append(",\"previous_level\":")
        string("\(previousLevel)")
        out.append(",\"score\":")
        number(score)
        out.append(",\"seq\":")
        integer(seq)
        out.append(",\"ts\":")
        integer(ts)
        out.append(",\"reason\":")
        out.append(changed ? "\"change\"" : "\"heartbeat\"")
        out.append(",\"rule_version\":\"")
        out.append(Self.ruleVersion)
        out.append("\",\"factors\":{\"base\":")
        number(factors.base)
        out.append(",\"alarm\":")
        number(factors.alarm)
        out.append(",\"alarm_weight\":")
        number(alarmWeight)
        out.append(",\"operations\":")
        number(factors.operations)
        out.append(",\"hazards\":")
        number(factors.hazards)
        out.append(",\"data_quality\":")
        number(factors.dataQuality)
        out.append(",\"credit\":")
        number(factors.credit)
        out.append("},\"inputs\":{\"disturbance_rate\":")
        number(ind.disturbanceRate)
        out.append(",\"repeat_alarm_share\":")
        number(ind.repeatAlarmShare)
        out.append(",\"alarms_per_point\":")
        number(ind.alarmsPerPoint)
        out.append(",\"mean_time_to_clear_ms\":")
        integer(ind.meanTimeToClear)
        out.append(",\"longest_alarm_ms\":")
        integer(ind.longestAlarm)
        out.append(",\"offline_share\":")
        number(ind.offlineShare)
        out.append(",\"frozen_share\":")
        number(ind.frozenShare)
        out.append(",\"offline_point_hours\":")
        number(offlinePointHours)
        out.append(",\"offline_episodes\":")
        integer(Int64(offlineEpisodes))
        out.append(",\"alarms_24h\":")
        integer(Int64(ind.alarms))
        out.append(",\"pseudo_alarms_24h\":")
        integer(Int64(ind.pseudoAlarms))
        out.append(",\"alarm_score_without_pseudo\":")
        number(alarmScoreWithoutPseudo)
        out.append(",\"commitment_missing\":")
        boolean(commitmentMissing)
        out.append(",\"major_hazard_grade\":")
        integer(majorHazardGrade.map(Int64.init))
        out.append(",\"active_permits\":")
        integer(Int64(activePermits))
        out.append(",\"open_hazards\":")
        integer(Int64(openHazards))
        out.append(",\"overdue_major_hazard\":")
        boolean(overdueMajorHazard)
        out.append(",\"interrupted_since\":")
        integer(interruptedSince == .min ? nil : interruptedSince)
        out.append(",\"offline_notice\":")
        if let offlineNotice {
            out.append("{\"notice\":")
            string(offlineNotice.id)
            out.append(",\"planned_online\":")
            integer(offlineNotice.plannedOnline)
            out.append("}")
        } else {
            out.append("null")
        }
        out.append(",\"diagnostic_score\":")
        number(diagnosticScore)
        out.append(",\"diagnostic_level\":")
        string(diagnosticScore.map { "\(DiagnosticAssessment.band($0))" })
        out.append(",\"direct_red\":")
        strings(directRed)
        out.append(",\"credit_score\":")
        number(creditScore)
        out.append(",\"credit_grade\":")
        string(creditScore.map { "\(CreditScore.grade(of: $0))" })
        out.append(",\"monitoring_compliance\":")
        number(monitoringCompliance)
        out.append(",\"overrides\":")
        strings(overrides)
        out.append(",\"tables_complete\":")
        boolean(tablesComplete)
        out.append(",\"profile_missing\":")
        boolean(profileMissing)
        out.append("},\"bands\":{\"red\":")
        number(bands.red)
        out.append(",\"orange\":")
        number(bands.orange)
        out.append(",\"yellow\":")
        number(bands.yellow)
        out.append("}}")
    }

    /// The record as JSON text (for tests and tools).
    var json: String {
        var out = JSONBytes(capacity: 1_024)
        encode(into: &out)
        return String(decoding: out.buffer, as: UTF8.self)
    }
}
