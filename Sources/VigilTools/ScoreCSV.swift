import CSV
public import Foundation
public import VigilCore

/// Scores a time series in a CSV file with the anomaly detectors, for offline evaluation on labelled data.
///
/// The CSV is read with CSV.swift (RFC 4180: quoted fields, LF, CRLF or CR line ends); a UTF-8 byte-order mark
/// is dropped. The first row is a header when its value field is not a number. Timestamps may be RFC 3339
/// (`2014-04-01T00:00:00Z`, `…+08:00`), a date and time without a zone (`2014-04-01 00:00:00[.fff]`, pandas'
/// default: UTC, or in ``Options/timeZone``), or epoch seconds or milliseconds (``Options/epochUnit``; `auto`
/// takes magnitudes below 10¹¹ as seconds and says so in the summary).
public enum ScoreCSV: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The line of the offending row (counting the header; 0 for the file as a whole).
        public var line: Int
        public var message: String
        public var description: String { line > 0 ? "line \(line): \(message)" : message }
    }

    public enum EpochUnit: String, Sendable, CaseIterable {
        case auto, seconds, milliseconds
    }

    public struct Options: Sendable {
        /// The column with the timestamps: a header name or a 1-based number (default: the first).
        public var timeColumn: String? = nil
        /// The column with the values: a header name or a 1-based number (default: the second).
        public var valueColumn: String? = nil
        /// The zone of timestamps written without one (nil: UTC).
        public var timeZone: TimeZone? = nil
        public var epochUnit: EpochUnit = .auto
        /// Skip rows that cannot be read (counted and listed in the summary) instead of failing on the first.
        public var skipBad = false
        /// The point's nominal period (ms): the prior of its cadence (nil: learnt from the first gaps only).
        public var period: Int64? = nil
        /// Add the explanation of each score: the detector that gave it and, for a calibrated detector, the
        /// combined tail probability (`…,detector,tail_probability`).
        public var explain = false
        public init() {}
    }

    public struct Summary: Sendable, Equatable {
        public var rowsRead = 0
        public var rowsWritten = 0
        public var rowsSkipped = 0
        /// Lines of the first skipped rows, with why.
        public var skipped: [String] = []
        public var hasHeader = false
        /// How numeric timestamps were read, when there were any (`epoch seconds (detected)`, …).
        public var epoch: String? = nil
    }

    /// Reads the rows of `csv` and returns `timestamp,value,anomaly_score` rows — one per row read (less the
    /// skipped ones with ``Options/skipBad``), in the same order, the timestamp and value as given, the score in
    /// [0, 1] with 6 decimals (with ``Options/explain`` also the detector and tail probability) — and a summary. Rows must be in time order for the rate and gap detectors (they are
    /// scored as given).
    ///
    /// - Throws: ``Failure`` naming the first row that cannot be read (without ``Options/skipBad``), a missing
    ///   column, malformed CSV, or an input with no data rows.
    public static func score(
        csv: String, rule: ThresholdRule?, settings: AnomalySettings = AnomalySettings(), options: Options = Options()
    ) throws(Failure) -> (csv: String, summary: Summary) {
        let text = csv.hasPrefix("\u{FEFF}") ? String(csv.dropFirst()) : csv
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false, trimFields: true)
        } catch {
            throw Failure(line: 0, message: "not a CSV file: \(error)")
        }
        var summary = Summary()
        var scorer = AnomalyScorer(settings: settings)
        if let period = options.period { scorer.setPeriod(period, slot: 0) }
        var out = options.explain ? "timestamp,value,anomaly_score,detector,tail_probability\n" : "timestamp,value,anomaly_score\n"
        var timeIndex = 0
        var valueIndex = 1
        var epochUnit = options.epochUnit
        var line = 0
        func column(_ spec: String?, default index: Int, header: [String]?) throws(Failure) -> Int {
            guard let spec else { return index }
            if let n = Int(spec) {
                guard n >= 1 else { throw Failure(line: 0, message: "column numbers start at 1, not \(n)") }
                return n - 1
            }
            guard let header else { throw Failure(line: 0, message: "column '\(spec)' is named but the file has no header row") }
            guard let i = header.firstIndex(of: spec) else {
                throw Failure(line: 1, message: "no column '\(spec)' in the header (\(header.joined(separator: ", ")))")
            }
            return i
        }
        func reject(_ message: String) throws(Failure) {
            guard options.skipBad else { throw Failure(line: line, message: message) }
            summary.rowsSkipped += 1
            if summary.skipped.count < 10 { summary.skipped.append("line \(line): \(message)") }
        }
        while let row = reader.next() {
            line += 1
            if row.count == 1 && row[0].isEmpty { continue }  // a blank line
            if line == 1 {
                // A header: the value field is not a number, or a column is chosen by name.
                let valueGuess = options.valueColumn.flatMap { Int($0).map { $0 - 1 } } ?? 1
                let looksLikeData = valueGuess < row.count && Double(row[valueGuess]) != nil
                let namesColumns = [options.timeColumn, options.valueColumn].contains { $0.map { Int($0) == nil } ?? false }
                if !looksLikeData || namesColumns {
                    summary.hasHeader = true
                    timeIndex = try column(options.timeColumn, default: 0, header: row)
                    valueIndex = try column(options.valueColumn, default: 1, header: row)
                    continue
                }
                timeIndex = try column(options.timeColumn, default: 0, header: nil)
                valueIndex = try column(options.valueColumn, default: 1, header: nil)
            }
            summary.rowsRead += 1
            guard timeIndex < row.count, valueIndex < row.count else {
                try reject("expected at least \(max(timeIndex, valueIndex) + 1) fields, got \(row.count) ('\(row.joined(separator: ","))')")
                continue
            }
            let timeText = row[timeIndex]
            let valueText = row[valueIndex]
            guard let value = Double(valueText), value.isFinite else {
                try reject("value '\(valueText)' is not a finite number")
                continue
            }
            if epochUnit == .auto, let x = Double(timeText), x.isFinite {
                epochUnit = x.magnitude < 1e11 ? .seconds : .milliseconds
                summary.epoch = "epoch \(epochUnit.rawValue) (detected from line \(line))"
            } else if summary.epoch == nil, epochUnit != .auto, Double(timeText) != nil {
                summary.epoch = "epoch \(epochUnit.rawValue)"
            }
            guard let t = timestamp(timeText, epochUnit: epochUnit, timeZone: options.timeZone) else {
                try reject("timestamp '\(timeText)' is neither RFC 3339, 'YYYY-MM-DD HH:MM:SS[.fff]' nor epoch seconds or milliseconds")
                continue
            }
            let s = scorer.score(slot: 0, time: t, value: value, rule: rule)
            out += "\(csvField(timeText)),\(csvField(valueText)),\(String(format: "%.6f", s.score))"
            if options.explain { out += ",\(s.detector.rawValue),\(s.tailProbability.map { String(format: "%.3g", $0) } ?? "")" }
            out += "\n"
            summary.rowsWritten += 1
        }
        if let error = reader.error { throw Failure(line: line + 1, message: "malformed CSV: \(error)") }
        guard summary.rowsRead > 0 else { throw Failure(line: 0, message: "no data rows (\(summary.hasHeader ? "a header only" : "an empty file"))") }
        return (out, summary)
    }

    /// The instant of `text` in ms: epoch (in `epochUnit`; `.auto` reads milliseconds), RFC 3339, or a date and
    /// time without a zone, taken in `timeZone` (nil: UTC).
    static func timestamp(_ text: String, epochUnit: EpochUnit = .milliseconds, timeZone: TimeZone? = nil) -> Int64? {
        if let x = Double(text), x.isFinite {
            let ms = epochUnit == .seconds ? x * 1_000 : x
            guard ms.magnitude < 9e15 else { return nil }
            return Int64(ms.rounded(.down))
        }
        var bytes = Array(text.utf8)
        guard bytes.count >= 16 else { return nil }
        if let t = bytes.withUnsafeBufferPointer({ RFC3339.parseMilliseconds($0.baseAddress!, $0.count) }) { return t }
        // No zone: read it as UTC, then move it by the zone's offset at that time.
        if bytes.count == 16 { bytes += Array(":00".utf8) }  // YYYY-MM-DD HH:MM
        bytes += [UInt8(ascii: "Z")]
        guard let utc = bytes.withUnsafeBufferPointer({ RFC3339.parseMilliseconds($0.baseAddress!, $0.count) }) else { return nil }
        guard let timeZone else { return utc }
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utc) / 1_000))) * 1_000
        return utc - offset
    }

    /// `text` as a CSV field (quoted when it holds a comma, a quote or a line break).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
