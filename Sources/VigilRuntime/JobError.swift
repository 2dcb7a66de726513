public import VigilKafka

/// Why a ``StreamJob`` operation failed: what it was doing, and the cause (a Kafka error, a checkpoint that
/// cannot be read or written, …). A corrupt snapshot is reported as a restore failure, not as a Kafka error.
public struct JobError: Error, CustomStringConvertible, Sendable {
    /// What the job was doing.
    public enum Operation: String, Sendable {
        /// Setting up the consumer, producer, tables or checkpoint store.
        case start
        /// Polling, decoding, processing and producing a batch.
        case step
        /// Writing snapshots and committing offsets.
        case checkpoint
        /// Reading the snapshots of newly assigned partitions.
        case restore
        /// Flushing outputs at the end of bounded input.
        case finish
        /// Leaving the group.
        case close
    }

    public var operation: Operation
    public var cause: any Error & Sendable

    public init(_ operation: Operation, _ cause: any Error & Sendable) {
        self.operation = operation
        self.cause = cause
    }

    /// The cause when it is a Kafka error.
    public var kafka: KafkaError? { cause as? KafkaError }

    public var description: String { "\(operation.rawValue): \(cause)" }
}
