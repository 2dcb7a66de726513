internal import CRdKafka

extension KafkaError {
    /// An error carrying a librdkafka response code; the code's text is appended to `message`.
    init(
        _ code: Code, _ message: String, rdKafka: rd_kafka_resp_err_t, isFatal: Bool = false, isRetriable: Bool = false,
        file: String = #fileID, line: Int = #line
    ) {
        self.init(
            code: code, rdKafkaCode: RDKafkaCode(rawValue: rdKafka.rawValue),
            message: message + ": " + String(cString: rd_kafka_err2str(rdKafka)), isFatal: isFatal,
            isRetriable: isRetriable, file: file, line: line
        )
    }

    /// Wraps (and destroys) an `rd_kafka_error_t`.
    static func consuming(
        _ error: OpaquePointer, _ code: Code, _ context: String, file: String = #fileID, line: Int = #line
    ) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(
            code: code, rdKafkaCode: RDKafkaCode(rawValue: rd_kafka_error_code(error).rawValue),
            message: context + ": " + String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0, isRetriable: rd_kafka_error_is_retriable(error) != 0,
            file: file, line: line
        )
    }
}

extension KafkaError.RDKafkaCode {
    /// librdkafka's name for the code, e.g. `_QUEUE_FULL` or `TOPIC_ALREADY_EXISTS`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue))) }
}
