import Foundation

/// `${NAME}` and `${NAME:-default}` interpolation in pipeline values.
///
/// `$$` writes a literal `$`. A `${NAME}` whose variable is unset (and has no default) is an error naming it.
public enum EnvInterpolation: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case missingVariable(String)
        case unterminated
    }

    public static func interpolate(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        guard text.contains("$") else { return .success(text) }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "$" {
                let next = text.index(after: i)
                if next < text.endIndex && text[next] == "$" {
                    out.append("$")
                    i = text.index(after: next)
                    continue
                }
                if next < text.endIndex && text[next] == "{" {
                    guard let close = text[next...].firstIndex(of: "}") else { return .failure(.unterminated) }
                    let body = text[text.index(after: next)..<close]
                    let name: Substring
                    var fallback: Substring? = nil
                    if let sep = body.range(of: ":-") {
                        name = body[..<sep.lowerBound]
                        fallback = body[sep.upperBound...]
                    } else {
                        name = body
                    }
                    if let value = environment[String(name)], !(fallback != nil && value.isEmpty) {
                        out += value
                    } else if let fallback {
                        out += fallback
                    } else {
                        return .failure(.missingVariable(String(name)))
                    }
                    i = text.index(after: close)
                    continue
                }
            }
            out.append(c)
            i = text.index(after: i)
        }
        return .success(out)
    }
}
