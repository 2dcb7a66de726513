/// Everything wrong with a pipeline file, reported at once.
///
/// Each issue names `file:line:column`, the field path, what was expected, and where possible a fix:
///
/// ```
/// Pipelines/plant.yaml:12:11: error: windows[0].kind: expected one of tumbling, hopping, session, got 'tumbing' (did you mean 'tumbling'?)
/// ```
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var column: Int
        /// The field path, e.g. `windows[0].size`.
        public var path: String
        public var message: String
        public var hint: String?

        public init(file: String, line: Int, column: Int, path: String, message: String, hint: String? = nil) {
            self.file = file
            self.line = line
            self.column = column
            self.path = path
            self.message = message
            self.hint = hint
        }

        public var description: String {
            var s = "\(file):\(line):\(column): error: \(path.isEmpty ? "" : path + ": ")\(message)"
            if let hint { s += " (\(hint))" }
            return s
        }
    }

    public var issues: [Issue]
    /// The file's text, for snippets.
    public var source: String

    public init(issues: [Issue], source: String) {
        self.issues = issues
        self.source = source
    }

    /// One line per issue.
    public var description: String { issues.map(\.description).joined(separator: "\n") }

    /// Each issue followed by its source line and a caret under the column.
    public func detailedDescription() -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        return issues.map { issue in
            var s = issue.description
            if issue.line >= 1 && issue.line <= lines.count {
                let text = lines[issue.line - 1]
                s += "\n    " + text + "\n    " + String(repeating: " ", count: max(0, issue.column - 1)) + "^"
            }
            return s
        }.joined(separator: "\n")
    }
}
