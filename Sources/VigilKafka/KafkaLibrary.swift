/// Facts about the librdkafka library this process linked against.
public enum KafkaLibrary: Sendable {
    /// librdkafka's version string, e.g. `"2.0.2"`.
    public static var version: String { RDKafkaLibrary.version }
}
