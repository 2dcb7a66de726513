import Foundation
import Yams

/// Walks Yams nodes, converting values and collecting every problem with its position.
struct _Reader {
    let file: String
    let environment: [String: String]
    var issues: [PipelineError.Issue] = []

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    mutating func fail(_ node: Node?, _ path: String, _ message: String, hint: String? = nil) {
        let mark = node?.mark
        issues.append(
            PipelineError.Issue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, path: path, message: message, hint: hint)
        )
    }

    /// A mapping with only `keys` allowed; reports unknown (with a suggestion), duplicate and missing required keys.
    mutating func mapping(_ node: Node, _ path: String, keys: [String], required: [String] = []) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            fail(node, path, "expected a mapping with keys \(keys.joined(separator: ", ")), got \(describe(node))")
            return nil
        }
        var out: [String: Node] = [:]
        for (k, v) in mapping {
            guard case .scalar(let key) = k else {
                fail(k, path, "keys must be plain strings")
                continue
            }
            let name = key.string
            let fieldPath = path.isEmpty ? name : "\(path).\(name)"
            if out[name] != nil {
                fail(k, fieldPath, "duplicate key '\(name)'")
                continue
            }
            if !keys.contains(name) {
                fail(
                    k, fieldPath, "unknown key '\(name)'",
                    hint: suggestion(name, keys).map { "did you mean '\($0)'?" } ?? "expected one of \(keys.joined(separator: ", "))"
                )
                continue
            }
            out[name] = v
        }
        for key in required where out[key] == nil {
            fail(node, path, "missing required key '\(key)'")
        }
        return out
    }

    /// A scalar string, with `${ENV}` interpolation.
    mutating func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            fail(node, path, "expected a string, got \(describe(node))")
            return nil
        }
        switch EnvInterpolation.interpolate(scalar.string, environment: environment) {
        case .success(let s): return s
        case .failure(.missingVariable(let name)):
            fail(node, path, "environment variable '\(name)' is not set", hint: "set it, or write ${\(name):-default}")
            return nil
        case .failure(.unterminated):
            fail(node, path, "unterminated '${' in '\(scalar.string)'", hint: "write $$ for a literal '$'")
            return nil
        }
    }

    mutating func nonEmptyString(_ node: Node, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        if s.isEmpty {
            fail(node, path, "must not be empty")
            return nil
        }
        return s
    }

    /// One string or a list of strings.
    mutating func strings(_ node: Node, _ path: String) -> [String]? {
        if case .sequence(let seq) = node {
            var out: [String] = []
            for (i, item) in seq.enumerated() {
                if let s = nonEmptyString(item, "\(path)[\(i)]") { out.append(s) }
            }
            if out.isEmpty && seq.isEmpty { fail(node, path, "must not be an empty list") }
            return out
        }
        return nonEmptyString(node, path).map { [$0] }
    }

    mutating func number(_ node: Node, _ path: String) -> Double? {
        guard let s = string(node, path) else { return nil }
        guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else {
            fail(node, path, "expected a number, got '\(s)'")
            return nil
        }
        return d
    }

    mutating func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let s = string(node, path) else { return nil }
        guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
            fail(node, path, "expected an integer, got '\(s)'")
            return nil
        }
        guard range.contains(i) else {
            fail(node, path, "expected an integer in \(range.lowerBound)…\(range.upperBound), got \(i)")
            return nil
        }
        return i
    }

    /// A duration: `250ms`, `5s`, `10m`, `2h`, `1d` (combinations such as `1h30m` too). Returns ms.
    mutating func duration(_ node: Node, _ path: String, allowZero: Bool = true) -> Int64? {
        guard let s = string(node, path) else { return nil }
        guard let ms = Self.parseDuration(s) else {
            fail(node, path, "expected a duration such as 500ms, 30s, 5m, 2h or 1d, got '\(s)'")
            return nil
        }
        if !allowZero && ms == 0 {
            fail(node, path, "must be greater than 0")
            return nil
        }
        return ms
    }

    static func parseDuration(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { return nil }
        if s == "0" { return 0 }
        var total: Int64 = 0
        var i = s.startIndex
        while i < s.endIndex {
            var digits = ""
            while i < s.endIndex, s[i].isNumber {
                digits.append(s[i])
                i = s.index(after: i)
            }
            var unit = ""
            while i < s.endIndex, s[i].isLetter {
                unit.append(s[i])
                i = s.index(after: i)
            }
            guard let n = Int64(digits), !unit.isEmpty else { return nil }
            let factor: Int64
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1_000
            case "m", "min": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: return nil
            }
            let (p, o) = n.multipliedReportingOverflow(by: factor)
            guard !o else { return nil }
            total += p
        }
        return total
    }

    /// One of `options`, with a suggestion for near misses.
    mutating func choice(_ node: Node, _ path: String, _ options: [String]) -> String? {
        guard let s = string(node, path) else { return nil }
        guard options.contains(s) else {
            fail(
                node, path, "expected one of \(options.joined(separator: ", ")), got '\(s)'",
                hint: suggestion(s, options).map { "did you mean '\($0)'?" }
            )
            return nil
        }
        return s
    }

    mutating func sequence(_ node: Node, _ path: String) -> [Node]? {
        guard case .sequence(let seq) = node else {
            fail(node, path, "expected a list, got \(describe(node))")
            return nil
        }
        return Array(seq)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// The closest option within a small edit distance.
    func suggestion(_ word: String, _ options: [String]) -> String? {
        let scored = options.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return best
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
