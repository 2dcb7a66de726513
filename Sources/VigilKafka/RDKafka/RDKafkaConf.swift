internal import CRdKafka

/// Builds an `rd_kafka_conf_t` from key/value pairs. The returned pointer is owned by the caller (it is
/// consumed by `rd_kafka_new` on success and must be destroyed on failure).
enum RDKafkaConf {
    /// Keys whose values are never echoed in errors or logs.
    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("password") || k.contains("secret") || k.contains("sasl.oauthbearer") || k.contains("key.pem")
            || k.hasSuffix(".key") || k.contains("token")
    }

    static func make(_ settings: [(String, String)]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(.configuration, "rd_kafka_conf_new failed") }
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in settings {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let shown = isSecret(key) ? "<redacted>" : "'\(value)'"
                let reason = cString(errstr)
                throw KafkaError(.configuration, "librdkafka rejected setting '\(key)' = \(shown): \(reason)")
            }
        }
        return conf
    }
}

/// Wraps librdkafka handles, which are thread-safe, so they can cross isolation domains.
///
/// Only for handles that librdkafka documents as thread-safe (`rd_kafka_t`, queues, the mock cluster).
struct SendableOpaquePointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// Creates an `rd_kafka_t`, destroying `conf` if that fails (on success librdkafka owns it).
func makeRDKafkaHandle(type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(.clientCreation, "rd_kafka_new failed: " + cString(errstr))
    }
    return handle
}

/// The string in a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
