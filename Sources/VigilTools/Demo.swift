import Foundation
import VigilRuntime
import ServiceLifecycle
public import Logging
import Synchronization
import VigilCore
import VigilKafka
public import VigilPipeline
import VigilSimulator
import VigilServe

/// The one-process demonstration: the embedded Kafka cluster, the plant simulator producing a pipeline's
/// readings at `speed` × real time, the pipeline itself as a consumer-group member, and a downstream reader of
/// the window rows that reports progress and the windows that crossed alarm levels.
public enum Demo: Sendable {
    public struct Options: Sendable {
        public var duration: Int64 = 60_000
        public var enterprises = 10
        /// Event time simulated per second of wall time.
        public var speed: Int64 = 60
        public var seed: UInt64 = 42
        /// ANSI colours for alarm levels (off when output is not a terminal).
        public var colour = true
        /// Where the dashboard, the query API and `/metrics` are served (port 0 picks a free one).
        public var httpAddress = "127.0.0.1"
        public var httpPort = 9464
        public init() {}
    }

    public struct Summary: Sendable {
        public var readingsProduced = 0
        public var readingsProcessed: Int64 = 0
        public var windowRows = 0
        public var deadLetters: Int64 = 0
        public var alarmWindows = [String: Int]()  // "AL1" / "AL2" → count
        /// Alert records read from the alerts topic, by "event level" (e.g. "raised AL2", "fault FAULT").
        public var alerts = [String: Int]()
        /// The latest grade of each enterprise, read from the grades topic.
        public var grades = [String: String]()
        public var incidents = 0
        public var wallSeconds = 0.0
    }

    /// Runs the demo (blocking). `line` receives the terminal output; `stop` ends it early (Ctrl-C).
    public static func run(spec inputSpec: PipelineSpec, options: Options, stop: StopSignal, logger: Logger, line: @escaping (String) -> Void)
        throws -> Summary
    {
        let cluster = try EmbeddedKafkaCluster()
        let summary = try run(cluster: cluster, spec: inputSpec, options: options, stop: stop, logger: logger, line: line)
        withExtendedLifetime(cluster) {}
        return summary
    }

