internal import CRdKafka

/// One consumed record, valid only inside the closure it is passed to.
///
/// - Warning: `payload` and `key` point into librdkafka's buffer; do not escape them from the closure.
public struct KafkaRecordView {
    let topic: UnsafePointer<CChar>
    public let partition: Int32
    public let offset: Int64
    /// Message timestamp in ms (`-1` when the broker has none).
    public let timestamp: Int64
    public let key: UnsafeRawBufferPointer?
    public let payload: UnsafeRawBufferPointer
    let message: UnsafeMutablePointer<rd_kafka_message_t>

    init(
        topic: UnsafePointer<CChar>, partition: Int32, offset: Int64, timestamp: Int64, key: UnsafeRawBufferPointer?,
        payload: UnsafeRawBufferPointer, message: UnsafeMutablePointer<rd_kafka_message_t>
    ) {
        self.message = message
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.payload = payload
    }

    /// The value of the last header called `name`, copied (nil when absent).
    public func header(_ name: String) -> [UInt8]? {
        var headers: OpaquePointer? = nil
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return nil }
        var value: UnsafeRawPointer? = nil
        var size = 0
        guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        guard let value else { return [] }
        return Array(UnsafeRawBufferPointer(start: value, count: size))
    }

    /// The topic name as a `String` (allocates).
    public var topicName: String { String(validatingCString: topic) ?? "" }

    /// Which topic the record is of, without building its name: equal for records of one topic of one client
    /// (librdkafka keeps a topic's name with its handle for the client's lifetime). It holds no pointer that
    /// could be dereferenced after the poll.
    public var topicToken: KafkaTopicToken { KafkaTopicToken(bits: UInt(bitPattern: topic)) }
}

/// The identity of a topic within one Kafka client, for caching per-topic lookups across polls (see
/// ``KafkaRecordView/topicToken``). Compare it only with tokens of the same client.
public struct KafkaTopicToken: Hashable, Sendable {
    let bits: UInt
}

@available(*, unavailable, message: "A record view points into librdkafka's buffer; copy what you need")
extension KafkaRecordView: Sendable {}
