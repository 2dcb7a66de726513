import Foundation
import Testing
import VigilCore
@testable import VigilTools

/// `score-csv`'s reading of CSV files people export: line ends, byte-order marks, timestamp forms, columns, and
/// rows it cannot read (never fewer rows written than read without saying so).
@Suite struct ScoreCSVReadingTests {
    static func score(_ csv: String, _ configure: (inout ScoreCSV.Options) -> Void = { _ in }) throws(ScoreCSV.Failure) -> (
        rows: [[String]], summary: ScoreCSV.Summary
    ) {
        var options = ScoreCSV.Options()
        configure(&options)
        let (out, summary) = try ScoreCSV.score(csv: csv, rule: nil, options: options)
        let lines = out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(lines.first == ["timestamp", "value", "anomaly_score"])
        return (Array(lines.dropFirst()), summary)
    }

    /// A regular 5-minute series as pandas writes it.
    static func series(rows: Int, lineEnd: String, header: Bool = true) -> String {
        var lines = header ? ["timestamp,value"] : []
        for i in 0..<rows {
            let minutes = i * 5
            lines.append(String(format: "2014-04-01 %02d:%02d:00,%.1f", minutes / 60 % 24, minutes % 60, 20 + Double(i % 7) * 0.1))
        }
        return lines.joined(separator: lineEnd) + lineEnd
    }

    @Test("LF, CRLF and CR line ends and a byte-order mark give the same rows")
    func lineEndsAndBOM() throws {
        let lf = try Self.score(Self.series(rows: 200, lineEnd: "\n"))
        #expect(lf.rows.count == 200 && lf.summary.rowsRead == 200 && lf.summary.rowsWritten == 200 && lf.summary.hasHeader)
        for variant in [
            Self.series(rows: 200, lineEnd: "\r\n"), Self.series(rows: 200, lineEnd: "\r"), "\u{FEFF}" + Self.series(rows: 200, lineEnd: "\r\n"),
        ] {
            let other = try Self.score(variant)
            #expect(other.rows == lf.rows && other.summary == lf.summary)
        }
    }

    @Test("timestamps without a zone are UTC, or in the given zone; RFC 3339 and epoch seconds or milliseconds are read")
    func timestampForms() throws {
        #expect(ScoreCSV.timestamp("2014-04-01 00:00:00") == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("2014-04-01T00:00:00.250") == 1_396_310_400_250)
        #expect(ScoreCSV.timestamp("2014-04-01 00:00") == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("2014-04-01T08:00:00+08:00") == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("2014-04-01 08:00:00", timeZone: TimeZone(identifier: "Asia/Shanghai")) == 1_396_310_400_000)
        // New York is on summer time (UTC−4) on 1 April.
        #expect(ScoreCSV.timestamp("2014-03-31 20:00:00", timeZone: TimeZone(identifier: "America/New_York")) == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("1396310400", epochUnit: .seconds) == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("1396310400.5", epochUnit: .seconds) == 1_396_310_400_500)
        #expect(ScoreCSV.timestamp("1396310400000") == 1_396_310_400_000)
        #expect(ScoreCSV.timestamp("yesterday") == nil && ScoreCSV.timestamp("2014-13-01 00:00:00") == nil)
        // Epoch units detected from the magnitude, and stated.
        let seconds = try Self.score("1396310400,1\n1396310700,2\n")
        #expect(seconds.summary.epoch == "epoch seconds (detected from line 1)" && !seconds.summary.hasHeader && seconds.rows.count == 2)
        let millis = try Self.score("1396310400000,1\n")
        #expect(millis.summary.epoch == "epoch milliseconds (detected from line 1)")
    }

