public import VigilCore

/// A pipeline as plain data: what a pipeline file says, with every default applied. The runtime sees only
/// this type, never YAML (``PipelineLoader`` reads files).
public struct PipelineSpec: Sendable, Hashable {
    /// Format version of the file (1).
    public var version: Int = 1
    /// Pipeline name: lower-case letters, digits and dashes; used in group ids and checkpoint topics.
    public var name: String
    public var description: String? = nil
    /// Offset of local time from UTC (ms) for hours of day and months (`time_zone`, default +08:00).
    public var utcOffset: Int64 = 8 * 3_600_000
    /// Kafka consumer group (default `vigil.<name>`).
    public var consumerGroup: String
    /// Bootstrap servers (default `127.0.0.1:9092`; `vigil run --brokers` overrides).
    public var brokers: String = "127.0.0.1:9092"
    /// librdkafka settings passed to every client (TLS, SASL, tuning).
    public var kafka: [String: String] = [:]
    public var sources: SourcesSpec
    /// Window operators over the readings; window rows go to ``SinksSpec/windowStats``.
    public var windows: [NamedWindowSpec] = []
    /// Sensor types with their alarm levels (matched on sensor ids).
    public var sensorTypes: [SensorTypeSpec] = []
    /// Statistical anomaly scoring (scores at or above `floor` go to ``SinksSpec/anomalies``).
    public var anomalies = AnomaliesSpec()
    public var risk = RiskSpec()
    public var alerts = AlertsSpec()
    /// Region heat map (a second stage over grades re-keyed by region).
    public var heatmap: HeatmapSpec? = nil
    public var sinks = SinksSpec()
    public var checkpoint = CheckpointSpec()
    public var metrics = MetricsSpec()
    /// Partition workers per process (`workers`; nil: one per core). Each owns a disjoint share of the
    /// assigned partitions with all of their state, on its own thread (`Docs/workers.md`).
    public var workers: Int? = nil

    public init(name: String, sources: SourcesSpec) {
        self.name = name
        self.consumerGroup = "vigil.\(name)"
        self.sources = sources
    }
}

/// Input topics.
public struct SourcesSpec: Sendable, Hashable {
    /// Sensor readings (`Schemas/safety.readings.v1.schema.json`); absent for second-stage pipelines.
    public var readings: ReadingsSourceSpec?
    /// Enterprise profiles, read in full as a table (compacted topic).
    public var enterprises: String?
    /// Hidden-hazard events.
    public var hazards: String?
    /// Work-permit events.
    public var permits: String?
    /// A regular expression (ICU syntax) on sensor ids whose first capture group is the point's unit (单元), so
    /// that a permit naming a unit tightens the limits of that unit's points only; nil: permits apply to the
    /// whole enterprise.
    public var permitsSensorUnit: String?
    /// Per-point setpoints (H/HH/L/LL, `DOMAIN.md` §3.2), read in full as a table (compacted topic).
    public var setpoints: String?
    /// Daily safety commitments (安全承诺), read in full as a table: a missing one adds to Q (§4.3).
    public var commitments: String?
    /// Offline notices (离线报备, `Schemas/safety.offline-notices.v1.schema.json`), read in full as a table: a
    /// filed notice suspends the escalation of the enterprise's data interruption (§5).
    public var offlineNotices: String?
    /// Grades re-keyed by region (second stage: the heat map).
    public var grades: String?

    public init(readings: ReadingsSourceSpec? = nil) { self.readings = readings }
}

/// How readings are read.
public struct ReadingsSourceSpec: Sendable, Hashable {
    public var topics: [String]
    /// Payload codec; `json` (Schemas/safety.readings.v1) is the only one.
    public var codec = "json"
    /// The field that keys messages (must be the enterprise id, so per-enterprise state is partition-local).
    public var keyField = "enterprise"
    /// The event-time field.
    public var eventTimeField = "ts"
    /// Bounded out-of-orderness of the per-partition watermark, ms. Default 5 s.
    public var outOfOrderness: Int64 = 5_000
    /// A partition silent this long (processing time) advances its watermark with the clock, ms. Default 60 s.
    public var idleTimeout: Int64 = 60_000
    /// Decoder limits (payload size, timestamp horizons).
    public var decoder = ReadingDecoderConfig()

    public init(topics: [String]) { self.topics = topics }
}

/// A named window operator.
public struct NamedWindowSpec: Sendable, Hashable {
    public var name: String
    public var window: WindowSpec
    public init(name: String, window: WindowSpec) {
        self.name = name
        self.window = window
    }
}

