import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import VigilCore
import VigilKafka
public import VigilRuntime

/// The live state behind a lock: the feed writes it, the API reads it.
public final class LiveStore: Sendable {
    private let state = Mutex(LiveState())
    private let caughtUp = Atomic<Bool>(false)

    public init() {}

    /// Reads the state (the lock is held while `body` runs; keep it short).
    public func read<T>(_ body: (borrowing LiveState) -> T) -> T { state.withLock { body($0) } }

    public func write(_ body: (inout LiveState) -> Void) { state.withLock { body(&$0) } }

    /// True once every partition of the topics has been read to its end once (`/ready`).
    public var isCaughtUp: Bool { caughtUp.load(ordering: .acquiring) }
    func markCaughtUp() { caughtUp.store(true, ordering: .releasing) }
}

/// Reads a pipeline's grades and alerts topics, every partition from the beginning (no consumer group: each
/// serving process holds the whole group's state), into a ``LiveStore`` until the group shuts down.
///
/// Read committed, so with the kafka checkpoint store an aborted or still-open transaction's records are never
/// shown. Topics that do not exist yet are looked for again every second.
public struct LiveStateFeed: Service, CustomStringConvertible {
    public struct Config: Sendable {
        public var brokers: String
        public var gradesTopic: String
        public var alertsTopic: String
        /// Extra librdkafka settings (the pipeline's `kafka:` section).
        public var additional: [String: String] = [:]
        public init(brokers: String, gradesTopic: String, alertsTopic: String) {
            self.brokers = brokers
            self.gradesTopic = gradesTopic
            self.alertsTopic = alertsTopic
        }
    }

    public let config: Config
    public let store: LiveStore
    let logger: Logger

    public init(config: Config, store: LiveStore, logger: Logger) {
        self.config = config
        self.store = store
        self.logger = logger
    }

    public var description: String { "live-state(\(config.gradesTopic), \(config.alertsTopic))" }

    /// `/healthz` and `/ready` of the feed: alive while it runs, ready once caught up.
    public var probes: HealthProbes {
        let store = self.store
        return HealthProbes(healthy: { true }, ready: { store.isCaughtUp })
    }

    public func run() async throws {
        let stop = ShutdownFlag()
        let (config, store, logger) = (self.config, self.store, self.logger)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await onDedicatedThread(name: "vigil-live-state") {
                try Self.consume(config: config, store: store, logger: logger, until: { stop.isSet })
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
        }
    }

    static func consume(config: Config, store: LiveStore, logger: Logger, until shouldStop: () -> Bool) throws {
        var settings = config.additional
        settings["log_level"] = settings["log_level"] ?? "3"
        settings["isolation.level"] = "read_committed"
        let topics = [config.gradesTopic, config.alertsTopic]
        // Wait for both topics (a pipeline creates neither; its first outputs or an operator do).
        let admin = try KafkaAdmin(bootstrapServers: config.brokers, additionalConfig: settings)
        var partitions: [String: Int32] = [:]
        var lastWarning = currentTimeMillis()
        while !shouldStop() {
            let described = (try? admin.describeTopics(timeoutMs: 5_000)) ?? [:]
            partitions = described.filter { topics.contains($0.key) && $0.value > 0 }
            if partitions.count == topics.count { break }
            if currentTimeMillis() - lastWarning >= 10_000 {
                let missing = topics.filter { partitions[$0] == nil }.joined(separator: ", ")
                logger.warning("live state: waiting for topics", metadata: ["missing": "\(missing)", "brokers": "\(config.brokers)"])
                lastWarning = currentTimeMillis()
            }
            usleep(1_000_000)
        }
        guard !shouldStop() else { return }
        var cc = KafkaConsumerConfig(bootstrapServers: config.brokers, groupID: "vigil.live-state.\(UUID().uuidString)")
        cc.additionalConfig = settings
        let consumer = try KafkaConsumer(config: cc)
        try consumer.assign(topics.flatMap { t in (0..<partitions[t]!).map { KafkaTopicPartition(topic: t, partition: $0, offset: 0) } })
        logger.info("live state: reading", metadata: ["grades": "\(config.gradesTopic)", "alerts": "\(config.alertsTopic)"])
        let expected = partitions.values.reduce(0) { $0 + Int($1) }
        var batch: [(grade: Bool, payload: [UInt8])] = []
        while !shouldStop() {
            batch.removeAll(keepingCapacity: true)
            let n = try consumer.poll(maxMessages: 5_000, timeoutMs: 100) { record in
                batch.append((record.topicName == config.gradesTopic, Array(record.payload)))
            }
            if n > 0 {
                let now = currentTimeMillis()
                store.write { state in
                    for (grade, payload) in batch {
                        if grade { state.applyGrade(payload, at: now) } else { state.applyAlert(payload, at: now) }
                    }
                }
            }
            if !store.isCaughtUp, n == 0 {
                let lag = consumer.lag()
                if lag.count == expected && lag.values.allSatisfy({ $0 == 0 }) {
                    store.markCaughtUp()
                    let (grades, alerts, open) = store.read { ($0.gradesApplied, $0.alertsApplied, $0.openAlertCount) }
                    logger.info(
                        "live state: caught up", metadata: ["grade_records": "\(grades)", "alert_records": "\(alerts)", "open_alerts": "\(open)"])
                }
            }
        }
        try consumer.close()
    }
}
