import ArgumentParser
import UnixSignals
import VigilTools
import VigilKafka

#if canImport(Glibc)
    import Glibc
#endif

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka cluster (librdkafka's mock broker) until stopped.",
        discussion: """
            Prints the bootstrap address on the first line of output, then serves until SIGINT or SIGTERM. \
            Point kcat, another vigil process or any Kafka client at it:

              vigil broker --brokers 3 --partitions 8 --topic safety.readings --topic risk.window-stats
              kcat -b 127.0.0.1:PORT -L

            Limits (librdkafka 2.0.2): each partition keeps only about 5 MiB and silently drops older data; no \
            Admin API (topics are created here, or auto-created with 4 partitions on first use); no topic configs \
            (no compaction); transactions are accepted but not enforced.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 1

    @Option(help: "Partitions of each --topic.")
    var partitions: Int32 = 4

    @Option(name: .customLong("topic"), help: "A topic to create at start (repeatable).")
    var topics: [String] = ["safety.readings", "risk.window-stats", "risk.dlq"]

    func validate() throws {
        guard (1...16).contains(brokers) else { throw ValidationError("--brokers must be in 1…16") }
        guard (1...1_000).contains(partitions) else { throw ValidationError("--partitions must be in 1…1000") }
    }

    func run() async throws {
        // Trapped before the cluster starts, so a signal right after the address is printed is not lost.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        print(cluster.bootstrapServers)
        fflush(nil)
        printError("embedded cluster: \(brokers) broker(s), topics \(topics.joined(separator: ", ")) × \(partitions) partitions; Ctrl-C to stop")
        for await signal in signals {
            printError("embedded cluster: stopping (\(signal == .sigint ? "SIGINT" : "SIGTERM"))")
            break
        }
        withExtendedLifetime(cluster) {}
    }
}
