internal import CRdKafka

/// Owns an admin `rd_kafka_t`; every librdkafka call of ``KafkaAdmin`` is here.
final class RDKafkaAdminClient {
    private let handle: OpaquePointer

    init(bootstrapServers: String, additionalConfig: [String: String] = [:])
        throws(KafkaError)
    {
        let settings = [("bootstrap.servers", bootstrapServers)] + additionalConfig.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let conf = try RDKafkaConf.make(settings)
        self.handle = try makeRDKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
    }

    deinit { rd_kafka_destroy(handle) }

    /// Creates topics; existing topics are left as they are.
    ///
    /// - Throws: `.admin` naming the first topic that could not be created.
    func createTopics(_ topics: [KafkaTopicSpec], timeoutMs: Int32 = 30_000) throws(KafkaError) {
        guard !topics.isEmpty else { return }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for t in topics {
            guard let nt = rd_kafka_NewTopic_new(t.name, t.partitions, t.replicationFactor, &errstr, errstr.count) else {
                throw KafkaError(.admin, "topic \(t.name): " + cString(errstr))
            }
            newTopics.append(nt)
            for (k, v) in t.configs.sorted(by: { $0.key < $1.key }) {
                let r = rd_kafka_NewTopic_set_config(nt, k, v)
                if r != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.admin, "topic \(t.name) config \(k)", rdKafka: r) }
            }
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(handle, $0.baseAddress, $0.count, nil, queue) }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs) else { throw KafkaError(.timeout, "CreateTopics timed out") }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.admin, "CreateTopics", rdKafka: err) }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { throw KafkaError(.admin, "CreateTopics: no result") }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let r = rd_kafka_topic_result_error(results[i])
            if r != RD_KAFKA_RESP_ERR_NO_ERROR && r != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(results[i]))
                throw KafkaError(.admin, "create topic \(name)", rdKafka: r)
            }
        }
    }

    /// The topics the cluster knows, with their partition counts.
    func describeTopics(timeoutMs: Int32 = 10_000) throws(KafkaError) -> [String: Int32] {
        try topicPartitionCounts(handle, code: .admin, timeoutMs: timeoutMs)
    }
}

/// The topics the cluster knows, with their partition counts: a metadata request for all topics on `handle`
/// (which creates none), errors reported as `code`.
func topicPartitionCounts(_ handle: OpaquePointer, code: KafkaError.Code, timeoutMs: Int32) throws(KafkaError) -> [String: Int32] {
    var metadata: UnsafePointer<rd_kafka_metadata>? = nil
    let r = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMs)
    guard r == RD_KAFKA_RESP_ERR_NO_ERROR, let md = metadata else { throw KafkaError(code, "metadata", rdKafka: r, isRetriable: true) }
    defer { rd_kafka_metadata_destroy(md) }
    var out: [String: Int32] = [:]
    for i in 0..<Int(md.pointee.topic_cnt) {
        let t = md.pointee.topics[i]
        if t.err == RD_KAFKA_RESP_ERR_NO_ERROR { out[String(cString: t.topic)] = t.partition_cnt }
    }
    return out
}

@available(*, unavailable)
extension RDKafkaAdminClient: Sendable {}
