/// A topic to create.
public struct KafkaTopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    /// Topic configs, e.g. `["cleanup.policy": "compact"]` for tables and checkpoints.
    public var configs: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Topic administration: create topics with partition counts and configs, describe what exists.
///
/// Against the ``EmbeddedKafkaCluster`` (pass it as `embedded`), which does not serve the Admin API, topics are
/// created through the mock's own call and configs are ignored (the mock has none).
public final class KafkaAdmin {
    let client: RDKafkaAdminClient
    let embedded: EmbeddedKafkaCluster?

    public init(bootstrapServers: String, additionalConfig: [String: String] = [:], embedded: EmbeddedKafkaCluster? = nil)
        throws(KafkaError)
    {
        self.client = try RDKafkaAdminClient(bootstrapServers: bootstrapServers, additionalConfig: additionalConfig)
        self.embedded = embedded
    }

    /// Creates topics; existing topics are left as they are.
    ///
    /// - Throws: `.admin` naming the first topic that could not be created.
    public func createTopics(_ topics: [KafkaTopicSpec], timeoutMs: Int32 = 30_000) throws(KafkaError) {
        if let embedded {
            for t in topics { try embedded.createTopic(t.name, partitions: t.partitions) }
            return
        }
        try client.createTopics(topics, timeoutMs: timeoutMs)
    }

    /// The topics the cluster knows, with their partition counts.
    public func describeTopics(timeoutMs: Int32 = 10_000) throws(KafkaError) -> [String: Int32] {
        try client.describeTopics(timeoutMs: timeoutMs)
    }
}

@available(*, unavailable)
extension KafkaAdmin: Sendable {}
