/// What a ``PartitionPipeline`` computes, stage by stage; settings only, no state.
public struct PartitionPipelineSettings: Sendable {
    public struct Window: Sendable {
        /// Written into each row (nil: an unnamed single window).
        public var name: String?
        public var spec: WindowSpec
        public init(name: String?, spec: WindowSpec) {
            self.name = name
            self.spec = spec
        }
    }

    /// How alerts are handled: deadlines, routes, suppression, special work.
    public struct Alarms: Sendable {
        /// Copies of alert records whose severity and kind a route selects go to that route.
        public var routes: [AlertRoute] = []
        /// Response deadline per severity (`DOMAIN.md` §6).
        public var deadlines: [RiskLevel: Int64] = [.red: 300_000, .orange: 1_800_000, .yellow: 7_200_000, .blue: 86_400_000]
        /// Chattering and flood thresholds (ISA-18.2, `DOMAIN.md` §3.7).
        public var suppression = AlarmFloodFilter.Settings()
        /// Permits of these kinds tighten the rules that adjust during special work, and make an AL2 red (§4.3).
        public var hotWorkKinds: Set<String> = ["hot_work_special", "hot_work_1", "hot_work_2", "confined_space"]
        public init() {}
    }

    /// The enterprise grade model (`DOMAIN.md` §4.3) and its overrides.
    public struct Grading: Sendable {
        public var grader = RiskGrader.Settings()
        public var factorWeights = FactorWeights()
        /// An enterprise's grade is evaluated at least this often (event time) and at each of its alarm transitions.
        public var evaluation: Int64 = 60_000
        /// Grades are re-emitted at least this often (event time).
        public var heartbeat: Int64 = 3_600_000
        /// Whether a copy of every grade keyed by the enterprise's region is emitted (when the region is known).
        public var byRegion = false
        /// A red-severity AL2 lasting longer than this makes the enterprise red.
        public var redAlarmFor: Int64 = 600_000
        /// More than this share of points offline is a data interruption; lasting `interruptionYellowAfter` it
        /// is at least yellow, during hot work orange.
        public var interruptionShare = 0.2
        public var interruptionYellowAfter: Int64 = 86_400_000
        /// HH or LL on a tank of one of these major-hazard grades lasting longer than `tankAlarmFor` → at least orange.
        public var tankAlarmFor: Int64 = 1_800_000
        public var tankGrades: Set<Int> = [1, 2]
        /// From this local time of day a missing daily commitment adds to Q.
        public var commitmentDue: Int64 = 9 * 3_600_000
        /// A filed offline notice suspends escalation until its planned online time plus this.
        public var offlineNoticeGrace: Int64 = 3_600_000
        /// The window of each enterprise's offline KPI (30 days).
        public var offlineKPIWindow: Int64 = 30 * 86_400_000
        public init() {}
    }

    public var windows: [Window]
    /// Bounded out-of-orderness of the partition's watermark, ms.
    public var outOfOrderness: Int64 = 5_000
    /// Idle timeout after which a silent partition's clock follows the processing clock, ms.
    public var idleTimeout: Int64? = 60_000
    public var decoder = ReadingDecoderConfig()
    /// Sensors the window state is sized for up front (it grows beyond).
    public var expectedSensors = 1_024
    /// Whether window rows are encoded (benchmarks of the engine alone switch it off; the counts stay).
    public var encodeOutputs = true
    /// The sensor types; a point takes the first type whose `match` occurs in its id, and that type's rule,
    /// alert policy and instrument checks.
    public var sensorTypes: [SensorTypePlan] = [] {
        didSet { derive() }
    }
    /// An analog value unchanged for longer than this is FROZEN.
    public var frozenAfter: Int64 = 86_400_000
    public var alarms = Alarms()
    /// The unit of a point from its sensor id (permits naming a unit cover that unit's points, for the alarm
    /// limits and the hot-work override); nil: every permit covers its whole enterprise.
    public var sensorUnit: (@Sendable (String) -> String?)? = nil
    /// Severity of `offline` records (a point's data gap; `DOMAIN.md` §5: blue).
    public var offlineSeverity: RiskLevel = .blue
    /// A point silent for this long (event time) gets an `offline` alert; nil disables.
    public var offlineAfter: Int64? = 1_800_000
    /// Anomaly scoring (its `utcOffset` is also the local time of the calendar rules and commitments).
    public var anomalySettings = AnomalySettings()
    /// Readings whose score reaches `anomalyFloor` are emitted; false disables scoring.
    public var scoreAnomalies = false
    public var anomalyFloor = 0.6
    /// nil disables grading.
    public var grading: Grading? = nil

