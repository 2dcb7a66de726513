internal import CRdKafka

/// A Kafka cluster inside this process: librdkafka's mock cluster, a real Kafka-protocol broker on loopback.
///
/// Any client can connect to ``bootstrapServers``: Vigil's own consumers and producers, `kcat`, other
/// processes. It serves until the object is released.
///
/// Limits measured with librdkafka 2.0.2 (they shape the demo and the tests):
/// - each partition keeps only about 5 MiB (or 100,000 message batches) and silently drops older data, so a
///   consumer that lags further than that loses records: keep backlogs small (more partitions, produce in
///   chunks, or consume while producing);
/// - the Admin API is not served: topics are created with ``createTopic(_:partitions:)`` (or auto-created on
///   first use with 4 partitions);
/// - topic configs such as `cleanup.policy=compact` do not exist;
/// - transactions are accepted but not enforced (aborted and open transactions are visible to
///   `read_committed` readers; `send_offsets_to_transaction` is not stored);
/// - the group coordinator waits about 3 s for the first join and `session.timeout.ms − 1 s` for later
///   rebalances; members with `session.timeout.ms ≤ 3000` can hang — use 6000 in tests.
public final class EmbeddedKafkaCluster {
    // The mock cluster is destroyed before the handle it was created from (see deinit).
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    /// `host:port[,host:port…]` of the brokers, on 127.0.0.1.
    public let bootstrapServers: String
    public let brokerCount: Int

    /// Starts a cluster of `brokers` brokers on loopback.
    public init(brokers: Int = 1) throws(KafkaError) {
        precondition(brokers >= 1, "EmbeddedKafkaCluster: at least one broker")
        let conf = try RDKafkaConf.make([("log_level", "3"), ("client.id", "vigil-embedded-cluster")])
        let handle = try makeRDKafkaHandle(type: RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            rd_kafka_destroy(handle)
            throw KafkaError(.mockCluster, "rd_kafka_mock_cluster_new failed")
        }
        self.handle = handle
        self.cluster = cluster
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    /// Creates a topic (replication factor 1). Creating an existing topic is not an error.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let r = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR && r != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(.mockCluster, "create topic \(name)", rdKafka: r)
        }
    }
}

@available(*, unavailable, message: "Owned by one place; share the bootstrap address instead")
extension EmbeddedKafkaCluster: Sendable {}
