/// A message header for ``KafkaProducer/produce(topic:partition:key:value:headers:timestamp:)``.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// A Kafka producer: idempotent by default, compressed, with checked delivery reports and a bounded
/// number of messages in flight.
///
/// ```swift
/// let producer = try KafkaProducer(config: KafkaProducerConfig(bootstrapServers: brokers))
/// try producer.produce(topic: "risk.window-stats", key: key, value: json)
/// try producer.flush(timeoutMs: 10_000)   // throws if any delivery failed
/// ```
///
/// Calls block (briefly in `produce` under back-pressure, up to the timeout in `flush` and the transactional
/// calls): use it from a dedicated thread, never from Swift's cooperative pool. Delivery reports are served by
/// `poll`, `produce` (under back-pressure) and `flush`; ``deinit`` flushes for up to 5 s.
public final class KafkaProducer {
    let client: RDKafkaProducerClient
    public let config: KafkaProducerConfig

    /// Creates a producer.
    ///
    /// - Throws: A ``KafkaError`` with code `.configuration` naming the rejected key, or `.clientCreation`.
    public init(config: KafkaProducerConfig) throws(KafkaError) {
        self.config = config
        self.client = try RDKafkaProducerClient(config: config)
    }

    /// Messages acknowledged by the brokers so far.
    public var deliveredCount: Int64 { client.deliveredCount }
    /// Messages whose delivery failed so far.
    public var failedCount: Int64 { client.failedCount }
    /// Messages enqueued but not yet acknowledged.
    public var inFlight: Int { client.inFlight }
    /// Messages enqueued so far, counting from 0: the sequence number the next one gets.
    ///
    /// With ``reportedThrough`` this is a barrier that does not block: note `enqueuedCount` now, and once
    /// `reportedThrough` reaches it (and ``deliveryError`` is nil) every message enqueued before is acknowledged.
    public var enqueuedCount: Int64 { client.enqueuedCount }
    /// Every message numbered below this has had its delivery report, success or failure. Reports are served
    /// by ``poll(timeoutMs:)``, ``flush(timeoutMs:)`` and `produce` under back-pressure.
    public var reportedThrough: Int64 { client.reportedThrough }
    /// The first failed delivery, if any (`produce` and `flush` throw it too).
    public var deliveryError: KafkaError? { client.deliveryError }

    /// Enqueues one message (librdkafka copies key, value and headers).
    ///
    /// When the in-flight bound is reached, serves delivery reports until there is room (back-pressure).
    ///
    /// - Parameters:
    ///   - partition: A partition, or `nil` to partition by key (librdkafka's consistent-random partitioner).
    ///   - timestamp: Message timestamp in ms, or `nil` for the current time.
    /// - Throws: A ``KafkaError`` (`.produce`) if the message cannot be enqueued (unknown topic, too large, fatal
    ///   producer state), or (`.delivery`) if an earlier delivery failed.
    public func produce(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) throws(KafkaError) {
        try client.produce(topic: topic, partition: partition, key: key, value: value, headers: headers, timestamp: timestamp)
    }

    /// Enqueues one message whose key and value are any contiguous bytes (arrays, strings, encoder buffers).
    public func produce(
        topic: String, partition: Int32? = nil, key: (some KafkaContiguousBytes)?, value: some KafkaContiguousBytes,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) throws(KafkaError) {
        try value.withKafkaBytes { (v) throws(KafkaError) in
            guard let key else {
                return try produce(topic: topic, partition: partition, key: nil, value: v, headers: headers, timestamp: timestamp)
            }
            try key.withKafkaBytes { (k) throws(KafkaError) in
                try produce(topic: topic, partition: partition, key: k, value: v, headers: headers, timestamp: timestamp)
            }
        }
    }

    /// Byte arrays (a `nil` key needs no type).
    public func produce(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) throws(KafkaError) {
        try produce(topic: topic, partition: partition, key: key, value: value, headers: headers, timestamp: nil)
    }

    /// Serves queued delivery reports (waits up to `timeoutMs`). Returns the number served.
    @discardableResult
    public func poll(timeoutMs: Int32 = 0) -> Int { client.poll(timeoutMs: timeoutMs) }

    /// Waits until every enqueued message is acknowledged.
    ///
    /// - Throws: `.timeout` if messages remain after `timeoutMs`; `.delivery` if any delivery failed.
    public func flush(timeoutMs: Int32 = 30_000) throws(KafkaError) { try client.flush(timeoutMs: timeoutMs) }

    /// Looks `topic` up, which creates it where the cluster auto-creates topics (as producing to it would, and
    /// as librdkafka's mock cluster does); returns its partition count, nil if it does not exist.
    public func lookUp(topic: String, timeoutMs: Int32 = 5_000) throws(KafkaError) -> Int32? {
        try client.lookUp(topic: topic, timeoutMs: timeoutMs)
    }

    // MARK: - Transactions

    /// `init_transactions`: registers the `transactional.id`, fencing older producers with the same id.
    public func initTransactions(timeoutMs: Int32 = 30_000) throws(KafkaError) { try client.initTransactions(timeoutMs: timeoutMs) }

    /// `begin_transaction`.
    public func beginTransaction() throws(KafkaError) { try client.beginTransaction() }

    /// `send_offsets_to_transaction`: commits `offsets` (next offsets to read) for `consumer`'s group as part
    /// of the current transaction.
    public func sendOffsetsToTransaction(_ offsets: [KafkaTopicPartition], consumer: KafkaConsumer, timeoutMs: Int32 = 30_000)
        throws(KafkaError)
    {
        try client.sendOffsetsToTransaction(offsets, consumer: consumer.client, timeoutMs: timeoutMs)
    }

    /// `commit_transaction` (flushes first).
    public func commitTransaction(timeoutMs: Int32 = 30_000) throws(KafkaError) { try client.commitTransaction(timeoutMs: timeoutMs) }

    /// `abort_transaction`.
    public func abortTransaction(timeoutMs: Int32 = 30_000) throws(KafkaError) { try client.abortTransaction(timeoutMs: timeoutMs) }
}

@available(*, unavailable, message: "Use a producer from one thread")
extension KafkaProducer: Sendable {}