    public init(windows: [Window], sensorTypes: [SensorTypePlan] = []) {
        self.windows = windows
        self.sensorTypes = sensorTypes
        derive()
    }

    // Derived from `sensorTypes` once (the stages read them per reading).
    /// The types' alarm rules, in type order (a rule's index is its position here).
    public private(set) var alarmRules: [ThresholdRule] = []
    /// Per type, the index of its rule in `alarmRules` (nil: no alarm levels).
    public private(set) var ruleOfType: [Int?] = []
    /// Per rule, its type's alert policy.
    public private(set) var rulePolicies: [AlertPolicy] = []
    /// Per type, its instrument checks (nil: none); whether any type has some.
    public private(set) var deviceChecks: [DeviceCheck?] = []
    public private(set) var hasDeviceChecks = false

    private mutating func derive() {
        alarmRules = []
        ruleOfType = []
        rulePolicies = []
        for type in sensorTypes {
            if let rule = type.rule {
                ruleOfType.append(alarmRules.count)
                alarmRules.append(rule)
                rulePolicies.append(type.policy)
            } else {
                ruleOfType.append(nil)
            }
        }
        deviceChecks = sensorTypes.map(\.check)
        hasDeviceChecks = deviceChecks.contains { $0 != nil }
    }

    /// The alert policy of rule `rule`.
    func policy(ofRule rule: Int) -> AlertPolicy { rule < rulePolicies.count ? rulePolicies[rule] : AlertPolicy() }

    /// A digest of the settings that window state depends on — each window's name, kind and sizes, lateness, emit
    /// mode, statistics, EWMA half-life and quantile accuracy, and the out-of-orderness — written field by field
    /// in a fixed order. A snapshot taken under other settings is refused.
    public var stateFingerprint: UInt32 {
        var w = SnapshotWriter()
        w.u64(UInt64(windows.count))
        for window in windows {
            w.string(window.name ?? "")
            window.spec.writeIdentity(to: &w)
        }
        w.i64(outOfOrderness)
        return SnapshotCodec.crc32(w.bytes)
    }

    /// The fingerprint snapshots of format 3 and older carry: a digest of the windows' textual description.
    /// Kept only to restore those snapshots.
    var legacyStateFingerprint: UInt32 {
        let text = windows.map { "\($0.name ?? "")=\($0.spec)" }.joined(separator: ";") + "|\(outOfOrderness)"
        return SnapshotCodec.crc32(Array(text.utf8))
    }
}

/// One sensor type as the pipeline runs it: which points it selects, their alarm rule and alert policy, and
/// their instrument checks (range, analog for FROZEN, the stale gap).
public struct SensorTypePlan: Sendable {
    public var name: String
    /// Sensor-id substrings that select the type (a point takes the first type one of whose substrings occurs
    /// in its id).
    public var match: [String]
    /// The two-level alarm rule (nil: the type has no alarm levels).
    public var rule: ThresholdRule?
    /// Severity colours of AL1 and AL2 and the departments to notify.
    public var policy: AlertPolicy
    /// Instrument checks and the stale gap (nil: the type's points are not checked).
    public var check: DeviceCheck?

    public init(name: String, match: [String], rule: ThresholdRule? = nil, policy: AlertPolicy = AlertPolicy(), check: DeviceCheck? = nil) {
        self.name = name
        self.match = match
        self.rule = rule
        self.policy = policy
        self.check = check
    }
}