    static func run(
        cluster: EmbeddedKafkaCluster, spec inputSpec: PipelineSpec, options: Options, stop: StopSignal, logger: Logger,
        line: @escaping (String) -> Void
    ) throws -> Summary {
        var spec = inputSpec
        spec.brokers = cluster.bootstrapServers
        spec.metrics.port = 0
        let partitions: Int32 = 4
        let optionalTopics: [String?] = [
            spec.sources.readings?.topics.first, spec.sources.enterprises, spec.sources.permits, spec.sources.hazards,
            spec.alerts.acknowledgements, spec.sources.setpoints, spec.sources.commitments, spec.sources.offlineNotices, spec.sinks.windowStats,
            spec.sinks.deadLetters, spec.sinks.alerts, spec.sinks.grades,
        ]
        let topics = optionalTopics.compactMap { $0 } + spec.alerts.routes.map(\.topic)
        for t in topics { try cluster.createTopic(t, partitions: partitions) }
        let clock = ContinuousClock()
        let began = clock.now
        let wallEnd = currentTimeMillis() + options.duration
        line("Vigil demo — pipeline '\(spec.name)' on an embedded Kafka cluster at \(cluster.bootstrapServers)")
        line(
            "simulating \(options.enterprises) enterprises × \(spec.sensorTypes.count) sensor types at \(options.speed)× real time, for \(options.duration / 1000) s"
        )

        // The simulator, producing `speed` seconds of event time per second, ending at the demo's end.
        // A demo that runs until Ctrl-C starts a day back instead of its (unbounded) span back.
        let eventSpan = options.duration * options.speed
        let eventStart = max(wallEnd - eventSpan, currentTimeMillis() - 86_400_000)
        let simulator = PlantSimulator(
            types: spec.sensorTypes, enterprises: options.enterprises, start: eventStart, end: eventStart + eventSpan,
            period: 10_000, seed: options.seed, incidentsPerSensorHour: 0.3, instrumentFaultsPerSensorHour: 0.05
        )

        // The tables first: profiles, commitments and point setpoints (the pipeline reads them in full at start).
        if spec.sources.enterprises != nil || spec.sources.setpoints != nil || spec.sources.commitments != nil {
            var ppc = KafkaProducerConfig(bootstrapServers: cluster.bootstrapServers)
            ppc.additionalConfig = ["log_level": "3"]
            let tableProducer = try KafkaProducer(config: ppc)
            let names = (1...max(1, options.enterprises)).map { "E" + String(repeating: "0", count: max(0, 4 - String($0).count)) + String($0) }
            if let profileTopic = spec.sources.enterprises {
                for (e, json) in SimulationRun.profiles(enterprises: names, seed: options.seed) {
                    try tableProducer.produce(topic: profileTopic, key: Array(e.utf8), value: Array(json.utf8))
                }
            }
            if let commitmentTopic = spec.sources.commitments {
                for (e, json) in SimulationRun.commitments(
                    enterprises: names, from: simulator.start, to: simulator.end, utcOffset: spec.utcOffset, seed: options.seed)
                {
                    try tableProducer.produce(topic: commitmentTopic, key: Array(e.utf8), value: Array(json.utf8))
                }
            }
            if let setpointTopic = spec.sources.setpoints {
                for (sensor, json) in simulator.setpointRecords() {
                    try tableProducer.produce(topic: setpointTopic, key: Array(sensor.utf8), value: Array(json.utf8))
                }
            }
            try tableProducer.flush()
        }

        // The pipeline, as a consumer-group member on its own thread.
        // With the live state read back from the grades and alerts topics and one HTTP server for the
        // dashboard, the API and /metrics (started first, so it stops last).
        var runOptions = RunOptions()
        runOptions.sessionTimeoutMs = 6_000
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-demo-\(getpid())").path
        runOptions.checkpointPath = stateDirectory
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        let services = PipelineRunner(spec: spec, options: runOptions, logger: logger, registry: processMetrics).services()
        let metrics = services.runtimeMetrics
        let live = LiveStore()
        var feedConfig = LiveStateFeed.Config(brokers: cluster.bootstrapServers, gradesTopic: spec.sinks.grades, alertsTopic: spec.sinks.alerts)
        feedConfig.additional = spec.kafka
        let feed = LiveStateFeed(config: feedConfig, store: live, logger: logger)
        let http = HTTPService(
            address: options.httpAddress, port: options.httpPort,
            site: .init(registry: processMetrics, probes: .all([services.probes, feed.probes]), live: live), logger: logger)
        let group = serviceGroup([http, feed, services.consumer], logger: logger)
        let runnerError = Mutex<(any Error)?>(nil)
        let runnerDone = DispatchSemaphore(value: 0)
        Task {
            do { try await group.run() } catch { runnerError.withLock { $0 = error } }
            runnerDone.signal()
        }
        guard let port = http.bound.waitBlocking(seconds: 30) else {
            runnerDone.wait()
            throw runnerError.withLock { $0 } ?? DemoError(description: "the HTTP server did not start on \(options.httpAddress):\(options.httpPort)")
        }
        line("dashboard: http://\(options.httpAddress):\(port)/   (API: /api/v1/enterprises, /api/v1/alerts, /api/v1/heatmap; /metrics)")

        var pc = KafkaProducerConfig(bootstrapServers: cluster.bootstrapServers)
        pc.additionalConfig = ["log_level": "3"]
        let producer = try KafkaProducer(config: pc)
        let readingsTopic = spec.sources.readings!.topics[0]

        // A downstream reader of the window rows.
        var cc = KafkaConsumerConfig(bootstrapServers: cluster.bootstrapServers, groupID: "vigil.demo.viewer")
        cc.additionalConfig = ["log_level": "3"]
        let viewer = try KafkaConsumer(config: cc)
        try viewer.assign(
            (0..<partitions).flatMap { p in
                [
                    KafkaTopicPartition(topic: spec.sinks.windowStats, partition: p, offset: 0),
                    KafkaTopicPartition(topic: spec.sinks.alerts, partition: p, offset: 0),
                    KafkaTopicPartition(topic: spec.sinks.grades, partition: p, offset: 0),
                ]
            }
        )
        let alertsTopic = spec.sinks.alerts
        let gradesTopic = spec.sinks.grades
        // A simulated operator acknowledges every other raised alert two minutes (event time) after it was raised.
        let acknowledgementsTopic = spec.alerts.acknowledgements
        // Acknowledgements decided while reading the alerts, produced after each poll.
        var acknowledgements: [(key: [UInt8], value: [UInt8])] = []
        func acknowledge(_ text: String) {
            guard acknowledgementsTopic != nil, let id = field(text, "alert_id"), let ts = field(text, "ts").flatMap({ Int64($0) }) else { return }
            var coin = SplitMix64(seed: id.utf8.reduce(options.seed) { $0 &* 31 &+ UInt64($1) })
            guard coin.next() % 2 == 0 else { return }
            let json = "{\"alert_id\":\"\(id)\",\"ts\":\(ts + 120_000),\"by\":\"demo operator\"}"
            acknowledgements.append((Array(id.utf8), Array(json.utf8)))
        }
        var latestAlerts: [String] = []
        let types = spec.sensorTypes

        var summary = Summary(incidents: simulator.incidents.count)
        var simulatedUntil = simulator.start
        var lastReport = clock.now
        var rowsAtLastReport = 0
        var produced = 0
        var producedAtLastReport = 0
        var latest: [String] = []
        while !stop.isRequested {
            // Produce the event time that is due.
            let elapsed = clock.now - began
            let wallMs = Int64(elapsed.components.seconds) * 1_000 + Int64(elapsed.components.attoseconds / 1_000_000_000_000_000)
            let target = min(simulator.end, simulator.start + wallMs * options.speed)
            if target > simulatedUntil {
                try simulator.readings(from: simulatedUntil, to: target) { (point, ts, value) throws(KafkaError) in
                    let json = "{\"enterprise\":\"\(point.enterprise)\",\"sensor\":\"\(point.sensor)\",\"ts\":\(ts),\"value\":\(value)}"
                    try producer.produce(topic: readingsTopic, key: Array(point.enterprise.utf8), value: Array(json.utf8))
                    produced += 1
                }
                simulatedUntil = target
                producer.poll()
            }
            // Read what the pipeline produced.
            try viewer.poll(maxMessages: 5_000, timeoutMs: 100) { record in
                guard let text = String(validating: record.payload, as: UTF8.self) else { return }
                let topicName = record.topicName
                if topicName == gradesTopic {
                    if let e = field(text, "enterprise"), let level = field(text, "level") { summary.grades[e] = level }
                    return
                }
                if topicName == alertsTopic {
                    let event = field(text, "event") ?? "?"
                    let level = field(text, "level") ?? "?"
                    summary.alerts["\(event) \(level)", default: 0] += 1
                    if event == "raised" { acknowledge(text) }
                    guard event != "cleared" else { return }
                    let tag = options.colour ? (level == "AL2" ? "\u{1B}[31;1m\(level)\u{1B}[0m" : "\u{1B}[33;1m\(level)\u{1B}[0m") : level
                    let ts = field(text, "ts").flatMap { Int64($0) } ?? 0
                    let detail =
                        if let value = field(text, "value").flatMap(Double.init) {
                            "value \(String(format: "%.2f", value)), limit \(field(text, "limit") ?? "-")"
                        } else if event == "acknowledged" {
                            "by \(field(text, "acknowledged_by") ?? "?")"
                        } else {
                            "severity now \(field(text, "severity") ?? "?")"
                        }
                    latestAlerts.append(
                        "\(tag) \(event) \(field(text, "sensor") ?? "") (\(field(text, "rule") ?? "")) at \(hhmm(ts)) UTC: \(detail)  id \(field(text, "alert_id") ?? "")"
                    )
                    if latestAlerts.count > 3 { latestAlerts.removeFirst() }
                    return
                }
                summary.windowRows += 1
                guard let sensor = field(text, "sensor"), let maxText = field(text, "max") ?? field(text, "mean"),
                    let value = Double(maxText), let type = types.first(where: { t in t.match.contains { sensor.contains($0) } }),
                    let al1 = type.alarm1
                else { return }
                let high = type.direction == .high
                let level: String?
                if let al2 = type.alarm2, high ? value >= al2 : value <= al2 {
                    level = "AL2"
                } else if high ? value >= al1 : value <= al1 {
                    level = "AL1"
                } else {
                    level = nil
                }
                guard let level else { return }
                summary.alarmWindows[level, default: 0] += 1
                let start = field(text, "window_start").flatMap { Int64($0) } ?? 0
                let tag = options.colour ? (level == "AL2" ? "\u{1B}[31;1m\(level)\u{1B}[0m" : "\u{1B}[33;1m\(level)\u{1B}[0m") : level
                let window = field(text, "window").map { "\($0) window" } ?? "window"
                latest.append(
                    "\(tag) \(sensor) (\(type.name)) \(window) from \(hhmm(start)) UTC: \(field(text, "max") != nil ? "max" : "mean") \(String(format: "%.2f", value)) \(type.unit ?? "")"
                )
                if latest.count > 3 { latest.removeFirst() }
            }
            if let acknowledgementsTopic {
                for a in acknowledgements { try producer.produce(topic: acknowledgementsTopic, key: a.key, value: a.value) }
            }
            acknowledgements.removeAll()
            if clock.now - lastReport >= .seconds(2) {
                let secs = (clock.now - lastReport).inSeconds
                let snapshot = metrics.snapshot
                line(
                    String(
                        format:
                            "[%3.0fs] produced %7d (%5.0f/s)  processed %7lld  window rows %6d (%4.0f/s)  dlq %lld  alerts raised AL1 %d AL2 %d, acknowledged %d, overdue %d",
                        Double(elapsed.components.seconds), produced, Double(produced - producedAtLastReport) / secs,
                        snapshot.readings, summary.windowRows, Double(summary.windowRows - rowsAtLastReport) / secs,
                        snapshot.deadLetters, summary.alerts["raised AL1"] ?? 0, summary.alerts["raised AL2"] ?? 0,
                        summary.alerts.filter { $0.key.hasPrefix("acknowledged") }.values.reduce(0, +),
                        summary.alerts.filter { $0.key.hasPrefix("overdue") }.values.reduce(0, +)
                    )
                )
                let distribution = ["red", "orange", "yellow", "blue"].map { level in
                    let n = summary.grades.values.filter { $0 == level }.count
                    guard options.colour else { return "\(level) \(n)" }
                    let code = ["red": "31;1", "orange": "38;5;208", "yellow": "33", "blue": "34"][level]!
                    return "\u{1B}[\(code)m\(level)\u{1B}[0m \(n)"
                }.joined(separator: "  ")
                line("        grades: " + distribution)
                for l in latest { line("        window: " + l) }
                for l in latestAlerts { line("        alert:  " + l) }
                latest.removeAll()
                latestAlerts.removeAll()
                lastReport = clock.now
                rowsAtLastReport = summary.windowRows
                producedAtLastReport = produced
            }
            if currentTimeMillis() >= wallEnd && simulatedUntil >= simulator.end { break }
            if let error = runnerError.withLock({ $0 }) { throw error }
        }
        try producer.flush()
        // Let the pipeline catch up briefly, then stop it gracefully.
        let drainUntil = clock.now + .seconds(3)
        while clock.now < drainUntil && metrics.snapshot.readings < Int64(produced) {
            try viewer.poll(maxMessages: 5_000, timeoutMs: 100) { record in
                let topicName = record.topicName
                if topicName == gradesTopic {
                    guard let text = String(validating: record.payload, as: UTF8.self) else { return }
                    if let e = field(text, "enterprise"), let level = field(text, "level") { summary.grades[e] = level }
                } else if topicName == alertsTopic {
                    guard let text = String(validating: record.payload, as: UTF8.self) else { return }
                    summary.alerts["\(field(text, "event") ?? "?") \(field(text, "level") ?? "?")", default: 0] += 1
                } else {
                    summary.windowRows += 1
                }
            }
        }
        Task { await group.triggerGracefulShutdown() }
        runnerDone.wait()
        if let error = runnerError.withLock({ $0 }) { throw error }
        try viewer.close()
        let snapshot = metrics.snapshot
        summary.readingsProduced = produced
        summary.readingsProcessed = snapshot.readings
        summary.deadLetters = snapshot.deadLetters
        let d = clock.now - began
        summary.wallSeconds = d.inSeconds
        return summary
    }

    struct DemoError: Error, CustomStringConvertible {
        var description: String
    }

    static func field(_ json: String, _ name: String) -> String? {
        guard let r = json.range(of: "\"\(name)\":") else { return nil }
        var rest = json[r.upperBound...]
        if rest.first == "\"" {
            rest = rest.dropFirst()
            return String(rest.prefix { $0 != "\"" })
        }
        return String(rest.prefix { $0 != "," && $0 != "}" })
    }

    static func hhmm(_ ms: Int64) -> String {
        let minutes = (ms / 60_000) % 1_440
        return String(format: "%02lld:%02lld", minutes / 60, minutes % 60)
    }
}
