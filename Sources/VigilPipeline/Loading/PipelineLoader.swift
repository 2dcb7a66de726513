import Foundation
import VigilCore
import Yams

/// Reads pipeline files: YAML → ``PipelineSpec``, with `${ENV}` interpolation and validation that reports
/// every problem at once (``PipelineError``).
///
/// Keys (all optional unless marked; durations as `500ms`, `30s`, `5m`, `2h`, `1d`):
///
/// | key | type | default |
/// | --- | --- | --- |
/// | `version` | 1 | 1 |
/// | `name` (required) | `[a-z0-9-]+` | — |
/// | `description` | string | — |
/// | `consumer_group` | string | `vigil.<name>` |
/// | `brokers` | `host:port[,…]` | `127.0.0.1:9092` |
/// | `kafka` | map of librdkafka settings | — |
/// | `sources.readings` | topic, or {`topics`, `codec`, `key_field`, `event_time_field`, `out_of_orderness`, `idle_timeout`, `max_payload_bytes`, `future_horizon`, `past_horizon`} | —, json, enterprise, ts, 5s, 60s, 1048576, 1d, 30d |
/// | `sources.enterprises` / `hazards` / `permits` / `setpoints` / `commitments` / `offline_notices` / `grades` | topic | — |
/// | `sources.permits` (long form) | {`topic`, `sensor_unit`: regular expression whose first group is a point's unit} | —, none (permits cover the enterprise) |
/// | `windows[]` | {`name`, `kind` (tumbling/hopping/session), `size`, `slide`, `gap`, `allowed_lateness`, `emit` (on_close, final, every <duration>), `statistics`, `ewma_half_life`, `quantile_accuracy`} | —, —, …, 0s, on_close, [count, mean, min, max, stddev] |
/// | `anomalies` | {`floor`, `window`, `warm_up`, `stale_after`, `offline_after`, `frozen_after`, `seasonal` {`enabled`, `min_days`, `alpha`}} | 0.6, 60, 20, 5m, 30m, 24h, {true, 3, 0.3} |
/// | `time_zone` | UTC offset of local time (hour of day, month) | +08:00 |
/// | `sensor_types.<name>` | {`match`, `unit`, `direction` (high/low), `al1`, `al2`, `deadband`, `on_delay`, `off_delay`, `range` [min, max], `signal` (analog/discrete), `period`, `severity` {al1, al2}, `notify` [equipment/safety/production], `adjustments` [{`months`, `hours` [from, to], `during` (special_work), `scale`, `al1`, `al2`}], `setpoints` (true: per-point H/HH/L/LL from `sources.setpoints`), `h`/`hh`/`l`/`ll` (two-sided levels instead of `direction`/`al1`/`al2`)} | …, high, …, 0, 0s, 0s, …, analog, 60s, yellow/orange, [safety], [], false |
/// | `risk` | {`bands` {red, orange, yellow}, `downgrade` {margin, hold}, `alarm_weight`, `heartbeat`} | 80/60/40, 5 / 2h, 0.5, 1h |
/// | `alerts` | {`routes` [{levels, kinds, topic}], `deadlines` {red, orange, yellow, blue}, `acknowledgements`} | —, 5m/30m/2h/24h, — |
/// | `heatmap` | {`group_by`, `every`} (needs `sources.grades`) | [region, industry], 1m |
/// | `sinks` | {`window_stats`, `anomalies`, `grades`, `alerts`, `heatmap`, `dlq`} | risk.window-stats, risk.anomalies, risk.grades, risk.alerts, risk.heatmap, risk.dlq |
/// | `checkpoint` | {`store` (directory/kafka), `interval`, `path`} | directory, 5s, /var/lib/vigil |
/// | `metrics` | {`port`} (0 disables) | 9464 |
/// | `workers` | 1…256: partition workers per process (`vigil run --workers` overrides) | the number of cores |
public enum PipelineLoader: Sendable {
    static let topKeys = [
        "version", "name", "description", "time_zone", "consumer_group", "brokers", "kafka", "sources", "windows", "sensor_types",
        "anomalies", "risk", "alerts", "heatmap", "sinks", "checkpoint", "metrics", "workers",
    ]
    static let levels = ["red", "orange", "yellow", "blue"]

