internal import CRdKafka
import Synchronization

/// State shared with librdkafka's rebalance callback (runs on the thread that polls).
final class RebalanceContext: Sendable {
    struct State {
        var events: [KafkaRebalanceEvent] = []
        var assignment: Set<KafkaTopicPartition> = []
        var error: KafkaError? = nil
    }
    let state = Mutex(State())
    /// Start offsets for newly assigned partitions (e.g. from a checkpoint); `nil` keeps the committed offset.
    let offsetProvider: (@Sendable (KafkaTopicPartition) -> Int64?)?

    /// Handlers installed by the owner of the consumer; they run inside the rebalance callback, which
    /// librdkafka calls on the thread that polls (or closes) the consumer, never concurrently.
    nonisolated(unsafe) var onAssign: (([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])? = nil
    nonisolated(unsafe) var onRevoke: (([KafkaTopicPartition]) -> Void)? = nil

    init(offsetProvider: (@Sendable (KafkaTopicPartition) -> Int64?)?) { self.offsetProvider = offsetProvider }
}

private func rebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let partitions, let opaque else { return }
    // The context is retained by the KafkaConsumer for the lifetime of the rd_kafka_t.
    let context = Unmanaged<RebalanceContext>.fromOpaque(opaque).takeUnretainedValue()
    // NULL "on error" (seen while a consumer closed during a rebalance, under load): treated as eager.
    let rebalanceProtocol: UnsafePointer<CChar>? = rd_kafka_rebalance_protocol(rk)
    let cooperative = rebalanceProtocol.map { String(cString: $0) } == "COOPERATIVE"
    if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        if let provider = context.offsetProvider {
            for i in 0..<Int(partitions.pointee.cnt) {
                let e = partitions.pointee.elems[i]
                let tp = KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)
                if let offset = provider(tp) { partitions.pointee.elems[i].offset = offset }
            }
        }
        if let onAssign = context.onAssign {
            let offsets = onAssign(RDKafkaTopicPartitionList.read(partitions).map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
            for i in 0..<Int(partitions.pointee.cnt) {
                let e = partitions.pointee.elems[i]
                if let offset = offsets[KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)] {
                    partitions.pointee.elems[i].offset = offset
                }
            }
        }
        let list = RDKafkaTopicPartitionList.read(partitions)
        var failure: KafkaError? = nil
        if cooperative {
            if let e = rd_kafka_incremental_assign(rk, partitions) { failure = KafkaError.consuming(e, .rebalance, "incremental_assign") }
        } else {
            let r = rd_kafka_assign(rk, partitions)
            if r != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(.rebalance, "assign", rdKafka: r) }
        }
        context.state.withLock { s in
            s.events.append(.assigned(list))
            s.assignment.formUnion(list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
            if let failure, s.error == nil { s.error = failure }
        }
    } else {
        let list = RDKafkaTopicPartitionList.read(partitions)
        // The owner finishes with these partitions (checkpoint, commit) before they are given up.
        context.onRevoke?(list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        var failure: KafkaError? = nil
        if cooperative {
            if let e = rd_kafka_incremental_unassign(rk, partitions) { failure = KafkaError.consuming(e, .rebalance, "incremental_unassign") }
        } else {
            let r = rd_kafka_assign(rk, nil)
            if r != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(.rebalance, "unassign", rdKafka: r) }
        }
        context.state.withLock { s in
            s.events.append(.revoked(list))
            s.assignment.subtract(list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
            if let failure, s.error == nil { s.error = failure }
        }
    }
}

/// Owns a consumer `rd_kafka_t` (and its queue); every librdkafka call of ``KafkaConsumer`` is here.
final class RDKafkaConsumerClient {
    // Declared before `context`: the handle (whose callbacks use the context) is destroyed first in deinit.
    let handle: OpaquePointer
    private let queue: OpaquePointer
    private let context: RebalanceContext
    private let retainedContext: Unmanaged<RebalanceContext>
    private var messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private var messagesCapacity: Int
    private var closed = false

