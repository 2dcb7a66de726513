import Foundation
import ArgumentParser
import VigilPipeline
import VigilRuntime
import VigilTools

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print an enterprise's latest risk grade and why, factor by factor.",
        discussion: """
            Reads the pipeline's grades topic (sinks.grades) from the beginning, takes the newest record of the \
            enterprise, and prints R_dyn = min(100, B + w·A + O + H + Q) with every factor, its inputs, weights \
            and sources (DOMAIN.md §4.3), and the level bands.

            Examples:
              vigil explain --pipeline Pipelines/chemical-park.yaml --brokers kafka-1:9092 --enterprise E0042
              vigil explain --pipeline Pipelines/coal-mine.yaml --enterprise M-0007 --json
            """
    )

    @Option(help: "The pipeline whose grades topic to read.", completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String

    @Option(help: "Bootstrap servers (overrides the pipeline's).")
    var brokers: String?

    @Option(help: "The enterprise id (the key of its grade records).")
    var enterprise: String

    @Flag(help: "Print the grade record itself (JSON) instead of the explanation.")
    var json = false

    func run() async throws {
        let spec = try loadPipeline(pipeline)
        let (brokers, topic, enterprise, kafka) = (brokers ?? spec.brokers, spec.sinks.grades, enterprise, spec.kafka)
        let wantJSON = json
        let text = try await onDedicatedThread(name: "vigil-explain") { () throws -> String in
            let (record, _) = try GradeExplainer.latest(enterprise: enterprise, topic: topic, brokers: brokers, additional: kafka)
            if wantJSON {
                let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                return String(decoding: data, as: UTF8.self)
            }
            return GradeExplainer.explain(record, weights: spec.risk.factors)
        }
        print(text, terminator: wantJSON ? "\n" : "")
    }
}