    /// Loads and validates a file.
    ///
    /// - Throws: A ``PipelineError`` listing every problem (an unreadable file is one issue at 1:1).
    /// - Parameter environment: Variables for `${NAME}` interpolation; `nil` uses the process environment.
    public static func load(path: String, environment: [String: String]? = nil) throws(PipelineError) -> PipelineSpec {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PipelineError(
                issues: [
                    PipelineError.Issue(file: path, line: 1, column: 1, path: "", message: "cannot read the file: \(error.localizedDescription)")
                ],
                source: ""
            )
        }
        return try parse(yaml: text, file: path, environment: environment)
    }

    /// Parses and validates YAML text; `file` names it in errors.
    public static func parse(yaml: String, file: String, environment: [String: String] = [:]) throws(PipelineError)
        -> PipelineSpec
    {
        var r = _Reader(file: file, environment: environment)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw PipelineError(issues: [yamlIssue(error, file: file)], source: yaml)
        } catch {
            throw PipelineError(issues: [PipelineError.Issue(file: file, line: 1, column: 1, path: "", message: "\(error)")], source: yaml)
        }
        guard let root else {
            throw PipelineError(issues: [PipelineError.Issue(file: file, line: 1, column: 1, path: "", message: "the file is empty")], source: yaml)
        }
        let spec = read(root, &r)
        if let spec, r.issues.isEmpty { return spec }
        // Report in file order.
        let sorted = r.issues.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
        throw PipelineError(issues: sorted, source: yaml)
    }

    /// Parses a duration as pipeline files write it (`500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`); returns ms.
    public static func parseDuration(_ text: String) -> Int64? { _Reader.parseDuration(text) }

    static func yamlIssue(_ error: YamlError, file: String) -> PipelineError.Issue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return PipelineError.Issue(file: file, line: mark.line, column: mark.column, path: "", message: "invalid YAML: \(problem)")
        default:
            return PipelineError.Issue(file: file, line: 1, column: 1, path: "", message: "invalid YAML: \(error)")
        }
    }

    static func read(_ root: Node, _ r: inout _Reader) -> PipelineSpec? {
        guard let top = r.mapping(root, "", keys: topKeys, required: ["name", "sources"]) else { return nil }
        if let v = top["version"], let n = r.integer(v, "version", in: 1...1000), n != 1 {
            r.fail(v, "version", "unsupported version \(n); this Vigil reads version 1")
        }
        var name = "invalid"
        if let n = top["name"], let s = r.nonEmptyString(n, "name") {
            if s.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" }) {
                name = s
            } else {
                r.fail(n, "name", "expected lower-case letters, digits and '-', got '\(s)'")
            }
        }
        var spec = PipelineSpec(name: name, sources: SourcesSpec())
        if let n = top["description"] { spec.description = r.string(n, "description") }
        if let n = top["consumer_group"], let s = r.nonEmptyString(n, "consumer_group") { spec.consumerGroup = s }
        if let n = top["brokers"], let s = r.nonEmptyString(n, "brokers") { spec.brokers = s }
        if let n = top["kafka"] { spec.kafka = readKafka(n, &r) }
        if let n = top["sources"] { spec.sources = readSources(n, &r) }
        if let n = top["windows"] { spec.windows = readWindows(n, &r) }
        if let n = top["sensor_types"] {
            spec.sensorTypes = readSensorTypes(n, &r)
            if spec.sources.permits == nil, let t = spec.sensorTypes.first(where: { $0.adjustments.contains(where: \.duringPermit) }) {
                r.fail(n, "sensor_types.\(t.name).adjustments", "'during: special_work' needs sources.permits (the work-permit topic)")
            }
            if spec.sources.setpoints == nil, let t = spec.sensorTypes.first(where: \.setpoints) {
                r.fail(n, "sensor_types.\(t.name).setpoints", "'setpoints: true' needs sources.setpoints (the per-point setpoint topic)")
            }
        }
        if let n = top["time_zone"], let s = r.string(n, "time_zone") {
            if let offset = parseUTCOffset(s) {
                spec.utcOffset = offset
            } else {
                r.fail(n, "time_zone", "expected a UTC offset like +08:00, got '\(s)'")
            }
        }
        if let n = top["anomalies"],
            let m = r.mapping(n, "anomalies", keys: ["floor", "window", "warm_up", "stale_after", "offline_after", "frozen_after", "seasonal"])
        {
            if let v = m["seasonal"] { readSeasonal(v, into: &spec.anomalies, &r) }
            if let v = m["floor"], let f = r.number(v, "anomalies.floor") {
                if f < 0 { r.fail(v, "anomalies.floor", "must be >= 0") } else { spec.anomalies.floor = f }
            }
            if let v = m["window"], let w = r.integer(v, "anomalies.window", in: 3...AnomalySettings.maxWindow) { spec.anomalies.window = w }
            if let v = m["warm_up"], let w = r.integer(v, "anomalies.warm_up", in: 1...10_000) { spec.anomalies.warmUp = w }
            if let v = m["stale_after"], let d = r.duration(v, "anomalies.stale_after", allowZero: false) { spec.anomalies.staleAfter = d }
            if let v = m["offline_after"], let d = r.duration(v, "anomalies.offline_after", allowZero: false) { spec.anomalies.offlineAfter = d }
            if let v = m["frozen_after"], let d = r.duration(v, "anomalies.frozen_after", allowZero: false) { spec.anomalies.frozenAfter = d }
        }
        if let n = top["risk"] { spec.risk = readRisk(n, &r) }
        if let n = top["alerts"] { spec.alerts = readAlerts(n, &r) }
        if let n = top["heatmap"] {
            spec.heatmap = readHeatmap(n, &r)
            if spec.sources.grades == nil { r.fail(n, "heatmap", "needs sources.grades (the grades re-keyed by region)") }
        }
        if let n = top["sinks"] { spec.sinks = readSinks(n, &r) }
        if let n = top["checkpoint"] { spec.checkpoint = readCheckpoint(n, &r) }
        if let n = top["metrics"], let m = r.mapping(n, "metrics", keys: ["port"]), let p = m["port"],
            let port = r.integer(p, "metrics.port", in: 0...65535)
        {
            spec.metrics.port = port
        }
        if let n = top["workers"], let w = r.integer(n, "workers", in: 1...256) { spec.workers = w }
        if let sources = top["sources"], spec.sources.readings == nil && spec.sources.grades == nil {
            r.fail(sources, "sources", "needs 'readings' (sensor readings) or 'grades' (a heat-map stage)")
        }
        return spec
    }

    static func readKafka(_ node: Node, _ r: inout _Reader) -> [String: String] {
        guard case .mapping(let m) = node else {
            r.fail(node, "kafka", "expected a mapping of librdkafka settings")
            return [:]
        }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard case .scalar(let key) = k else { continue }
            if let value = r.string(v, "kafka.\(key.string)") { out[key.string] = value }
        }
        return out
    }

    static func readSources(_ node: Node, _ r: inout _Reader) -> SourcesSpec {
        var sources = SourcesSpec()
        guard
            let m = r.mapping(
                node, "sources", keys: ["readings", "enterprises", "hazards", "permits", "setpoints", "commitments", "offline_notices", "grades"])
        else {
            return sources
        }
        if let n = m["readings"] {
            if case .scalar = n {
                if let topic = r.nonEmptyString(n, "sources.readings") { sources.readings = ReadingsSourceSpec(topics: [topic]) }
            } else if let rm = r.mapping(
                n, "sources.readings",
                keys: [
                    "topic", "topics", "codec", "key_field", "event_time_field", "out_of_orderness", "idle_timeout",
                    "max_payload_bytes", "future_horizon", "past_horizon",
                ]
            ) {
                var topics: [String] = []
                if let t = rm["topic"] { topics += r.strings(t, "sources.readings.topic") ?? [] }
                if let t = rm["topics"] { topics += r.strings(t, "sources.readings.topics") ?? [] }
                if rm["topic"] == nil && rm["topics"] == nil { r.fail(n, "sources.readings", "missing required key 'topic'") }
                var s = ReadingsSourceSpec(topics: topics)
                if let v = rm["codec"], let c = r.choice(v, "sources.readings.codec", ["json"]) { s.codec = c }
                if let v = rm["key_field"], let c = r.choice(v, "sources.readings.key_field", ["enterprise"]) { s.keyField = c }
                if let v = rm["event_time_field"], let c = r.choice(v, "sources.readings.event_time_field", ["ts"]) {
                    s.eventTimeField = c
                }
                if let v = rm["out_of_orderness"], let d = r.duration(v, "sources.readings.out_of_orderness") { s.outOfOrderness = d }
                if let v = rm["idle_timeout"], let d = r.duration(v, "sources.readings.idle_timeout", allowZero: false) {
                    s.idleTimeout = d
                }
                if let v = rm["max_payload_bytes"], let i = r.integer(v, "sources.readings.max_payload_bytes", in: 64...(64 << 20)) {
                    s.decoder.maxPayloadBytes = i
                }
                if let v = rm["future_horizon"], let d = r.duration(v, "sources.readings.future_horizon") { s.decoder.futureHorizon = d }
                if let v = rm["past_horizon"], let d = r.duration(v, "sources.readings.past_horizon") { s.decoder.pastHorizon = d }
                sources.readings = s
            }
        }
        if let n = m["enterprises"] { sources.enterprises = r.nonEmptyString(n, "sources.enterprises") }
        if let n = m["hazards"] { sources.hazards = r.nonEmptyString(n, "sources.hazards") }
        if let n = m["permits"] {
            if case .scalar = n {
                sources.permits = r.nonEmptyString(n, "sources.permits")
            } else if let pm = r.mapping(n, "sources.permits", keys: ["topic", "sensor_unit"]) {
                if let t = pm["topic"] {
                    sources.permits = r.nonEmptyString(t, "sources.permits.topic")
                } else {
                    r.fail(n, "sources.permits", "missing required key 'topic'")
                }
                if let v = pm["sensor_unit"], let pattern = r.nonEmptyString(v, "sources.permits.sensor_unit") {
                    do {
                        let regex = try NSRegularExpression(pattern: pattern)
                        if regex.numberOfCaptureGroups < 1 {
                            r.fail(
                                v, "sources.permits.sensor_unit",
                                "needs a capture group for the unit, e.g. '^[^-]+-(U[0-9]+)-' reads U03 from E0042-U03-GT-001")
                        } else {
                            sources.permitsSensorUnit = pattern
                        }
                    } catch {
                        r.fail(v, "sources.permits.sensor_unit", "not a regular expression: \(pattern)")
                    }
                }
            }
        }
        if let n = m["setpoints"] { sources.setpoints = r.nonEmptyString(n, "sources.setpoints") }
        if let n = m["commitments"] { sources.commitments = r.nonEmptyString(n, "sources.commitments") }
        if let n = m["offline_notices"] { sources.offlineNotices = r.nonEmptyString(n, "sources.offline_notices") }
        if let n = m["grades"] { sources.grades = r.nonEmptyString(n, "sources.grades") }
        return sources
    }

    static func readWindows(_ node: Node, _ r: inout _Reader) -> [NamedWindowSpec] {
        guard let items = r.sequence(node, "windows") else { return [] }
        var out: [NamedWindowSpec] = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let path = "windows[\(i)]"
            guard
                let m = r.mapping(
                    item, path,
                    keys: [
                        "name", "kind", "size", "slide", "gap", "allowed_lateness", "emit", "statistics", "ewma_half_life",
                        "quantile_accuracy",
                    ],
                    required: ["name", "kind"]
                )
            else { continue }
            var name = "window\(i)"
            if let n = m["name"], let s = r.nonEmptyString(n, "\(path).name") {
                if names.contains(s) { r.fail(n, "\(path).name", "duplicate window name '\(s)'") }
                names.insert(s)
                name = s
            }
            guard let kn = m["kind"], let kind = r.choice(kn, "\(path).kind", ["tumbling", "hopping", "session"]) else { continue }
            func need(_ key: String) -> Int64? {
                guard let v = m[key] else {
                    r.fail(item, path, "a \(kind) window needs '\(key)'")
                    return nil
                }
                return r.duration(v, "\(path).\(key)", allowZero: false)
            }
            func forbid(_ key: String) {
                if let v = m[key] { r.fail(v, "\(path).\(key)", "'\(key)' does not apply to \(kind) windows") }
            }
            let windowKind: WindowSpec.Kind
            switch kind {
            case "tumbling":
                forbid("slide")
                forbid("gap")
                guard let size = need("size") else { continue }
                windowKind = .tumbling(size: size)
            case "hopping":
                forbid("gap")
                guard let size = need("size"), let slide = need("slide") else { continue }
                windowKind = .hopping(size: size, slide: slide)
            default:
                forbid("size")
                forbid("slide")
                guard let gap = need("gap") else { continue }
                windowKind = .session(gap: gap)
            }
            var lateness: Int64 = 0
            if let v = m["allowed_lateness"], let d = r.duration(v, "\(path).allowed_lateness") { lateness = d }
            var emit = WindowSpec.EmitMode.onClose
            if let v = m["emit"], let s = r.string(v, "\(path).emit") {
                if s == "on_close" {
                    emit = .onClose
                } else if s == "final" {
                    emit = .final
                } else if s.hasPrefix("every "), let d = _Reader.parseDuration(String(s.dropFirst(6))), d > 0 {
                    emit = .early(every: d)
                } else {
                    r.fail(
                        v, "\(path).emit", "expected on_close, final or 'every <duration>', got '\(s)'",
                        hint: r.suggestion(s, ["on_close", "final"]).map { "did you mean '\($0)'?" }
                    )
                }
            }
            var statistics = StatisticSet.basic
            if let v = m["statistics"], let names = r.strings(v, "\(path).statistics") {
                statistics = [.count]
                for (j, s) in names.enumerated() {
                    if let stat = StatisticSet(name: s) {
                        statistics.insert(stat)
                    } else {
                        let node = v.sequence.map { $0[j] } ?? v
                        r.fail(
                            node, "\(path).statistics[\(j)]", "unknown statistic '\(s)'",
                            hint: r.suggestion(s, StatisticSet.names.map(\.0)).map { "did you mean '\($0)'?" }
                        )
                    }
                }
            }
            var halfLife: Int64? = nil
            if let v = m["ewma_half_life"] { halfLife = r.duration(v, "\(path).ewma_half_life", allowZero: false) }
            var accuracy = 0.01
            if let v = m["quantile_accuracy"], let a = r.number(v, "\(path).quantile_accuracy") { accuracy = a }
            let spec = WindowSpec(
                kind: windowKind, allowedLateness: lateness, emit: emit, statistics: statistics, ewmaHalfLife: halfLife,
                quantileAccuracy: accuracy
            )
            for problem in spec.problems() { r.fail(item, path, problem) }
            out.append(NamedWindowSpec(name: name, window: spec))
        }
        return out
    }

    static func readSensorTypes(_ node: Node, _ r: inout _Reader) -> [SensorTypeSpec] {
        guard case .mapping(let m) = node else {
            r.fail(node, "sensor_types", "expected a mapping of sensor type names to their settings")
            return []
        }
        var out: [SensorTypeSpec] = []
        for (k, v) in m {
            guard case .scalar(let key) = k else { continue }
            let path = "sensor_types.\(key.string)"
            guard
                let t = r.mapping(
                    v, path,
                    keys: [
                        "match", "unit", "direction", "al1", "al2", "deadband", "on_delay", "off_delay", "range", "signal", "period", "severity",
                        "notify",
                        "adjustments", "setpoints", "h", "hh", "l", "ll",
                    ],
                    required: ["match"]
                )
            else { continue }
            var spec = SensorTypeSpec(name: key.string, match: [])
            if let n = t["match"] { spec.match = r.strings(n, "\(path).match") ?? [] }
            if let n = t["unit"] { spec.unit = r.string(n, "\(path).unit") }
            if let n = t["direction"], let d = r.choice(n, "\(path).direction", ["high", "low"]) {
                spec.direction = SensorTypeSpec.Direction(rawValue: d)!
            }
            if let n = t["al1"] { spec.alarm1 = r.number(n, "\(path).al1") }
            if let n = t["al2"] { spec.alarm2 = r.number(n, "\(path).al2") }
            if let n = t["deadband"], let d = r.number(n, "\(path).deadband") {
                if d < 0 { r.fail(n, "\(path).deadband", "must be >= 0") } else { spec.deadband = d }
            }
            if let n = t["on_delay"], let d = r.duration(n, "\(path).on_delay") { spec.onDelay = d }
            if let n = t["off_delay"], let d = r.duration(n, "\(path).off_delay") { spec.offDelay = d }
            if let n = t["period"], let d = r.duration(n, "\(path).period", allowZero: false) { spec.period = d }
            if let n = t["severity"], let sm = r.mapping(n, "\(path).severity", keys: ["al1", "al2"]) {
                if let v = sm["al1"], let c = r.choice(v, "\(path).severity.al1", Self.levels), let level = RiskLevel(name: c) {
                    spec.severity1 = level
                }
                if let v = sm["al2"], let c = r.choice(v, "\(path).severity.al2", Self.levels), let level = RiskLevel(name: c) {
                    spec.severity2 = level
                }
            }
            if let n = t["notify"], let items = r.sequence(n, "\(path).notify") {
                spec.notify = []
                for (i, item) in items.enumerated() {
                    if let d = r.choice(item, "\(path).notify[\(i)]", ["equipment", "safety", "production"]), !spec.notify.contains(d) {
                        spec.notify.append(d)
                    }
                }
            }
            if let n = t["adjustments"] { spec.adjustments = readAdjustments(n, path: "\(path).adjustments", &r) }
            if let n = t["setpoints"] {
                switch r.choice(n, "\(path).setpoints", ["true", "false"]) {
                case "true": spec.setpoints = true
                case "false": spec.setpoints = false
                default: break
                }
            }
            if let n = t["range"], let items = r.sequence(n, "\(path).range") {
                if items.count != 2 {
                    r.fail(n, "\(path).range", "expected [min, max]")
                } else if let lo = r.number(items[0], "\(path).range[0]"), let hi = r.number(items[1], "\(path).range[1]") {
                    if lo >= hi { r.fail(n, "\(path).range", "min must be below max") }
                    spec.rangeMin = lo
                    spec.rangeMax = hi
                }
            }
            if let n = t["signal"], let c = r.choice(n, "\(path).signal", ["analog", "discrete"]) { spec.analog = c == "analog" }
            readSides(t, path: path, into: &spec, &r)
            if let a1 = spec.alarm1, let a2 = spec.alarm2 {
                let ordered = spec.direction == .high ? a2 >= a1 : a2 <= a1
                if !ordered {
                    r.fail(
                        t["al2"], "\(path).al2",
                        "for a \(spec.direction.rawValue) alarm, al2 (\(a2)) must not be \(spec.direction == .high ? "below" : "above") al1 (\(a1))"
                    )
                }
            }
            checkShadowed(spec, earlier: out, t["match"], &r)
            out.append(spec)
        }
        return out
    }

    static func readHeatmap(_ node: Node, _ r: inout _Reader) -> HeatmapSpec {
        var h = HeatmapSpec()
        guard let m = r.mapping(node, "heatmap", keys: ["group_by", "every"]) else { return h }
        if let v = m["group_by"], let g = r.strings(v, "heatmap.group_by") {
            for field in g where !["region", "industry", "park"].contains(field) {
                r.fail(v, "heatmap.group_by", "unknown field '\(field)'; expected region, industry or park")
            }
            h.groupBy = g
        }
        if let v = m["every"], let d = r.duration(v, "heatmap.every", allowZero: false) { h.every = d }
        return h
    }

    static func readSinks(_ node: Node, _ r: inout _Reader) -> SinksSpec {
        var s = SinksSpec()
        guard let m = r.mapping(node, "sinks", keys: ["window_stats", "anomalies", "grades", "grades_by_region", "alerts", "heatmap", "dlq"])
        else {
            return s
        }
        if let v = m["window_stats"], let t = r.nonEmptyString(v, "sinks.window_stats") { s.windowStats = t }
        if let v = m["anomalies"], let t = r.nonEmptyString(v, "sinks.anomalies") { s.anomalies = t }
        if let v = m["grades"], let t = r.nonEmptyString(v, "sinks.grades") { s.grades = t }
        if let v = m["grades_by_region"], let t = r.nonEmptyString(v, "sinks.grades_by_region") { s.gradesByRegion = t }
        if let v = m["alerts"], let t = r.nonEmptyString(v, "sinks.alerts") { s.alerts = t }
        if let v = m["heatmap"], let t = r.nonEmptyString(v, "sinks.heatmap") { s.heatmap = t }
        if let v = m["dlq"], let t = r.nonEmptyString(v, "sinks.dlq") { s.deadLetters = t }
        return s
    }

    static func readCheckpoint(_ node: Node, _ r: inout _Reader) -> CheckpointSpec {
        var c = CheckpointSpec()
        guard let m = r.mapping(node, "checkpoint", keys: ["store", "interval", "path"]) else { return c }
        if let v = m["store"], let s = r.choice(v, "checkpoint.store", CheckpointSpec.Store.allCases.map(\.rawValue)) {
            c.store = CheckpointSpec.Store(rawValue: s)!
        }
        if let v = m["interval"], let d = r.duration(v, "checkpoint.interval", allowZero: false) { c.interval = d }
        if let v = m["path"], let p = r.nonEmptyString(v, "checkpoint.path") { c.path = p }
        return c
    }
}
