import ArgumentParser

@main
struct VigilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: stream-processing risk analytics for high-risk industrial sites.",
        discussion: """
            Vigil consumes sensor readings from Kafka as a consumer group, computes event-time window \
            statistics, alarm transitions, anomaly scores and enterprise risk grades, and produces them to \
            output topics. Pipelines are YAML files (see Pipelines/ and the README).

            Examples:
              vigil demo                # all in one process, on an embedded broker
              vigil validate Pipelines/*.yaml
              vigil run Pipelines/chemical-park.yaml --brokers kafka-1:9092
              vigil serve --pipeline Pipelines/chemical-park.yaml --brokers kafka-1:9092
              vigil simulate --pipeline Pipelines/coal-mine.yaml --brokers B \\
                  --duration 10m
              vigil broker              # an embedded Kafka cluster for kcat
              vigil score-csv series.csv scored.csv
              vigil run Pipelines/chemical-park.yaml --workers 4
            """,
        version: VigilVersion.current,
        subcommands: [
            RunCommand.self, ServeCommand.self, SimulateCommand.self, ScoreCSVCommand.self, ExplainCommand.self, DemoCommand.self,
            ValidateCommand.self,
            BrokerCommand.self,
        ]
    )
}

enum VigilVersion {
    static let current = "0.1.0"
}
