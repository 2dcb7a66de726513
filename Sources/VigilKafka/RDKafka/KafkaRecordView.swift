internal import CRdKafka

/// One consumed record, valid only inside the closure it is passed to.
///
/// - Warning: `payload` and `key` point into librdkafka's buffer; do not escape them from the closure.
public struct KafkaRecordView {
    public let topic: UnsafePointer<CChar>
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
}

@available(*, unavailable, message: "A record view points into librdkafka's buffer; copy what you need")
extension KafkaRecordView: Sendable {}
