import Foundation
import Histogram
import Logging
import Synchronization
import VigilCore
import VigilKafka
import VigilPipeline
import VigilRuntime
import VigilSimulator

/// Workload W3: reading-to-alert latency through the production job at a fixed input rate.
///
/// Per rate, on a fresh embedded cluster: the job (``PipelineRunner``'s consumer service with the pipeline
/// ``pipelineYAML``, default settings everywhere else) joins its group; a generator thread produces readings of
/// the plant simulator's key space (``PlantSimulator`` points of the pipeline's sensor types, `enterprises`
/// enterprises, keyed by enterprise, event time = the wall clock) at the rate, paced every millisecond; 100
/// times a second one flammable-gas reading is replaced by a crossing of AL2 (60 %LEL), and the next reading
/// of that point clears it. A reader thread — a separate consumer of the alert and window topics — takes the
/// time each `raised` alert arrives; the latency is from the `produce` call of the crossing reading to that
/// moment (one process, one monotonic clock), recorded in an HdrHistogram (µs, 3 significant digits). Only
/// crossings produced after the warm-up count.
///
/// The window path: a window row is emitted when the partition's watermark (the highest event time less the
/// out-of-orderness, 5 s) passes the window's end, so a row cannot appear before `end + 5 s`; its histogram
/// holds the time from `end + out_of_orderness` to the row's arrival, the part the engine adds.
public enum LatencyBenchmark: Sendable {
    /// The pipeline: the simulator's gas, toxic, oxygen and tank-temperature types without on-delays (an
    /// on-delay adds exactly its length of event time to the alert), 10 s windows, anomaly scores and grades
    /// on, directory checkpoints every 5 s (the defaults).
    public static let pipelineYAML = """
        version: 1
        name: w3-latency
        sources:
          readings: { topic: w3.readings }
        windows:
          - { name: ten-seconds, kind: tumbling, size: 10s }
        sensor_types:
          flammable_gas: { match: ["-GT-"], unit: "%LEL", al1: 25, al2: 50, deadband: 2, range: [0, 100], period: 1s }
          h2s: { match: ["-AT-H2S"], unit: mg/m3, al1: 10, al2: 20, deadband: 1, range: [0, 100], period: 1s }
          oxygen: { match: ["-O2-"], unit: "%VOL", l: 19.5, h: 23.5, range: [0, 30], period: 1s }
          tank_temperature: { match: ["-TT-"], unit: degC, range: [-50, 300], period: 1s }
        sinks: { window_stats: w3.window-stats, alerts: w3.alerts, anomalies: w3.anomalies, grades: w3.grades, dlq: w3.dlq }
        metrics: { port: 0 }
        """

    /// Percentiles of one latency histogram, in milliseconds.
    public struct Percentiles: Sendable {
        public var count: UInt64
        public var p50: Double
        public var p99: Double
        public var p999: Double
        public var max: Double

        init(_ h: Histogram<UInt64>) {
            count = h.totalCount
            p50 = Double(h.valueAtPercentile(50)) / 1_000
            p99 = Double(h.valueAtPercentile(99)) / 1_000
            p999 = Double(h.valueAtPercentile(99.9)) / 1_000
            max = Double(h.max) / 1_000
        }
    }

    /// One rate's outcome.
    public struct Point: Sendable {
        /// Readings per second asked for, and produced during the measured seconds.
        public var rate: Int
        public var achievedRate: Double
        /// Crossings injected after the warm-up, and their `raised` alerts read back.
        public var crossings: Int
        /// Crossing reading produced → its alert read back.
        public var alerts: Percentiles
        /// Window end + out-of-orderness → the window row read back.
        public var windows: Percentiles
        /// The out-of-orderness the windows wait for (ms).
        public var outOfOrderness: Int64
        /// The job's last checkpoint round, the slowest worker's (s): a worker stalls that long every interval.
        public var checkpointSeconds: Double
        /// The generator kept the rate (≥ 97 %), every crossing's alert arrived, and p99 stayed under a second.
        public var sustained: Bool {
            achievedRate >= 0.97 * Double(rate) && alerts.count >= UInt64(Double(crossings) * 0.99) && alerts.count > 0 && alerts.p99 < 1_000
        }
    }

