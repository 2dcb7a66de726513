import Testing
import VigilKafka

@Suite struct KafkaLibraryTests {
    @Test("Links the Debian librdkafka (2.x) through the CRdKafka system library")
    func linksLibrdkafka() {
        let parts = KafkaLibrary.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count >= 3, "unexpected version string \(KafkaLibrary.version)")
        #expect(parts.first == 2)
    }
}
