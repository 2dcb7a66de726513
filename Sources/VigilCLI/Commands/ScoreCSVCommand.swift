import ArgumentParser
import Foundation
import VigilCore
import VigilPipeline
import VigilRuntime
import VigilTools

struct ScoreCSVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score-csv",
        abstract: "Score a time series in a CSV file with Vigil's anomaly detectors.",
        discussion: """
            Writes timestamp,value,anomaly_score — one row per input row, same order, score in [0, 1] — using the \
            same detectors as the pipelines (threshold proximity, robust z-score, EWMA chart, CUSUM, flatline, \
            data gap, rate of rise, hour-of-day and day-of-week seasonal baseline). The statistical detectors learn the series' own \
            cadence, resolution and tails; their combined score is a tail probability p on the scale \
            -log10(p)/10 (0.6 means p = 1e-6, 1 means p <= 1e-10). --explain adds the detector and p of each row. \
            With --pipeline and --sensor-type, the type's AL1/AL2 levels, direction and \
            delays are used, with the pipeline's anomaly settings (window, warm-up, seasonal baseline, time zone), \
            the type's period as the prior cadence and its stale rule (a gap past max(3 × period, stale_after) \
            scores at least 0.6); otherwise only the statistical detectors score, with the defaults.

            Input: any CSV (LF or CRLF line ends, a UTF-8 byte-order mark, quoted fields), an optional header row. \
            The timestamp is the first column and the value the second, unless --time-column / --value-column name \
            another (by header name or 1-based number). Timestamps: RFC 3339 (2014-04-01T00:00:00Z, …+08:00), a \
            date and time without a zone (2014-04-01 00:00:00[.fff], UTC unless --timezone), or epoch seconds or \
            milliseconds (--epoch-unit; auto takes values below 10^11 as seconds and says so).

            A row that cannot be read stops the run with its line number and exit code 1, unless --skip-bad: then it \
            is skipped and counted. The summary on stderr says rows read, written and skipped; the output never has \
            fewer rows than were read without saying so.

            Examples:
              vigil score-csv readings.csv scored.csv
              vigil score-csv h2s.csv scored.csv --pipeline Pipelines/chemical-park.yaml --sensor-type h2s
              vigil score-csv export.csv scored.csv --value-column temperature --timezone Asia/Shanghai --skip-bad
            """
    )

    @Argument(help: "Input CSV (timestamp and value columns).", completion: .file())
    var input: String

    @Argument(help: "Output CSV (timestamp,value,anomaly_score).", completion: .file())
    var output: String

    @Option(help: "Pipeline file whose sensor type supplies the alarm levels.", completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String?

    @Option(help: "Sensor type name in the pipeline (e.g. flammable_gas).")
    var sensorType: String?

    @Option(help: "The timestamp column: a header name or a 1-based number (default: 1).")
    var timeColumn: String?

    @Option(help: "The value column: a header name or a 1-based number (default: 2).")
    var valueColumn: String?

    @Option(help: "Zone of timestamps written without one: UTC, +08:00, -0500 or a name such as Asia/Shanghai (default: UTC).")
    var timezone: String?

    @Option(help: "Unit of numeric timestamps: auto, seconds or milliseconds.")
    var epochUnit: String = "auto"

    @Flag(help: "Skip rows that cannot be read (counted on stderr) instead of stopping at the first.")
    var skipBad = false

    @Flag(help: "Add the detector that gave each score and its tail probability (…,detector,tail_probability).")
    var explain = false

    func validate() throws {
        if (pipeline == nil) != (sensorType == nil) { throw ValidationError("--pipeline and --sensor-type go together") }
        guard ScoreCSV.EpochUnit(rawValue: epochUnit) != nil else {
            throw ValidationError("--epoch-unit: '\(epochUnit)' is not one of \(ScoreCSV.EpochUnit.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let timezone, Self.zone(timezone) == nil {
            throw ValidationError("--timezone: '\(timezone)' is neither UTC, an offset such as +08:00 nor a zone name such as Asia/Shanghai")
        }
    }

    static func zone(_ text: String) -> TimeZone? {
        if text == "UTC" || text == "Z" { return TimeZone(secondsFromGMT: 0) }
        let digits = text.dropFirst().filter { $0 != ":" }
        if let sign = text.first, sign == "+" || sign == "-", digits.count == 4, let hhmm = Int(digits) {
            let seconds = (hhmm / 100 * 3_600 + hhmm % 100 * 60) * (sign == "-" ? -1 : 1)
            return TimeZone(secondsFromGMT: seconds)
        }
        return TimeZone(identifier: text)
    }

    func run() throws {
        var rule: ThresholdRule? = nil
        var settings = AnomalySettings()
        var period: Int64? = nil
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
            period = type.period
        }
        let text: String
        do {
            text = try String(contentsOfFile: input, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(input): \(error.localizedDescription)")
        }
        var options = ScoreCSV.Options()
        options.timeColumn = timeColumn
        options.valueColumn = valueColumn
        options.timeZone = timezone.flatMap(Self.zone)
        options.epochUnit = ScoreCSV.EpochUnit(rawValue: epochUnit) ?? .auto
        options.skipBad = skipBad
        options.period = period
        options.explain = explain
        let scored: String
        let summary: ScoreCSV.Summary
        do throws(ScoreCSV.Failure) {
            (scored, summary) = try ScoreCSV.score(csv: text, rule: rule, settings: settings, options: options)
        } catch {
            printError("\(input): \(error)")
            throw ExitCode(1)
        }
        do {
            try scored.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("cannot write \(output): \(error.localizedDescription)")
        }
        for s in summary.skipped { printError("\(input): skipped \(s)") }
        if summary.rowsSkipped > summary.skipped.count { printError("\(input): … and \(summary.rowsSkipped - summary.skipped.count) more skipped") }
        var parts = ["read \(summary.rowsRead) rows", "wrote \(summary.rowsWritten)", "skipped \(summary.rowsSkipped)"]
        if summary.hasHeader { parts.append("header row") }
        if let epoch = summary.epoch { parts.append("timestamps: \(epoch)") }
        printError("\(input): \(parts.joined(separator: ", ")) → \(output)")
    }
}