    @Test("columns by header name or number; extra columns and quoted fields are fine")
    func columns() throws {
        let csv = "id,\"time, UTC\",temperature,note\r\n7,2014-04-01 00:00:00,21.5,\"ok, \"\"fine\"\"\"\r\n8,2014-04-01 00:05:00,21.6,\r\n"
        let byName = try Self.score(csv) {
            $0.timeColumn = "time, UTC"
            $0.valueColumn = "temperature"
        }
        #expect(
            byName.rows.count == 2 && byName.rows[0][0] == "2014-04-01 00:00:00" && byName.rows[0][1] == "21.5"
                && byName.rows[1][0] == "2014-04-01 00:05:00" && byName.rows[1][1] == "21.6")
        let byNumber = try Self.score(csv) {
            $0.timeColumn = "2"
            $0.valueColumn = "3"
        }
        #expect(byNumber.rows.map { $0[0] + "," + $0[1] } == byName.rows.map { $0[0] + "," + $0[1] })
        #expect(throws: ScoreCSV.Failure.self) { _ = try Self.score(csv) { $0.valueColumn = "pressure" } }
    }

    @Test("a row that cannot be read stops the run with its line, or with skip-bad is skipped and counted; no data is an error")
    func badRowsAndEmptyFiles() throws {
        let csv = "timestamp,value\r\n2014-04-01 00:00:00,1\r\n2014-04-01 00:05:00,oops\r\nnoon,3\r\n2014-04-01 00:15:00,4\r\n"
        do {
            _ = try Self.score(csv)
            Issue.record("a bad row was accepted")
        } catch {
            #expect(error.description == "line 3: value 'oops' is not a finite number")
        }
        let skipped = try Self.score(csv) { $0.skipBad = true }
        #expect(skipped.rows.count == 2 && skipped.summary.rowsRead == 4 && skipped.summary.rowsWritten == 2 && skipped.summary.rowsSkipped == 2)
        #expect(skipped.summary.skipped.count == 2 && skipped.summary.skipped[1].hasPrefix("line 4: timestamp 'noon'"))
        for empty in ["", "\r\n", "timestamp,value\r\n", "\u{FEFF}"] {
            #expect(throws: ScoreCSV.Failure.self, "\(empty.debugDescription)") { _ = try Self.score(empty) }
        }
    }
}

/// `score-csv`'s scores on the series of the anomaly issue: a regular cadence and a noise-free daily pattern
/// score as normal; the explanation columns.
@Suite struct ScoreCSVScoringTests {
    static func csv(_ rows: [(Int64, Double)]) -> String {
        "timestamp,value\n" + rows.map { "\($0.0),\($0.1)" }.joined(separator: "\n") + "\n"
    }

    static func scores(_ csv: String, explain: Bool = false) throws -> [[String]] {
        var options = ScoreCSV.Options()
        options.explain = explain
        let (out, summary) = try ScoreCSV.score(csv: csv, rule: nil, options: options)
        let lines = out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(summary.rowsWritten == lines.count - 1)
        return Array(lines.dropFirst())
    }

    @Test("a regular 5-minute series (10,320 rows) is not a run of data gaps: no row scores 0.5")
    func regularCadence() throws {
        var rng = SplitMix64(seed: 3)
        let rows = (0..<10_320).map { i in (1_396_310_400_000 + Int64(i) * 300_000, 20 + 2 * rng.nextGaussian()) }
        let scored = try Self.scores(Self.csv(rows))
        #expect(scored.count == 10_320)
        let high = scored.filter { Double($0[2])! >= 0.5 }
        #expect(high.count <= 3, "\(high.prefix(5))")
    }

    @Test("a noise-free daily pattern with flat stretches (4,032 rows) scores as normal after its first day")
    func noiseFreeDaily() throws {
        // Every 5 minutes for 14 days: a daily wave clipped flat above 25 and below 15, to 2 decimals.
        let rows = (0..<4_032).map { i -> (Int64, Double) in
            let phase = Double(i % 288) / 288 * 2 * Double.pi
            let x = min(25, max(15, 20 + 8 * sin(phase)))
            return (1_396_310_400_000 + Int64(i) * 300_000, (x * 100).rounded() / 100)
        }
        let scored = try Self.scores(Self.csv(rows))
        let high = scored.dropFirst(288).filter { Double($0[2])! >= 0.5 }
        print("NOISE-FREE DAILY: \(high.count) of \(scored.count - 288) rows after the first day score ≥ 0.5")
        #expect(high.count <= 5, "\(high.count) rows ≥ 0.5: \(high.prefix(5))")
    }

    @Test("--explain adds the detector and, for a calibrated score, its tail probability")
    func explanation() throws {
        var rng = SplitMix64(seed: 4)
        var rows = (0..<200).map { i in (Int64(i) * 1_000, 50 + rng.nextGaussian()) }
        rows.append((200_000, 90))
        let scored = try Self.scores(Self.csv(rows), explain: true)
        #expect(scored.allSatisfy { $0.count == 5 })
        let spike = scored.last!
        #expect(Double(spike[2])! >= 0.9 && ["robust_z", "ewma"].contains(spike[3]), "\(spike)")
        let p = Double(spike[4])!
        // The score is −log₁₀(p) / 10, clamped at 1 (p is written with 3 significant digits).
        #expect(p > 0 && p < 1e-8, "\(spike)")
        #expect(abs(Double(spike[2])! - min(1, -log10(p) / 10)) < 0.001, "\(spike)")
        // During the warm-up nothing scores: no detector's tail probability.
        #expect(scored[5][2] == "0.000000" && scored[5][4] == "")
    }
}
