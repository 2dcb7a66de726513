internal import CRdKafka
import Synchronization

/// Delivery accounting shared with librdkafka's delivery-report callback.
final class DeliveryContext: Sendable {
    struct State {
        var delivered: Int64 = 0
        var failed: Int64 = 0
        var firstError: KafkaError? = nil
        /// Sequence numbers of the messages enqueued so far (each message's opaque is its number + 1).
        var enqueued: Int64 = 0
        /// Every message numbered below this has had its delivery report.
        var reportedThrough: Int64 = 0
        /// Whether the messages from `reportedThrough` on have had their report, from index `head` on.
        var reported: [Bool] = []
        var head = 0

        mutating func enqueue() -> Int64 {
            defer { enqueued += 1 }
            reported.append(false)
            return enqueued
        }

        mutating func report(_ sequence: Int64) {
            let i = head + Int(sequence - reportedThrough)
            guard sequence >= reportedThrough, i < reported.count else { return }
            reported[i] = true
            while head < reported.count && reported[head] {
                head += 1
                reportedThrough += 1
            }
            if head >= 4_096 && head * 2 >= reported.count {
                reported.removeFirst(head)
                head = 0
            }
        }
    }
    let state = Mutex(State())
}

private func deliveryCallback(
    _ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let opaque, let message else { return }
    // The context is retained by the KafkaProducer for the lifetime of the rd_kafka_t (see `context`).
    let context = Unmanaged<DeliveryContext>.fromOpaque(opaque).takeUnretainedValue()
    let err = message.pointee.err
    let sequence = Int64(Int(bitPattern: message.pointee._private)) - 1
    context.state.withLock { s in
        if sequence >= 0 { s.report(sequence) }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            s.delivered += 1
        } else {
            s.failed += 1
            if s.firstError == nil {
                let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                s.firstError = KafkaError(.delivery, "delivery to \(topic)[\(message.pointee.partition)] failed", rdKafka: err)
            }
        }
    }
}

/// Owns a producer `rd_kafka_t`; every librdkafka call of ``KafkaProducer`` is here.
final class RDKafkaProducerClient {
    // Declared before `context`: the handle (whose callbacks use the context) is destroyed first in deinit.
    private let handle: OpaquePointer
    private let context: DeliveryContext
    private let retainedContext: Unmanaged<DeliveryContext>

    /// Creates a producer.
    ///
    /// - Throws: A ``KafkaError`` with code `.configuration` naming the rejected key, or `.clientCreation`.
    init(config: KafkaProducerConfig) throws(KafkaError) {
        let conf = try RDKafkaConf.make(config.settings)
        let context = DeliveryContext()
        let retained = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        do {
            self.handle = try makeRDKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        } catch {
            retained.release()
            throw error
        }
        self.context = context
        self.retainedContext = retained
    }

    deinit {
        rd_kafka_flush(handle, 5_000)
        rd_kafka_destroy(handle)
        retainedContext.release()
    }

    /// Messages acknowledged by the brokers so far.
    var deliveredCount: Int64 { context.state.withLock { $0.delivered } }
    /// Messages whose delivery failed so far.
    var failedCount: Int64 { context.state.withLock { $0.failed } }
    /// Messages enqueued but not yet acknowledged.
    var inFlight: Int { Int(rd_kafka_outq_len(handle)) }
    /// Messages enqueued so far, counting from 0: the sequence number the next one gets.
    var enqueuedCount: Int64 { context.state.withLock { $0.enqueued } }
    /// Every message with a sequence number below this has had its delivery report (success or failure).
    var reportedThrough: Int64 { context.state.withLock { $0.reportedThrough } }
    /// The first failed delivery, if any.
    var deliveryError: KafkaError? { context.state.withLock { $0.firstError } }

    /// Enqueues one message (librdkafka copies key, value and headers).
    ///
    /// When the in-flight bound is reached, serves delivery reports until there is room (back-pressure).
    ///
    /// - Parameters:
    ///   - partition: A partition, or `nil` to partition by key (librdkafka's consistent-random partitioner).
    ///   - timestamp: Message timestamp in ms, or `nil` for the current time.
    /// - Throws: A ``KafkaError`` (`.produce`) if the message cannot be enqueued (unknown topic, too large, fatal
    ///   producer state), or (`.delivery`) if an earlier delivery failed.
    func produce(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) throws(KafkaError) {
        // One lock per message: the earlier failure check and the message's number. A refused message gets no
        // delivery report: its number counts as reported at once (below).
        let (failure, sequence) = context.state.withLock { s in s.firstError.map { ($0, Int64(-1)) } ?? (nil, s.enqueue()) }
        if let failure { throw failure }
        var attempt = 0
        while true {
            let result: OpaquePointer? = topic.withCString { topicName in
                withHeaderPointers(headers) { headerVUs in
                    var vus: [rd_kafka_vu_t] = []
                    vus.reserveCapacity(6 + headerVUs.count)
                    var v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_TOPIC
                    v.u.cstr = topicName
                    vus.append(v)
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_PARTITION
                    v.u.i32 = partition ?? RD_KAFKA_PARTITION_UA
                    vus.append(v)
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    v.u.i = RD_KAFKA_MSG_F_COPY
                    vus.append(v)
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_VALUE
                    v.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    v.u.mem.size = value.count
                    vus.append(v)
                    if let key {
                        v = rd_kafka_vu_t()
                        v.vtype = RD_KAFKA_VTYPE_KEY
                        v.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        v.u.mem.size = key.count
                        vus.append(v)
                    }
                    if let timestamp {
                        v = rd_kafka_vu_t()
                        v.vtype = RD_KAFKA_VTYPE_TIMESTAMP
                        v.u.i64 = timestamp
                        vus.append(v)
                    }
                    v = rd_kafka_vu_t()
                    v.vtype = RD_KAFKA_VTYPE_OPAQUE
                    v.u.ptr = UnsafeMutableRawPointer(bitPattern: Int(sequence + 1))
                    vus.append(v)
                    vus.append(contentsOf: headerVUs)
                    return vus.withUnsafeBufferPointer { rd_kafka_produceva(handle, $0.baseAddress, $0.count) }
                }
            }
            guard let result else { return }
            let code = rd_kafka_error_code(result)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 10_000 {
                rd_kafka_error_destroy(result)
                rd_kafka_poll(handle, 10)
                attempt += 1
                continue
            }
            context.state.withLock { $0.report(sequence) }
            throw KafkaError.consuming(result, .produce, "cannot produce to \(topic)")
        }
    }