/// A kind of monitoring point and its alarm levels (`DOMAIN.md` §3).
public struct SensorTypeSpec: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable, CaseIterable {
        /// Alarm when the value rises above the levels (gas, temperature, pressure, tilt).
        case high
        /// Alarm when the value falls below them (oxygen deficiency, low level).
        case low
    }

    public var name: String
    /// Substrings of sensor ids that identify this type (e.g. `-GT-`).
    public var match: [String]
    public var unit: String?
    public var direction: Direction = .high
    /// First-level alarm (AL1 / H / L).
    public var alarm1: Double?
    /// Second-level alarm (AL2 / HH / LL).
    public var alarm2: Double?
    /// Values must fall back past the level by this much to clear (deadband), in the sensor's unit.
    public var deadband: Double = 0
    /// A level must hold this long before an alarm is raised, ms.
    public var onDelay: Int64 = 0
    /// A cleared level must hold this long before the alarm clears, ms.
    public var offDelay: Int64 = 0
    /// Instrument range; values outside are a `FAULT` (`DOMAIN.md` §5).
    public var rangeMin: Double?
    public var rangeMax: Double?
    /// Whether the points are analog tags (checked for FROZEN values) or discrete states. Default analog.
    public var analog = true
    /// Nominal sampling period, ms (stale after max(3 × period, 5 min)). Default 60 s.
    public var period: Int64 = 60_000
    /// Severity colour (red/orange/yellow/blue) of an AL1 and an AL2 alarm: it picks the response deadline
    /// and the routes (`DOMAIN.md` §6). Defaults yellow and orange.
    public var severity1: RiskLevel = .yellow
    public var severity2: RiskLevel = .orange
    /// Departments to notify (equipment, safety, production), carried on every alert record. Default safety.
    public var notify = ["safety"]
    /// Dynamic limits: seasonal, time-of-day and special-work adjustments (they only tighten). Default none.
    public var adjustments: [LimitAdjustment] = []
    /// Levels per point from `sources.setpoints` (H/HH above, L/LL below; `DOMAIN.md` §3.2): for tank
    /// temperature, pressure and level, whose setpoints are design values per tank. A point without setpoints
    /// keeps `al1`/`al2` (none: it cannot alarm, "threshold not set"). Default false.
    public var setpoints = false
    /// Two-sided levels for every point of the type (`h`/`hh` going up, `l`/`ll` going down), instead of
    /// `direction` with `al1`/`al2`: e.g. oxygen, alarming on deficiency and on enrichment.
    public var sides: PointSetpoints? = nil

    public init(name: String, match: [String]) {
        self.name = name
        self.match = match
    }
}

/// Anomaly scoring settings.
public struct AnomaliesSpec: Sendable, Hashable {
    /// Scores (in [0, 1]) at or above this are produced to the anomalies topic; above 1 disables them. Default 0.6.
    public var floor = 0.6
    /// Readings per sensor for the robust z-score and flatline checks. Default 60.
    public var window = 60
    /// Readings before the statistical detectors score. Default 20.
    public var warmUp = 20
    /// A gap longer than this before a reading scores as a data gap, ms. Default 5 min.
    public var staleAfter: Int64 = 300_000
    /// A point without a reading for this long goes OFFLINE while it is silent (`DOMAIN.md` §5: 30 min).
    public var offlineAfter: Int64 = 1_800_000
    /// An analog point whose value stays exactly the same for longer than this is FROZEN (`DOMAIN.md` §5: 24 h).
    public var frozenAfter: Int64 = 86_400_000
    /// The hour-of-day seasonal baseline: on, days of history an hour needs before it scores, and the
    /// per-day smoothing of the profile. Defaults on, 3, 0.3.
    public var seasonal = true
    public var seasonalMinDays = 3
    public var seasonalAlpha = 0.3
    public init() {}
}

/// The dynamic risk grade model (`DOMAIN.md` §4.3, all [P] defaults).
public struct RiskSpec: Sendable, Hashable {
    // Defaults come from VigilCore's RiskGrader, the one place the §4.3 constants are written down.
    /// Lower bounds of R_dyn for each level: red ≥ 80, orange ≥ 60, yellow ≥ 40, else blue.
    public var red = RiskGrader.Settings().red
    public var orange = RiskGrader.Settings().orange
    public var yellow = RiskGrader.Settings().yellow
    /// Downgrade only after R_dyn stayed below (band − margin) for `downgradeHold` ms.
    public var downgradeMargin = RiskGrader.Settings().downgradeMargin
    public var downgradeHold = RiskGrader.Settings().downgradeHold
    /// Weight of the alarm-behaviour score A in R_dyn = B + w·A + O + H + Q.
    public var alarmWeight = RiskGrader.Settings().alarmWeight
    /// Grades are re-emitted at least this often, ms.
    public var heartbeat: Int64 = 3_600_000
    /// Weights of the operations load O (per valid permit kind, capped) and the hidden-hazard load H.
    public var factors = FactorWeights()
    /// §4.3 overrides: a red-severity AL2 lasting longer than this → red (10 min); any AL2 while a permit of
    /// one of `hotWorkKinds` is valid → red.
    public var redAlarmFor: Int64 = 600_000
    public var hotWorkKinds = ["hot_work_special", "hot_work_1", "hot_work_2", "confined_space"]
    /// §5 / §4.3: more than this share of an enterprise's points offline is a data interruption; lasting
    /// `interruptionFor` → at least yellow (during hot work: orange at once).
    public var interruptionShare = 0.2
    public var interruptionFor: Int64 = 86_400_000
    /// §5: a filed offline notice suspends the escalation of a data interruption until its planned online
    /// time plus this grace (1 h).
    public var offlineNoticeGrace: Int64 = 3_600_000
    /// §4.3: HH or LL on a tank of one of these major-hazard grades (the point's, else the enterprise's) lasting
    /// longer than `tankAlarmFor` → at least orange.
    public var tankAlarmFor: Int64 = 1_800_000
    public var tankGrades = [1, 2]
    /// Local time of day (ms after midnight) from which today's safety commitment counts as missing (09:00).
    public var commitmentDue: Int64 = 9 * 3_600_000
    /// The window of the offline KPI in the grade records (`DOMAIN.md` §5: monthly offline hours and count).
    public var offlineKPIWindow: Int64 = 30 * 86_400_000
    public init() {}
}

