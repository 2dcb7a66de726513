public import VigilCore

/// Writes rejected records to the dead-letter topic (`risk.dlq` by default) with headers naming why and
/// where they came from.
///
/// Headers: `vigil.reason` (a ``RejectReason`` such as `missing_field` or `late_record`),
/// `vigil.detail` (human-readable), `vigil.source.topic`, `vigil.source.partition`, `vigil.source.offset`.
/// The value is the rejected record's bytes (for an element of a JSON array, just that element); the key is
/// the source record's key.
public struct DeadLetterQueue: Sendable {
    public var topic: String

    public init(topic: String = "risk.dlq") { self.topic = topic }

    /// Produces one dead letter.
    public func send(
        producer: KafkaProducer, reason: RejectReason, detail: String, sourceTopic: String, sourcePartition: Int32,
        sourceOffset: Int64, key: (some KafkaContiguousBytes)?, value: some KafkaContiguousBytes
    ) throws(KafkaError) {
        let headers = [
            KafkaHeader(name: "vigil.reason", string: reason.rawValue),
            KafkaHeader(name: "vigil.detail", string: detail),
            KafkaHeader(name: "vigil.source.topic", string: sourceTopic),
            KafkaHeader(name: "vigil.source.partition", string: String(sourcePartition)),
            KafkaHeader(name: "vigil.source.offset", string: String(sourceOffset)),
        ]
        try producer.produce(topic: topic, key: key, value: value, headers: headers)
    }
}
