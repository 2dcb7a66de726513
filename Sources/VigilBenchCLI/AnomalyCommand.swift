import ArgumentParser
import Foundation
import VigilCore
import VigilSimulator

extension BenchCommand {
    struct Anomaly: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "anomaly",
            abstract: "Score the detectors on the labelled evaluation set (48 series, 1 s to 1 h cadences).",
            discussion: """
                Generates the evaluation set (deterministic from --seed: clean series and series with spikes, \
                level shifts, variance changes, drifts, flatlines and dropouts; regular, jittered and Poisson \
                timestamps; daily and weekly cycles; quantised, flat and heavy-tailed signals), scores every \
                series with the anomaly scorer and with a windowed-Gaussian baseline, and scores the results \
                NAB-style (anomaly windows, early detection rewarded, false positives penalised; threshold swept \
                once over the whole set). Prints a table, then one JSON line. Not a timing benchmark: the \
                figures are the same on every machine.

                Examples:
                  vigil-bench anomaly
                  vigil-bench anomaly --write-csv /tmp/vigil-eval   # the series and labels as CSV, for score-csv
                  vigil-bench anomaly --explain quantised-5m        # what flags that series, and its anomalies' scores
                """
        )

        @Option(help: "Seed of the evaluation set.")
        var seed: UInt64 = 2026

        @Option(help: "The default threshold (the pipelines' anomalies.floor).")
        var threshold: Double = 0.6

        @Option(help: "Write each series as NAME.csv (timestamp,value) and NAME.labels.csv into this directory.")
        var writeCsv: String?

        @Option(
            help: """
                For each series whose name contains this text: the rows that reach --threshold, by detector, and every \
                detector's score on the first 6 rows of each anomaly (instead of the scores).
                """)
        var explain: String?

        func run() throws {
            let set = EvaluationSet.generate(seed: seed)
            if let explain {
                for s in set where s.name.contains(explain) { print(AnomalyEvaluation.explain(s, threshold: threshold).joined(separator: "\n")) }
                return
            }
            if let dir = writeCsv {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for s in set {
                    try s.csv.write(toFile: "\(dir)/\(s.name).csv", atomically: true, encoding: .utf8)
                    try s.labelsCSV.write(toFile: "\(dir)/\(s.name).labels.csv", atomically: true, encoding: .utf8)
                }
            }
            let report = AnomalyEvaluation.run(set, defaultThreshold: threshold)
            print("\(report.series) series (\(report.cleanSeries) without anomalies), \(report.rows) rows, \(report.windows) anomaly windows")
            print("detector            best  at threshold  recall  precision | at \(threshold): score recall precision")
            func f(_ x: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", x) }
            for l in report.lines {
                let name = l.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                print(
                    "\(name) \(f(l.best.normalized).leftPad(5))  \(f(l.best.threshold, 2).leftPad(12))  \(f(l.best.recall, 2).leftPad(6))  \(f(l.best.precision, 2).leftPad(9)) | \(f(l.atDefault.normalized).leftPad(12)) \(f(l.atDefault.recall, 2).leftPad(6)) \(f(l.atDefault.precision, 2).leftPad(9))"
                )
            }
            let kinds = EvaluationSet.AnomalyKind.allCases.compactMap { k in
                report.detectedByKind[k].map { "\(k.rawValue) \($0.detected)/\($0.windows)" }
            }
            print("combined at \(threshold), windows detected by kind: \(kinds.joined(separator: ", "))")
            let rate = report.cleanRows == 0 ? 0 : Double(report.cleanFlagged) / Double(report.cleanRows)
            print(
                "clean series: \(report.cleanFlagged) of \(report.cleanRows) rows flagged at \(threshold) (\(f(rate * 1_000, 3)) per 1,000) \(report.cleanFlaggedBySeries.sorted { $0.key < $1.key })"
            )
            let lines = report.lines.map {
                "{\"name\":\"\($0.name)\",\"score\":\(json($0.best.normalized)),\"threshold\":\(json($0.best.threshold)),\"recall\":\(json($0.best.recall)),\"precision\":\(json($0.best.precision)),\"score_at_default\":\(json($0.atDefault.normalized)),\"recall_at_default\":\(json($0.atDefault.recall)),\"precision_at_default\":\(json($0.atDefault.precision))}"
            }
            print(
                "{\"workload\":\"anomaly\",\"seed\":\(seed),\"series\":\(report.series),\"rows\":\(report.rows),\"windows\":\(report.windows),\"default_threshold\":\(json(threshold)),\"clean_flagged_per_1000\":\(json(rate * 1_000)),\"detectors\":[\(lines.joined(separator: ","))]}"
            )
        }
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
