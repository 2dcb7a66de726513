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
    let cluster: RDKafkaMockCluster

    /// `host:port[,host:port…]` of the brokers, on 127.0.0.1.
    public var bootstrapServers: String { cluster.bootstrapServers }
    /// Number of brokers.
    public var brokerCount: Int { cluster.brokerCount }

    /// Starts a cluster of `brokers` brokers on loopback.
    public init(brokers: Int = 1) throws(KafkaError) {
        cluster = try RDKafkaMockCluster(brokers: brokers)
    }

    /// Creates a topic (replication factor 1). Creating an existing topic is not an error.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        try cluster.createTopic(name, partitions: partitions)
    }
}

@available(*, unavailable, message: "Owned by one place; share the bootstrap address instead")
extension EmbeddedKafkaCluster: Sendable {}
