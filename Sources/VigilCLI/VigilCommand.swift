import ArgumentParser

@main
struct VigilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: stream-processing risk analytics for high-risk industrial sites.",
        discussion: """
            Vigil consumes sensor readings, computes event-time window statistics per sensor, and \
            (as the project grows) anomaly scores, enterprise risk grades and alerts.

            Examples:
              vigil demo                         # a short in-process demonstration of the window engine
              vigil bench core                   # workload W1: 10 M readings, 40,000 sensors, 60 s windows
              vigil bench core --records 2000000 --quantiles
            """,
        version: VigilVersion.current,
        subcommands: [RunCommand.self, SimulateCommand.self, ScoreCSVCommand.self, DemoCommand.self, ValidateCommand.self, BrokerCommand.self, BenchCommand.self]
    )
}

enum VigilVersion {
    static let current = "0.1.0"
}