    public struct Options: Sendable {
        public var rates: [Int] = [10_000, 50_000, 100_000, 200_000]
        /// After the fixed rates: raise the rate by half until it is not sustained; the last sustained one is the maximum.
        public var findMaximum = true
        public var seconds = 15.0
        public var warmUp = 3.0
        public var enterprises = 2_000
        /// Input partitions (the mock broker keeps about 5 MiB per partition; the job reads at the tail).
        public var partitions: Int32 = 16
        /// Workers of the job (nil: the default, one per core).
        public var workers: Int? = nil
        /// Crossings injected per second (at most one per gas point every 20 s).
        public var crossingsPerSecond = 100
        /// librdkafka settings for the job's clients on top of the pipeline's (`kafka:` in the file).
        public var kafka: [String: String] = [:]
        /// The job's checkpoint interval (ms); nil: the pipeline default, 5 s.
        public var checkpointInterval: Int64? = nil
        public init() {}
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> (
        points: [Point], maximum: Int?
    ) {
        var points: [Point] = []
        for rate in options.rates {
            let p = try await measure(rate: rate, options: options)
            progress(describe(p))
            points.append(p)
        }
        guard options.findMaximum else { return (points, nil) }
        var maximum = points.filter(\.sustained).map(\.rate).max()
        var rate = Int(Double(maximum ?? options.rates.last ?? 10_000) * 1.5)
        while maximum != nil {
            let p = try await measure(rate: rate, options: options)
            progress(describe(p) + " (searching the maximum)")
            points.append(p)
            guard p.sustained else { break }
            maximum = rate
            rate = Int(Double(rate) * 1.5)
        }
        return (points, maximum)
    }

    static func describe(_ p: Point) -> String {
        "w3: \(p.rate)/s (produced \(Int(p.achievedRate))/s): alert p50 \(p.alerts.p50) ms, p99 \(p.alerts.p99) ms, max \(p.alerts.max) ms "
            + "(\(p.alerts.count)/\(p.crossings) crossings); window close p99 \(p.windows.p99) ms beyond the \(p.outOfOrderness) ms bound"
            + "; last checkpoint \(Int(p.checkpointSeconds * 1_000)) ms" + (p.sustained ? "" : " — not sustained")
    }