    /// Creates a consumer (it joins the group on ``subscribe(_:)``).
    ///
    /// - Parameter offsetProvider: Called during each assignment for every new partition; a returned offset
    ///   is where consumption starts (the resume position from a checkpoint), `nil` keeps the group's committed offset.
    init(
        config: KafkaConsumerConfig, offsetProvider: (@Sendable (KafkaTopicPartition) -> Int64?)? = nil
    ) throws(KafkaError) {
        let conf = try RDKafkaConf.make(config.settings)
        let context = RebalanceContext(offsetProvider: offsetProvider)
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        let handle: OpaquePointer
        do {
            handle = try makeRDKafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf)
        } catch {
            retained.release()
            throw error
        }
        rd_kafka_poll_set_consumer(handle)
        self.handle = handle
        self.queue = rd_kafka_queue_get_consumer(handle)
        self.context = context
        self.retainedContext = retained
        self.messagesCapacity = 1024
        self.messages = .allocate(capacity: 1024)
    }

    deinit {
        if !closed { rd_kafka_consumer_close(handle) }
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy(handle)
        retainedContext.release()
        messages.deallocate()
    }

    /// Subscribes to `topics` (joins the consumer group).
    func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(topics.map { KafkaTopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        let r = rd_kafka_subscribe(handle, list.pointer)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, "subscribe to \(topics)", rdKafka: r) }
    }

    /// Assigns partitions directly, without a group (replay, tools).
    func assign(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let topics = lookUpTopics(of: partitions)
        defer { topics.forEach { rd_kafka_topic_destroy($0) } }
        let list = RDKafkaTopicPartitionList(partitions)
        let r = rd_kafka_assign(handle, list.pointer)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, "assign \(partitions)", rdKafka: r) }
        context.state.withLock { s in
            s.assignment = Set(partitions.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        }
    }

    /// Adds partitions to a direct assignment, keeping the positions of those already assigned.
    func assignMore(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let topics = lookUpTopics(of: partitions)
        defer { topics.forEach { rd_kafka_topic_destroy($0) } }
        let list = RDKafkaTopicPartitionList(partitions)
        if let e = rd_kafka_incremental_assign(handle, list.pointer) { throw KafkaError.consuming(e, .consume, "assign \(partitions)") }
        context.state.withLock { s in
            s.assignment.formUnion(partitions.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        }
    }

    /// Creates the local topic of each distinct topic in `partitions` and asks the cluster for its metadata, so
    /// that the assignment starts fetching at once. Without it, librdkafka 2.0 does not ask for the metadata
    /// of a topic that an assignment adds once the client's broker is up and has answered "brokers only"; the
    /// partitions then wait for its one-second refresh timer (measured: a first record after 1.0 s instead of
    /// 5 ms, in a third of the W2 benchmark's fresh consumers). A failed lookup is left to that timer.
    ///
    /// The request follows the consumer's `allow.auto.create.topics` (false by default), as librdkafka's own
    /// lookup does; the embedded mock broker creates an assigned topic it lacks either way. Returns the topic
    /// handles, which keep the local topics alive until the caller destroys them after assigning.
    private func lookUpTopics(of partitions: [KafkaTopicPartition]) -> [OpaquePointer] {
        var seen: Set<String> = []
        var handles: [OpaquePointer] = []
        for tp in partitions where seen.insert(tp.topic).inserted {
            guard let rkt = rd_kafka_topic_new(handle, tp.topic, nil) else { continue }
            handles.append(rkt)
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            if rd_kafka_metadata(handle, 0, rkt, &metadata, 2_000) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                rd_kafka_metadata_destroy(metadata)
            }
        }
        return handles
    }

    /// The topics the cluster knows, with their partition counts (a metadata request on this handle, which never
    /// creates a topic).
    func partitionCounts(timeoutMs: Int32) throws(KafkaError) -> [String: Int32] {
        try topicPartitionCounts(handle, code: .consume, timeoutMs: timeoutMs)
    }

    func setRebalanceHandlers(
        onAssign: (([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])?, onRevoke: (([KafkaTopicPartition]) -> Void)?
    ) {
        context.onAssign = onAssign
        context.onRevoke = onRevoke
    }

    /// Takes the rebalance events that happened during earlier polls, oldest first.
    func drainRebalanceEvents() -> [KafkaRebalanceEvent] {
        context.state.withLock { s in
            defer { s.events.removeAll() }
            return s.events
        }
    }

    /// The partitions currently assigned.
    var assignment: [KafkaTopicPartition] { context.state.withLock { Array($0.assignment) }.sorted() }

    /// Polls up to `maxMessages` records (waiting up to `timeoutMs` for the first) and calls `body` for each,
    /// in partition order, while librdkafka still owns the payloads.
    ///
    /// Rebalance callbacks run inside this call; their events are available from ``drainRebalanceEvents()``.
    ///
    /// - Returns: The number of records passed to `body`.
    /// - Throws: A ``KafkaError`` for a consumer error (partition errors such as an unknown topic, or a failed
    ///   assignment). Records before the error in the same poll have been delivered.
    @discardableResult
    func poll(maxMessages: Int = 10_000, timeoutMs: Int32 = 100, _ body: (KafkaRecordView) -> Void)
        throws(KafkaError) -> Int
    {
        if maxMessages > messagesCapacity {
            messages.deallocate()
            messages = .allocate(capacity: maxMessages)
            messagesCapacity = maxMessages
        }
        // librdkafka's batch consume waits until the whole batch is there or the timeout has passed, so a poll
        // at a rate below maxMessages per timeout would hold every record for the full timeout. Wait for the
        // first record only, then take whatever else is queued without waiting.
        var n = rd_kafka_consume_batch_queue(queue, timeoutMs, messages, 1)
        if n == 1 && maxMessages > 1 {
            let more = rd_kafka_consume_batch_queue(queue, 0, messages + 1, maxMessages - 1)
            if more > 0 { n += more }
        }
        var delivered = 0
        var failure: KafkaError? = nil
        if n > 0 {
            for i in 0..<n {
                guard let m = messages[i] else { continue }
                defer { rd_kafka_message_destroy(m) }
                let msg = m.pointee
                if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if msg.err != RD_KAFKA_RESP_ERR__PARTITION_EOF && failure == nil {
                        let topic = msg.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                        failure = KafkaError(.consume, "consume \(topic)[\(msg.partition)]", rdKafka: msg.err)
                    }
                    continue
                }
                let payload = UnsafeRawBufferPointer(start: msg.payload, count: msg.payload == nil ? 0 : msg.len)
                let key = msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) }
                var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                let ts = rd_kafka_message_timestamp(m, &tsType)
                body(
                    KafkaRecordView(
                        topic: rd_kafka_topic_name(msg.rkt), partition: msg.partition, offset: msg.offset, timestamp: ts,
                        key: key, payload: payload, message: m
                    )
                )
                delivered += 1
            }
        }
        if let error = context.state.withLock({ s -> KafkaError? in
            defer { s.error = nil }
            return s.error
        }) {
            throw error
        }
        if let failure { throw failure }
        return delivered
    }

    /// Commits offsets (the *next* offsets to read) for the group, synchronously.
    func commit(_ offsets: [KafkaTopicPartition]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets)
        let r = rd_kafka_commit(handle, list.pointer, 0)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, "commit \(offsets)", rdKafka: r, isRetriable: true) }
    }

    /// Stores offsets locally (`rd_kafka_offsets_store`) for a later ``commitStored()``.
    func store(_ offsets: [KafkaTopicPartition]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaTopicPartitionList(offsets)
        let r = rd_kafka_offsets_store(handle, list.pointer)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, "store offsets \(offsets)", rdKafka: r) }
    }

    /// Commits the stored offsets synchronously (no-op when nothing new was stored).
    func commitStored() throws(KafkaError) {
        let r = rd_kafka_commit(handle, nil, 0)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR && r != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(.commit, "commit stored offsets", rdKafka: r, isRetriable: true)
        }
    }

    /// The group's committed offsets for `partitions` (`offset == nil`: none committed).
    func committed(_ partitions: [KafkaTopicPartition], timeoutMs: Int32 = 10_000) throws(KafkaError) -> [KafkaTopicPartition] {
        let list = RDKafkaTopicPartitionList(partitions.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        let r = rd_kafka_committed(handle, list.pointer, timeoutMs)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, "committed", rdKafka: r, isRetriable: true) }
        return list.partitions
    }

    /// The cluster id from the brokers' metadata (waiting up to `timeoutMs` for it), nil if none came.
    func clusterID(timeoutMs: Int32) -> String? {
        guard let id = rd_kafka_clusterid(handle, timeoutMs) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        return String(cString: id)
    }

    /// Moves the read position of assigned partitions.
    func seek(_ positions: [KafkaTopicPartition]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(positions)
        if let e = rd_kafka_seek_partitions(handle, list.pointer, 10_000) { throw KafkaError.consuming(e, .consume, "seek") }
    }

    /// Stops fetching from `partitions` (back-pressure); records already fetched are still delivered.
    func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(partitions)
        let r = rd_kafka_pause_partitions(handle, list.pointer)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, "pause", rdKafka: r) }
    }

    /// Resumes fetching from paused `partitions`.
    func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(partitions)
        let r = rd_kafka_resume_partitions(handle, list.pointer)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, "resume", rdKafka: r) }
    }

    /// Consumer lag per assigned partition: high watermark − next position to read (from cached watermarks,
    /// refreshed with each fetch; no broker round trip).
    func lag(knownPositions: [KafkaTopicPartition: Int64] = [:]) -> [KafkaTopicPartition: Int64] {
        let partitions = assignment
        guard !partitions.isEmpty else { return [:] }
        let list = RDKafkaTopicPartitionList(partitions)
        _ = rd_kafka_position(handle, list.pointer)
        var out: [KafkaTopicPartition: Int64] = [:]
        for p in RDKafkaTopicPartitionList.read(list.pointer) {
            var low: Int64 = -1
            var high: Int64 = -1
            let r = rd_kafka_get_watermark_offsets(handle, p.topic, p.partition, &low, &high)
            guard r == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            let key = KafkaTopicPartition(topic: p.topic, partition: p.partition)
            // Nothing consumed since the assignment: librdkafka has no position yet; the owner may know it.
            let position = p.offset ?? knownPositions[key] ?? low
            out[key] = max(0, high - max(position, low))
        }
        return out
    }

    /// Leaves the group cleanly (revocation callbacks run inside this call).
    func close() throws(KafkaError) {
        guard !closed else { return }
        closed = true
        let r = rd_kafka_consumer_close(handle)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, "close", rdKafka: r) }
    }
}

@available(*, unavailable)
extension RDKafkaConsumerClient: Sendable {}
