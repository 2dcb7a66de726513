internal import CRdKafka

enum RDKafkaLibrary {
    static var version: String { String(cString: rd_kafka_version_str()) }
}