/// Alert routing and response deadlines (`DOMAIN.md` §6).
public struct AlertsSpec: Sendable, Hashable {
    /// A copy of every alert record whose severity is in `levels` and whose kind is in `kinds` (an empty list:
    /// any) goes to `topic`.
    public struct Route: Sendable, Hashable {
        public var levels: [RiskLevel]
        /// Kinds of alert record: `alarm` (threshold alarms, their escalations and acknowledgements),
        /// `data_gap`, `instrument` (faults and frozen values), `data_interruption`, `threshold_not_set`.
        public var kinds: [AlertKind]
        public var topic: String
        public init(levels: [RiskLevel], kinds: [AlertKind] = [], topic: String) {
            self.levels = levels
            self.kinds = kinds
            self.topic = topic
        }
    }
    /// Copies of alerts by severity and kind go to these topics (in addition to ``SinksSpec/alerts``).
    public var routes: [Route] = []
    /// Acknowledgement deadlines per level, ms: red 5 min, orange 30 min, yellow 2 h, blue 24 h.
    public var deadlines: [RiskLevel: Int64] = [.red: 300_000, .orange: 1_800_000, .yellow: 7_200_000, .blue: 86_400_000]
    /// Topic of acknowledgements, if any.
    public var acknowledgements: String? = nil
    /// ISA-18.2 chattering (`DOMAIN.md` §3.7): this many raises within `chatterWithin` make a point
    /// chattering until `chatterHold` without a raise. Defaults 3, 60 s, 10 min.
    public var chatterRaises = 3
    public var chatterWithin: Int64 = 60_000
    public var chatterHold: Int64 = 600_000
    /// ISA-18.2 flood: more than `floodStart` raises of an enterprise within `floodWindow` start a flood, fewer
    /// than `floodEnd` end it. Defaults 10 min, 10, 5.
    public var floodWindow: Int64 = 600_000
    public var floodStart = 10
    public var floodEnd = 5
    public init() {}
}

/// The region heat map: counts of enterprises per grade per region and industry.
public struct HeatmapSpec: Sendable, Hashable {
    public var groupBy: [String] = ["region", "industry"]
    /// Counts are emitted this often, ms.
    public var every: Int64 = 60_000
    public init() {}
}

/// Output topics.
public struct SinksSpec: Sendable, Hashable {
    public var windowStats = "risk.window-stats"
    public var anomalies = "risk.anomalies"
    public var grades = "risk.grades"
    /// A copy of every grade, keyed by the enterprise's region (needs `sources.enterprises`): the input of
    /// the heat-map stage.
    public var gradesByRegion = "risk.grades.by-region"
    public var alerts = "risk.alerts"
    public var heatmap = "risk.heatmap"
    public var deadLetters = "risk.dlq"
    public init() {}
}

/// Checkpointing (see the fault-tolerance design).
public struct CheckpointSpec: Sendable, Hashable {
    public enum Store: String, Sendable, Hashable, CaseIterable {
        /// Atomic files under `path`; outputs from the idempotent producer.
        case directory
        /// A compacted topic, written in one Kafka transaction with outputs and offsets.
        case kafka
    }
    public var store: Store = .directory
    public var interval: Int64 = 5_000
    public var path = "/var/lib/vigil"
    public init() {}
}

/// Observability endpoint.
public struct MetricsSpec: Sendable, Hashable {
    /// Port of `/metrics` and `/healthz`; 0 disables them. Default 9464.
    public var port = 9464
    public init() {}
}

extension RiskSpec {
    /// The grader's bands, hysteresis and weights.
    public var grader: RiskGrader.Settings {
        var g = RiskGrader.Settings()
        g.red = red
        g.orange = orange
        g.yellow = yellow
        g.downgradeMargin = downgradeMargin
        g.downgradeHold = downgradeHold
        g.alarmWeight = alarmWeight
        return g
    }
}