    /// One rate on a fresh cluster.
    static func measure(rate: Int, options: Options) async throws -> Point {
        let cluster = try EmbeddedKafkaCluster()
        defer { withExtendedLifetime(cluster) {} }
        let state = NSTemporaryDirectory() + "vigil-w3-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let spec = try {
            var spec = try PipelineLoader.parse(yaml: pipelineYAML, file: "w3-latency.yaml")
            spec.checkpoint.path = state
            spec.kafka["log_level"] = "3"
            spec.kafka.merge(options.kafka) { $1 }
            if let i = options.checkpointInterval { spec.checkpoint.interval = i }
            return spec
        }()
        try cluster.createTopic("w3.readings", partitions: options.partitions)
        for sink in [spec.sinks.windowStats, spec.sinks.alerts, spec.sinks.anomalies, spec.sinks.grades, spec.sinks.deadLetters] {
            try cluster.createTopic(sink, partitions: 4)
        }
        var run = RunOptions()
        run.brokers = cluster.bootstrapServers
        run.workers = options.workers
        run.sessionTimeoutMs = 6_000
        var logger = Logger(label: "w3")
        logger.logLevel = .warning
        let services = PipelineRunner(spec: spec, options: run, logger: logger).services()
        let job = Task { try await services.consumer.run() }
        // Joined, every partition assigned, every worker holding some (a worker joining later would rebalance
        // the group during the measurement), one step done.
        let metrics = services.runtimeMetrics
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let s = metrics.snapshot
            let workers = metrics.workerSnapshots
            let spread = workers.count > Int(options.partitions) || workers.allSatisfy { $0.assignedPartitions > 0 }
            if s.running && s.lastStepAt != 0 && s.assignedPartitions == Int(options.partitions) && spread { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let crossings = CrossingLog()
        let brokers = cluster.bootstrapServers
        let outOfOrderness = spec.sources.readings?.outOfOrderness ?? 0
        let stop = ShutdownFlag()
        let reader = Thread.detachedResult(name: "w3-reader") { () throws -> (Histogram<UInt64>, Histogram<UInt64>) in
            try read(
                brokers: brokers, topics: [spec.sinks.alerts, spec.sinks.windowStats], crossings: crossings, outOfOrderness: outOfOrderness,
                stop: stop)
        }
        let generator = Thread.detachedResult(name: "w3-generator") { () throws -> Double in
            try generate(brokers: brokers, spec: spec, rate: rate, options: options, crossings: crossings)
        }
        let achieved = try await generator.value
        // The tail: let the last alerts arrive.
        try await Task.sleep(for: .seconds(2))
        stop.set()
        let (alerts, windows) = try await reader.value
        let checkpointSeconds = metrics.snapshot.lastCheckpointSeconds
        job.cancel()
        try await job.value
        return Point(
            rate: rate, achievedRate: achieved, crossings: crossings.counted, alerts: Percentiles(alerts), windows: Percentiles(windows),
            outOfOrderness: outOfOrderness, checkpointSeconds: checkpointSeconds)
    }

    /// Produces readings at `rate` for warm-up + measured seconds; returns the rate achieved while measured.
    static func generate(brokers: String, spec: PipelineSpec, rate: Int, options: Options, crossings: CrossingLog) throws -> Double {
        var pc = KafkaProducerConfig(bootstrapServers: brokers)
        pc.additionalConfig = ["log_level": "3"]
        let producer = try KafkaProducer(config: pc)
        let start = currentTimeMillis()
        let simulator = PlantSimulator(
            types: spec.sensorTypes, enterprises: options.enterprises, start: start, end: start + 1, period: 1_000, seed: 3, incidentsPerSensorHour: 0
        )
        let points = simulator.points
        let gas = points.indices.filter { points[$0].type.name == "flammable_gas" }
        let keys = points.map { Array($0.enterprise.utf8) }
        let prefixes = points.map { Array("{\"enterprise\":\"\($0.enterprise)\",\"sensor\":\"\($0.sensor)\",\"ts\":".utf8) }
        let clock = ContinuousClock()
        let began = clock.now
        let total = options.warmUp + options.seconds
        // At most one crossing per gas point every 20 s (a point that crosses more often is chattering).
        let crossingsPerSecond = max(1, min(options.crossingsPerSecond, gas.count / 20))
        let crossingEvery = Double(rate) / Double(crossingsPerSecond)
        var produced = 0
        var measuredFrom: (ContinuousClock.Instant, Int)? = nil
        var nextCrossing = crossingEvery
        var gasCursor = 0
        var noise: UInt64 = 0x9E37_79B9_7F4A_7C15
        var payload: [UInt8] = []
        payload.reserveCapacity(128)
        while true {
            let elapsed = (clock.now - began).inSeconds
            if elapsed >= total { break }
            if measuredFrom == nil && elapsed >= options.warmUp { measuredFrom = (clock.now, produced) }
            let due = Int(elapsed * Double(rate))
            if produced >= due {
                producer.poll()
                usleep(500)
                continue
            }
            let ts = currentTimeMillis()
            while produced < due {
                let i: Int
                var value: Double
                var crossing = false
                if Double(produced) >= nextCrossing && !gas.isEmpty {
                    i = gas[gasCursor % gas.count]
                    gasCursor += 1
                    nextCrossing += crossingEvery
                    value = 60
                    crossing = true
                } else {
                    i = produced % points.count
                    noise = noise &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    value = points[i].baseline + points[i].noise * (Double(noise >> 11) / Double(1 << 53) - 0.5)
                }
                payload.removeAll(keepingCapacity: true)
                payload += prefixes[i]
                payload += Array("\(ts),\"value\":\(value)}".utf8)
                if crossing && measuredFrom != nil { crossings.produced(sensor: points[i].sensor, ts: ts) }
                try producer.produce(topic: "w3.readings", key: keys[i], value: payload)
                produced += 1
            }
        }
        let measured = measuredFrom.map { (Double(produced - $0.1), (clock.now - $0.0).inSeconds) } ?? (0, 1)
        try producer.flush()
        return measured.0 / measured.1
    }

