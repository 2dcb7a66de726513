import ArgumentParser
import Foundation
import VigilCore
import VigilPipeline
import VigilRuntime
import VigilTools

struct ScoreCSVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score-csv",
        abstract: "Score a timestamp,value CSV with Vigil's anomaly detectors.",
        discussion: """
            Writes timestamp,value,anomaly_score — one row per input row, same order, score in [0, 1] — using the \
            same detectors as the pipelines (threshold proximity, robust z-score, EWMA chart, CUSUM, flatline, \
            data gap, rate of rise, hour-of-day seasonal baseline). With --pipeline and --sensor-type, the type's AL1/AL2 levels, direction and \
            delays are used, with the pipeline's anomaly settings (window, warm-up, seasonal baseline, time zone) and \
            the type's stale gap (max(3 × period, stale_after)); otherwise only the statistical detectors score, with \
            the defaults. Timestamps are ms since the epoch \
            or RFC 3339; a header line is allowed.

            Examples:
              vigil score-csv readings.csv scored.csv
              vigil score-csv h2s.csv scored.csv --pipeline Pipelines/chemical-park.yaml --sensor-type h2s
            """
    )

    @Argument(help: "Input CSV (timestamp,value).", completion: .file())
    var input: String

    @Argument(help: "Output CSV (timestamp,value,anomaly_score).", completion: .file())
    var output: String

    @Option(help: "Pipeline file whose sensor type supplies the alarm levels.", completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String?

    @Option(help: "Sensor type name in the pipeline (e.g. flammable_gas).")
    var sensorType: String?

    func validate() throws {
        if (pipeline == nil) != (sensorType == nil) { throw ValidationError("--pipeline and --sensor-type go together") }
    }

    func run() throws {
        var rule: ThresholdRule? = nil
        var settings = AnomalySettings()
        if let pipeline, let sensorType {
            let spec = try loadPipeline(pipeline)
            guard let type = spec.sensorTypes.first(where: { $0.name == sensorType }) else {
                throw ValidationError(
                    "pipeline '\(spec.name)' has no sensor type '\(sensorType)'; it has \(spec.sensorTypes.map(\.name).joined(separator: ", "))"
                )
            }
            rule = type.thresholdRule
            settings = spec.anomalySettings
            settings.staleAfter = spec.staleAfter(of: type)
        }
        let text: String
        do {
            text = try String(contentsOfFile: input, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(input): \(error.localizedDescription)")
        }
        do {
            let scored = try ScoreCSV.score(csv: text, rule: rule, settings: settings)
            try scored.write(toFile: output, atomically: true, encoding: .utf8)
        } catch let failure as ScoreCSV.Failure {
            printError("\(input): \(failure)")
            throw ExitCode(1)
        }
    }
}