    /// Serves queued delivery reports (waits up to `timeoutMs`). Returns the number served.
    @discardableResult
    func poll(timeoutMs: Int32 = 0) -> Int { Int(rd_kafka_poll(handle, timeoutMs)) }

    /// Waits until every enqueued message is acknowledged.
    ///
    /// - Throws: `.timeout` if messages remain after `timeoutMs`; `.delivery` if any delivery failed.
    /// Asks the cluster for `topic`'s metadata, which creates the topic where the cluster auto-creates topics
    /// (as producing to it would); returns its partition count, nil if it does not exist.
    func lookUp(topic: String, timeoutMs: Int32) throws(KafkaError) -> Int32? {
        guard let rkt = rd_kafka_topic_new(handle, topic, nil) else { throw KafkaError(.produce, "topic handle for \(topic)") }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        let r = rd_kafka_metadata(handle, 0, rkt, &metadata, timeoutMs)
        guard r == RD_KAFKA_RESP_ERR_NO_ERROR, let md = metadata else {
            throw KafkaError(.produce, "metadata of \(topic)", rdKafka: r, isRetriable: true)
        }
        defer { rd_kafka_metadata_destroy(md) }
        guard md.pointee.topic_cnt > 0, md.pointee.topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return md.pointee.topics[0].partition_cnt
    }

    func flush(timeoutMs: Int32 = 30_000) throws(KafkaError) {
        let err = rd_kafka_flush(handle, timeoutMs)
        if let error = context.state.withLock({ $0.firstError }) { throw error }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.timeout, "flush: \(rd_kafka_outq_len(handle)) messages still in flight", rdKafka: err, isRetriable: true)
        }
    }

    // MARK: - Transactions

    /// `init_transactions`: registers the `transactional.id`, fencing older producers with the same id.
    func initTransactions(timeoutMs: Int32 = 30_000) throws(KafkaError) {
        if let e = rd_kafka_init_transactions(handle, timeoutMs) { throw KafkaError.consuming(e, .transaction, "init_transactions") }
    }

    /// `begin_transaction`.
    func beginTransaction() throws(KafkaError) {
        if let e = rd_kafka_begin_transaction(handle) { throw KafkaError.consuming(e, .transaction, "begin_transaction") }
    }

    /// `send_offsets_to_transaction`: commits `offsets` (next offsets to read) for `consumer`'s group as part
    /// of the current transaction.
    func sendOffsetsToTransaction(_ offsets: [KafkaTopicPartition], consumer: RDKafkaConsumerClient, timeoutMs: Int32 = 30_000)
        throws(KafkaError)
    {
        let list = RDKafkaTopicPartitionList(offsets)
        guard let metadata = rd_kafka_consumer_group_metadata(consumer.handle) else {
            throw KafkaError(.transaction, "consumer has no group metadata")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        if let e = rd_kafka_send_offsets_to_transaction(handle, list.pointer, metadata, timeoutMs) {
            throw KafkaError.consuming(e, .transaction, "send_offsets_to_transaction")
        }
    }

    /// `commit_transaction` (flushes first).
    func commitTransaction(timeoutMs: Int32 = 30_000) throws(KafkaError) {
        if let e = rd_kafka_commit_transaction(handle, timeoutMs) { throw KafkaError.consuming(e, .transaction, "commit_transaction") }
    }

    /// `abort_transaction`.
    func abortTransaction(timeoutMs: Int32 = 30_000) throws(KafkaError) {
        if let e = rd_kafka_abort_transaction(handle, timeoutMs) { throw KafkaError.consuming(e, .transaction, "abort_transaction") }
    }
}

@available(*, unavailable)
extension RDKafkaProducerClient: Sendable {}

/// Builds `RD_KAFKA_VTYPE_HEADER` entries whose pointers are valid inside `body`.
private func withHeaderPointers<R>(_ headers: [KafkaHeader], _ body: ([rd_kafka_vu_t]) -> R) -> R {
    if headers.isEmpty { return body([]) }
    func build(_ index: Int, _ acc: [rd_kafka_vu_t]) -> R {
        if index == headers.count { return body(acc) }
        return headers[index].name.withCString { name in
            headers[index].value.withUnsafeBytes { bytes in
                var v = rd_kafka_vu_t()
                v.vtype = RD_KAFKA_VTYPE_HEADER
                v.u.header.name = name
                v.u.header.val = bytes.baseAddress
                v.u.header.size = bytes.count
                return build(index + 1, acc + [v])
            }
        }
    }
    return build(0, [])
}
