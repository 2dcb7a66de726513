/// The one error type of VigilKafka: what failed, librdkafka's code, and whether retrying can help.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A broad classification of the failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum _Code: Hashable, Sendable {
            case configuration, clientCreation, produce, delivery, consume, commit, rebalance, transaction, admin
            case timeout, mockCluster
        }
        private let code: _Code
        private init(_ code: _Code) { self.code = code }

        /// A configuration key was rejected (unknown key or invalid value).
        public static let configuration = Code(.configuration)
        /// `rd_kafka_new` failed.
        public static let clientCreation = Code(.clientCreation)
        /// A message could not be enqueued.
        public static let produce = Code(.produce)
        /// The broker did not acknowledge a produced message.
        public static let delivery = Code(.delivery)
        /// Consuming failed.
        public static let consume = Code(.consume)
        /// Committing or storing offsets failed.
        public static let commit = Code(.commit)
        /// Assigning or revoking partitions failed.
        public static let rebalance = Code(.rebalance)
        /// A transactional call failed.
        public static let transaction = Code(.transaction)
        /// Creating or describing topics failed.
        public static let admin = Code(.admin)
        /// An operation did not finish in time.
        public static let timeout = Code(.timeout)
        /// The embedded (mock) cluster could not be created or changed.
        public static let mockCluster = Code(.mockCluster)

        public var description: String { "\(code)" }
    }

    /// librdkafka's error code (`rd_kafka_resp_err_t`), as a number and a name.
    public struct RDKafkaCode: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public var description: String { "\(name) (\(rawValue))" }

        /// `RD_KAFKA_RESP_ERR__QUEUE_FULL`: the producer queue is full.
        public static let queueFull = RDKafkaCode(rawValue: -184)
        /// `RD_KAFKA_RESP_ERR__TIMED_OUT`.
        public static let timedOut = RDKafkaCode(rawValue: -185)
        /// `RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS`.
        public static let topicAlreadyExists = RDKafkaCode(rawValue: 36)
    }

    public var code: Code
    public var rdKafkaCode: RDKafkaCode?
    /// What went wrong, in words (never contains configuration values, which may be secrets).
    public var message: String
    /// The client is unusable after this error (e.g. a fenced transactional producer).
    public var isFatal: Bool
    /// Retrying the same operation may succeed.
    public var isRetriable: Bool
    public var file: String
    public var line: Int

    init(
        code: Code, rdKafkaCode: RDKafkaCode?, message: String, isFatal: Bool, isRetriable: Bool, file: String, line: Int
    ) {
        self.code = code
        self.rdKafkaCode = rdKafkaCode
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.file = file
        self.line = line
    }

    /// An error that did not come from librdkafka (layers above use it for failures of the same step, such as
    /// a checkpoint write that belongs to a commit).
    public init(_ code: Code, _ message: String, isRetriable: Bool = false, file: String = #fileID, line: Int = #line) {
        self.init(code: code, rdKafkaCode: nil, message: message, isFatal: false, isRetriable: isRetriable, file: file, line: line)
    }

    public var description: String {
        var s = "KafkaError.\(code): \(message)"
        if isFatal { s += " [fatal]" } else if isRetriable { s += " [retriable]" }
        return s
    }

    public static func == (a: KafkaError, b: KafkaError) -> Bool { a.code == b.code && a.rdKafkaCode == b.rdKafkaCode }
    public func hash(into h: inout Hasher) {
        h.combine(code)
        h.combine(rdKafkaCode)
    }
}
