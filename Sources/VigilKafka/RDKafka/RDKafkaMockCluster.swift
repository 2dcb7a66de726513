internal import CRdKafka

/// Owns librdkafka's mock cluster and the handle it was created from.
final class RDKafkaMockCluster {
    // The mock cluster is destroyed before the handle it was created from (see deinit).
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    /// `host:port[,host:port…]` of the brokers, on 127.0.0.1.
    let bootstrapServers: String
    let brokerCount: Int

    /// Starts a cluster of `brokers` brokers on loopback.
    init(brokers: Int = 1) throws(KafkaError) {
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
    func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let r = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        if r != RD_KAFKA_RESP_ERR_NO_ERROR && r != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(.mockCluster, "create topic \(name)", rdKafka: r)
        }
    }
}

@available(*, unavailable)
extension RDKafkaMockCluster: Sendable {}
