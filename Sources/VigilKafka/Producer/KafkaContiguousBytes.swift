public import VigilCore

/// Bytes that can be handed to librdkafka as one contiguous buffer for the duration of a call: the key or value
/// of a produced message. librdkafka copies them, so nothing is retained.
///
/// The one place a buffer-borrowing closure's typed error is carried out is each conformance; producing code
/// writes `try producer.produce(topic:key:value:)` with arrays, strings, encoder buffers or raw buffers alike.
public protocol KafkaContiguousBytes {
    func withKafkaBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KafkaError) -> R) throws(KafkaError) -> R
}

extension UnsafeRawBufferPointer: KafkaContiguousBytes {
    public func withKafkaBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KafkaError) -> R) throws(KafkaError) -> R { try body(self) }
}

extension Array: KafkaContiguousBytes where Element == UInt8 {
    public func withKafkaBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KafkaError) -> R) throws(KafkaError) -> R {
        let result: Result<R, KafkaError> = withUnsafeBytes { bytes in
            do throws(KafkaError) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension String: KafkaContiguousBytes {
    public func withKafkaBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KafkaError) -> R) throws(KafkaError) -> R {
        var s = self
        let result: Result<R, KafkaError> = s.withUTF8 { bytes in
            do throws(KafkaError) { return .success(try body(UnsafeRawBufferPointer(bytes))) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension JSONBytes: KafkaContiguousBytes {
    public func withKafkaBytes<R>(_ body: (UnsafeRawBufferPointer) throws(KafkaError) -> R) throws(KafkaError) -> R {
        try buffer.withKafkaBytes(body)
    }
}
