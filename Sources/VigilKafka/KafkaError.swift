internal import CRdKafka

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
        /// librdkafka's name for the code, e.g. `_QUEUE_FULL` or `TOPIC_ALREADY_EXISTS`.
        public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }
        public var description: String { "\(name) (\(rawValue))" }

        public static let queueFull = RDKafkaCode(rawValue: RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
        public static let topicAlreadyExists = RDKafkaCode(rawValue: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue)
        public static let timedOut = RDKafkaCode(rawValue: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue)
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
        _ code: Code, _ message: String, rdKafka: rd_kafka_resp_err_t? = nil, isFatal: Bool = false,
        isRetriable: Bool = false, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.rdKafkaCode = rdKafka.map { RDKafkaCode(rawValue: $0.rawValue) }
        var text = message
        if let rdKafka { text += ": " + String(cString: rd_kafka_err2str(rdKafka)) }
        self.message = text
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.file = file
        self.line = line
    }

    /// Wraps (and destroys) an `rd_kafka_error_t`.
    static func consuming(
        _ error: OpaquePointer, _ code: Code, _ context: String, file: String = #fileID, line: Int = #line
    ) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        var e = KafkaError(
            code, context + ": " + String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0, isRetriable: rd_kafka_error_is_retriable(error) != 0,
            file: file, line: line
        )
        e.rdKafkaCode = RDKafkaCode(rawValue: rd_kafka_error_code(error).rawValue)
        return e
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