    /// Reads alerts and window rows until `stop`; returns the alert and the window-close histograms (µs).
    static func read(brokers: String, topics: [String], crossings: CrossingLog, outOfOrderness: Int64, stop: ShutdownFlag) throws -> (
        Histogram<UInt64>, Histogram<UInt64>
    ) {
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "w3-reader")
        cc.additionalConfig = ["log_level": "3"]
        let consumer = try KafkaConsumer(config: cc)
        try consumer.assign(topics.flatMap { t in (0..<4).map { KafkaTopicPartition(topic: t, partition: $0, offset: 0) } })
        var alerts = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var windows = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        let alertTopic = topics[0]
        let windowEnd = Array("\"window_end\":".utf8)
        while !stop.isSet {
            // A record arrives with its poll's batch: parsing the records before it is the reader's time, not the
            // pipeline's (a window close hands over thousands of rows at once).
            var arrived: (UInt64, Int64)? = nil
            try consumer.poll(maxMessages: 10_000, timeoutMs: 5) { r in
                let (monotonic, wall) = arrived ?? (DispatchTime.now().uptimeNanoseconds, currentTimeMillis())
                arrived = (monotonic, wall)
                if r.topicName == alertTopic {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(r.payload)) as? [String: Any],
                        object["event"] as? String == "raised", let sensor = object["sensor"] as? String,
                        let ts = (object["ts"] as? NSNumber)?.int64Value, let produced = crossings.take(sensor: sensor, ts: ts)
                    else { return }
                    _ = alerts.record(monotonic >= produced ? (monotonic - produced) / 1_000 : 0)
                } else if let end = integer(after: windowEnd, in: r.payload) {
                    _ = windows.record(UInt64(max(0, wall - end - outOfOrderness)) * 1_000)
                }
            }
        }
        try consumer.close()
        return (alerts, windows)
    }

    /// The integer right after `key` in `bytes` (a window row's `"window_end":`), without parsing the rest.
    static func integer(after key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count > key.count else { return nil }
        var i = 0
        while i + key.count < bytes.count {
            if bytes[i] == key[0] && (0..<key.count).allSatisfy({ bytes[i + $0] == key[$0] }) {
                var j = i + key.count
                var value: Int64 = 0
                var digits = 0
                while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57 {
                    value = value * 10 + Int64(bytes[j] - 48)
                    j += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }

}

/// The crossings produced and not yet seen as alerts: (sensor, event time) → the monotonic time of `produce`.
final class CrossingLog: Sendable {
    private struct State {
        var pending: [String: UInt64] = [:]
        var counted = 0
    }
    private let state = Mutex(State())

    func produced(sensor: String, ts: Int64) {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock {
            $0.pending["\(sensor)@\(ts)"] = now
            $0.counted += 1
        }
    }

    /// The production time of the crossing, once (a replayed alert is not counted twice).
    func take(sensor: String, ts: Int64) -> UInt64? { state.withLock { $0.pending.removeValue(forKey: "\(sensor)@\(ts)") } }

    var counted: Int { state.withLock { $0.counted } }
}

/// A duration in seconds (the workloads' timings).

extension Thread {
    /// Runs `body` on a new thread; the task's value is its result.
    static func detachedResult<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) -> Task<T, any Error> {
        Task { try await onDedicatedThread(name: name, body) }
    }
}
