/// A topic partition, optionally with an offset.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32
    /// An offset (next offset to read, for commits and seeks); `nil` when not relevant.
    public var offset: Int64?

    public init(topic: String, partition: Int32, offset: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { offset.map { "\(topic)[\(partition)]@\($0)" } ?? "\(topic)[\(partition)]" }

    public static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}
