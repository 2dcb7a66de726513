/// Consumer settings. Every field maps to a librdkafka key; anything else passes through
/// ``additionalConfig`` unchanged (TLS, SASL, tuning), so the same code runs against a real cluster.
public struct KafkaConsumerConfig: Sendable {
    /// `bootstrap.servers`: `host:port[,host:port…]`.
    public var bootstrapServers: String
    /// `group.id`: the consumer group (one per pipeline).
    public var groupID: String
    /// `session.timeout.ms` (default 10000). Use ≥ 6000 with the embedded cluster.
    public var sessionTimeoutMs: Int = 10_000
    /// `heartbeat.interval.ms`; default a sixth of the session timeout, between 500 and 3000 ms, so a member
    /// learns of a rebalance (e.g. after another member died) within about a second at the embedded broker's
    /// 6000 ms session timeout.
    public var heartbeatIntervalMs: Int? = nil
    /// `auto.offset.reset` for partitions without a committed offset: `earliest` (default) or `latest`.
    public var autoOffsetReset: String = "earliest"
    /// `partition.assignment.strategy`: `range,roundrobin` (default, eager) or `cooperative-sticky`.
    public var assignmentStrategy: String = "range,roundrobin"
    /// `isolation.level`: `read_committed` (default) or `read_uncommitted`.
    public var isolationLevel: String = "read_committed"
    /// `enable.auto.commit` (default false: offsets are committed explicitly).
    public var enableAutoCommit = false
    /// `fetch.wait.max.ms` (default 10; librdkafka's is 500): how long a broker may hold a fetch that has
    /// nothing to return. A broker that answers as soon as data arrives (Kafka with `fetch.min.bytes` 1) makes
    /// it matter only when idle, at the cost of up to 100 empty fetches a second per broker; one that holds
    /// fetches for the full wait (the embedded mock cluster) adds it to every record's latency: W3 measured
    /// p50 270 ms at 500 against 23 ms at 10 (`Benchmarks/RESULTS.md`).
    public var fetchWaitMaxMs = 10
    /// Any other librdkafka setting (`security.protocol`, `sasl.mechanisms`, `ssl.ca.location`, …).
    public var additionalConfig: [String: String] = [:]

    public init(bootstrapServers: String, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    var settings: [(String, String)] {
        var s: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers), ("group.id", groupID),
            ("session.timeout.ms", String(sessionTimeoutMs)),
            ("heartbeat.interval.ms", String(heartbeatIntervalMs ?? min(3_000, max(500, sessionTimeoutMs / 6)))),
            ("auto.offset.reset", autoOffsetReset),
            ("partition.assignment.strategy", assignmentStrategy), ("isolation.level", isolationLevel),
            ("enable.auto.commit", enableAutoCommit ? "true" : "false"), ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"), ("fetch.wait.max.ms", String(fetchWaitMaxMs)),
        ]
        s += additionalConfig.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return s
    }
}

/// Producer settings; see ``KafkaConsumerConfig`` for the pass-through rule.
public struct KafkaProducerConfig: Sendable {
    public enum Compression: String, Sendable, CaseIterable {
        case none, lz4, zstd, gzip, snappy
    }

    /// `bootstrap.servers`.
    public var bootstrapServers: String
    /// `enable.idempotence` (default true: no duplicates or reordering from retries).
    public var idempotent = true
    /// `compression.codec` (default lz4).
    public var compression: Compression = .lz4
    /// `linger.ms` (default 5).
    public var lingerMs = 5
    /// `queue.buffering.max.messages`: the bound on messages in flight; `produce` applies back-pressure
    /// (serves delivery reports until there is room) when it is reached. Default 100,000.
    public var maxInFlightMessages = 100_000
    /// `transactional.id`: set it to use the transactional API (implies idempotence).
    public var transactionalID: String? = nil
    /// `message.max.bytes` (default librdkafka's 1,000,000).
    public var messageMaxBytes: Int? = nil
    /// Any other librdkafka setting.
    public var additionalConfig: [String: String] = [:]

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    var settings: [(String, String)] {
        var s: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers), ("enable.idempotence", idempotent ? "true" : "false"),
            ("compression.codec", compression.rawValue), ("linger.ms", String(lingerMs)),
            ("queue.buffering.max.messages", String(maxInFlightMessages)),
        ]
        if let transactionalID { s.append(("transactional.id", transactionalID)) }
        if let messageMaxBytes { s.append(("message.max.bytes", String(messageMaxBytes))) }
        s += additionalConfig.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return s
    }
}
