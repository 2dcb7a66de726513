internal import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t` (destroyed in deinit).
final class RDKafkaTopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ partitions: [KafkaTopicPartition]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        for p in partitions {
            let element = rd_kafka_topic_partition_list_add(pointer, p.topic, p.partition)!
            if let offset = p.offset { element.pointee.offset = offset }
        }
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    /// Reads a list owned by librdkafka (not destroyed here).
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        var out: [KafkaTopicPartition] = []
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            out.append(
                KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition, offset: e.offset >= 0 ? e.offset : nil)
            )
        }
        return out
    }

    var partitions: [KafkaTopicPartition] { Self.read(pointer) }
}
