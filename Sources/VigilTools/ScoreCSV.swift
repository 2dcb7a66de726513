import Foundation
import VigilRuntime
public import VigilCore

/// Scores a `timestamp,value` time series with the anomaly detectors, for offline evaluation on labelled data.
public enum ScoreCSV: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads `timestamp,value` rows (timestamp: ms since the epoch or RFC 3339; an optional header line) and
    /// returns `timestamp,value,anomaly_score` rows: one per input row, in the same order, scores in [0, 1]
    /// with 6 decimals. Rows must be in time order for the rate and gap detectors (they are scored as given).
    ///
    /// - Throws: ``Failure`` naming the first malformed line.
    public static func score(csv: String, rule: ThresholdRule?, settings: AnomalySettings = AnomalySettings()) throws -> String {
        var scorer = AnomalyScorer(settings: settings)
        var out = "timestamp,value,anomaly_score\n"
        var lineNumber = 0
        for raw in csv.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2 else { throw Failure(line: lineNumber, message: "expected 'timestamp,value', got '\(line)'") }
            guard let value = Double(fields[1]), value.isFinite else {
                if lineNumber == 1 && Double(fields[1]) == nil { continue }  // a header
                throw Failure(line: lineNumber, message: "value '\(fields[1])' is not a finite number")
            }
            guard let t = timestamp(fields[0]) else {
                throw Failure(line: lineNumber, message: "timestamp '\(fields[0])' is neither ms since the epoch nor RFC 3339")
            }
            let s = scorer.score(slot: 0, time: t, value: value, rule: rule)
            out += "\(fields[0]),\(fields[1]),\(String(format: "%.6f", s.score))\n"
        }
        return out
    }

    static func timestamp(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        if let d = Double(text), d.isFinite { return Int64(d) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { $0.isEmpty ? nil : RFC3339.parseMilliseconds($0.baseAddress!, $0.count) }
    }
}
