/// A partition assignment change, surfaced from librdkafka's rebalance callback.
public enum KafkaRebalanceEvent: Sendable, Hashable {
    /// These partitions are now ours (with the offsets they start from, if an offset provider set them).
    case assigned([KafkaTopicPartition])
    /// These partitions were taken away (finish, checkpoint and forget their state).
    case revoked([KafkaTopicPartition])
}

/// A Kafka consumer-group member with batch polling, explicit offsets and rebalance events.
///
/// ```swift
/// let consumer = try KafkaConsumer(config: KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.chemical-park"))
/// try consumer.subscribe(["safety.readings"])
/// while running {
///     try consumer.poll(maxMessages: 10_000, timeoutMs: 100) { record in
///         decoder.decode(payload: record.payload, …)          // no copy of the payload
///     }
///     for event in consumer.drainRebalanceEvents() { … }      // assigned / revoked partitions
/// }
/// try consumer.close()
/// ```
///
/// Calls block up to their timeout: run the consumer on a dedicated thread, never on Swift's cooperative pool.
/// The librdkafka handle is owned by an internal client in `RDKafka/`, destroyed with this object.
public final class KafkaConsumer {
    let client: RDKafkaConsumerClient
    public let config: KafkaConsumerConfig

    /// Creates a consumer (it joins the group on ``subscribe(_:)``).
    ///
    /// - Parameter offsetProvider: Called during each assignment for every new partition; a returned offset
    ///   is where consumption starts (the resume position from a checkpoint), `nil` keeps the group's committed offset.
    /// - Throws: A ``KafkaError`` (`.configuration` naming a rejected key, or `.clientCreation`).
    public init(
        config: KafkaConsumerConfig, offsetProvider: (@Sendable (KafkaTopicPartition) -> Int64?)? = nil
    ) throws(KafkaError) {
        self.config = config
        self.client = try RDKafkaConsumerClient(config: config, offsetProvider: offsetProvider)
    }

    /// Subscribes to `topics` (joins the consumer group).
    public func subscribe(_ topics: [String]) throws(KafkaError) { try client.subscribe(topics) }

    /// Assigns partitions directly, without a group (replay, tools, benchmarks).
    public func assign(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try client.assign(partitions) }

    /// Adds partitions to a direct assignment (``assign(_:)``) without moving the ones already assigned: a table
    /// topic that appeared or grew.
    public func assignMore(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try client.assignMore(partitions) }

    /// The topics the cluster knows, with their partition counts (a metadata request, which creates no topic).
    public func partitionCounts(timeoutMs: Int32 = 5_000) throws(KafkaError) -> [String: Int32] {
        try client.partitionCounts(timeoutMs: timeoutMs)
    }

    /// Installs handlers that run synchronously inside librdkafka's rebalance callback, on the thread that
    /// calls ``poll(maxMessages:timeoutMs:_:)`` or ``close()``, before the assignment changes take effect.
    ///
    /// - `onAssign` receives newly assigned partitions and returns start offsets for some of them (the
    ///   resume positions from a checkpoint); partitions without one start from the group's committed offset.
    /// - `onRevoke` receives partitions about to be taken away: the place to checkpoint their state and
    ///   commit, while no other member can own them yet.
    ///
    /// A poll that runs a revocation may still deliver records of the revoked partitions that were fetched
    /// before it; check ``assignment`` and drop them.
    public func setRebalanceHandlers(
        onAssign: (([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])?, onRevoke: (([KafkaTopicPartition]) -> Void)?
    ) {
        client.setRebalanceHandlers(onAssign: onAssign, onRevoke: onRevoke)
    }

    /// Takes the rebalance events that happened during earlier polls, oldest first.
    public func drainRebalanceEvents() -> [KafkaRebalanceEvent] { client.drainRebalanceEvents() }

    /// The partitions currently assigned.
    public var assignment: [KafkaTopicPartition] { client.assignment }

    /// Polls up to `maxMessages` records and calls `body` for each, in partition
    /// order, while librdkafka still owns the payloads. Waits up to `timeoutMs` for the first record only: what
    /// is queued then is returned at once (a batch is never held back to fill up).
    ///
    /// Rebalance callbacks run inside this call; their events are available from ``drainRebalanceEvents()``.
    ///
    /// - Returns: The number of records passed to `body`.
    /// - Throws: A ``KafkaError`` for a consumer error (partition errors such as an unknown topic, or a failed
    ///   assignment). Records before the error in the same poll have been delivered.
    @discardableResult
    public func poll(maxMessages: Int = 10_000, timeoutMs: Int32 = 100, _ body: (KafkaRecordView) -> Void) throws(KafkaError)
        -> Int
    {
        try client.poll(maxMessages: maxMessages, timeoutMs: timeoutMs, body)
    }

    /// Commits offsets (the *next* offsets to read) for the group, synchronously.
    public func commit(_ offsets: [KafkaTopicPartition]) throws(KafkaError) { try client.commit(offsets) }

    /// Stores offsets (the *next* offsets to read) locally; ``commitStored()`` commits them. Use it to mark
    /// progress record by record and commit in bulk.
    public func store(_ offsets: [KafkaTopicPartition]) throws(KafkaError) { try client.store(offsets) }

    /// Commits every stored offset synchronously.
    public func commitStored() throws(KafkaError) { try client.commitStored() }

    /// The group's committed offsets for `partitions` (`offset == nil`: none committed).
    public func committed(_ partitions: [KafkaTopicPartition], timeoutMs: Int32 = 10_000) throws(KafkaError)
        -> [KafkaTopicPartition]
    {
        try client.committed(partitions, timeoutMs: timeoutMs)
    }

    /// The id of the cluster the consumer is connected to, from the brokers' metadata (blocks until it has
    /// arrived, at most `timeoutMs`); nil if none came in time or the brokers report none.
    public func clusterID(timeoutMs: Int32 = 10_000) -> String? { client.clusterID(timeoutMs: timeoutMs) }

    /// Moves the read position of assigned partitions.
    public func seek(_ positions: [KafkaTopicPartition]) throws(KafkaError) { try client.seek(positions) }

    /// Stops fetching from `partitions` (back-pressure); records already fetched are still delivered.
    public func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try client.pause(partitions) }

    /// Resumes fetching from paused `partitions`.
    public func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try client.resume(partitions) }

    /// Consumer lag per assigned partition: high watermark − next position to read (from cached watermarks,
    /// refreshed with each fetch; no broker round trip).
    ///
    /// - Parameter knownPositions: Next offsets to read for partitions where nothing was consumed since the
    ///   assignment (librdkafka has no position for them yet), e.g. the resume offsets of a checkpoint.
    public func lag(knownPositions: [KafkaTopicPartition: Int64] = [:]) -> [KafkaTopicPartition: Int64] {
        client.lag(knownPositions: knownPositions)
    }

    /// Leaves the group cleanly (revocation callbacks run inside this call).
    public func close() throws(KafkaError) { try client.close() }
}

@available(*, unavailable, message: "Use a consumer from one thread")
extension KafkaConsumer: Sendable {}
