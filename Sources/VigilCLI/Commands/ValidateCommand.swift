import ArgumentParser
import VigilTools
import VigilPipeline

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline files and report every problem with file:line:column.",
        discussion: """
            Each file is read with the same loader `vigil run` uses: YAML syntax, unknown keys (with a \
            suggestion), types, durations, value ranges, cross-field rules, and ${ENV} / ${ENV:-default} \
            interpolation against the current environment. Exits 0 when every file is valid, 1 otherwise.

            Examples:
              vigil validate Pipelines/*.yaml
              KAFKA_BROKERS=kafka-1:9092 vigil validate Pipelines/chemical-park.yaml
            """
    )

    @Argument(help: "Pipeline files.", completion: .file(extensions: ["yaml", "yml"]))
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one pipeline file, e.g. vigil validate Pipelines/*.yaml") }
    }

    func run() throws {
        var failed = 0
        for file in files {
            do {
                let spec = try PipelineLoader.load(path: file)
                print(
                    "ok  \(file): pipeline '\(spec.name)', group \(spec.consumerGroup), \(spec.windows.count) window(s), "
                        + "\(spec.sensorTypes.count) sensor type(s)"
                )
            } catch {
                failed += 1
                printError(error.detailedDescription())
            }
        }
        if failed > 0 {
            printError("\(failed) of \(files.count) file(s) invalid")
            throw ExitCode(1)
        }
    }
}
