import Foundation
import VigilKafka
import VigilTesting

func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

func consumerConfig(_ brokers: String, group: String) -> KafkaConsumerConfig {
    var c = KafkaConsumerConfig(bootstrapServers: brokers, groupID: group)
    c.sessionTimeoutMs = 6_000
    c.additionalConfig["log_level"] = "3"
    c.additionalConfig["heartbeat.interval.ms"] = "500"
    return c
}

func producerConfig(_ brokers: String, compression: KafkaProducerConfig.Compression = .lz4) -> KafkaProducerConfig {
    var c = KafkaProducerConfig(bootstrapServers: brokers)
    c.compression = compression
    c.additionalConfig["log_level"] = "3"
    return c
}

/// Polls until `done` returns true or `seconds` pass.
func pollUntil(_ consumer: KafkaConsumer, seconds: Double, _ body: (KafkaRecordView) -> Void, done: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() && Date() < deadline {
        try consumer.poll(maxMessages: 1_000, timeoutMs: 100, body)
    }
}

/// Runs a command and returns (status, stdout, stderr).
@discardableResult
func run(_ path: String, _ arguments: [String], input: Data? = nil, timeout: Double = 60) throws -> (Int32, String, String) {
    try runProcess(path, arguments, input: input.map { String(decoding: $0, as: UTF8.self) })
}
