public import Foundation
import VigilCore

/// A small JSON Schema (2020-12) validator for the keywords Vigil's schemas use: `type`, `properties`,
/// `required`, `additionalProperties` (boolean or schema), `propertyNames`, `enum`, `minimum`, `minLength`, `maxLength`, `pattern`,
/// `items`, `oneOf`, `$ref` (`#/$defs/…`) and `format: date-time`. It exists so tests can check messages
/// against the published schemas without network access or extra packages.
public struct MiniJSONSchema: @unchecked Sendable {
    // The schema is an immutable JSON tree from JSONSerialization (value types and immutable containers).
    let root: [String: Any]

    public init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    public init(data: Data) throws {
        root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Validates a JSON document; returns the violations (empty when valid).
    public func validate(json: Data) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) else {
            return ["not JSON"]
        }
        return validate(value, against: root, path: "$")
    }

    public func validate(_ value: Any, against schema: [String: Any], path: String) -> [String] {
        var errors: [String] = []
        if let ref = schema["$ref"] as? String {
            let name = ref.replacingOccurrences(of: "#/$defs/", with: "")
            guard let defs = root["$defs"] as? [String: Any], let target = defs[name] as? [String: Any] else {
                return ["\(path): unresolvable $ref \(ref)"]
            }
            errors += validate(value, against: target, path: path)
        }
        if let oneOf = schema["oneOf"] as? [[String: Any]] {
            let matching = oneOf.filter { validate(value, against: $0, path: path).isEmpty }.count
            if matching != 1 { errors.append("\(path): matches \(matching) of oneOf's \(oneOf.count) schemas") }
        }
        if let anyOf = schema["anyOf"] as? [[String: Any]], !anyOf.contains(where: { validate(value, against: $0, path: path).isEmpty }) {
            errors.append("\(path): matches none of anyOf's \(anyOf.count) schemas")
        }
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as! String]
            if !types.contains(where: { Self.isType(value, $0) }) { errors.append("\(path): expected \(types), got \(value)") }
        }
        if let options = schema["enum"] as? [Any] {
            if !options.contains(where: { "\($0)" == "\(value)" }) { errors.append("\(path): \(value) not in enum") }
        }
        if let minimum = schema["minimum"] as? Double, let n = value as? NSNumber, !Self.isBool(value), n.doubleValue < minimum {
            errors.append("\(path): \(n) < minimum \(minimum)")
        }
        if let maximum = schema["maximum"] as? Double, let n = value as? NSNumber, !Self.isBool(value), n.doubleValue > maximum {
            errors.append("\(path): \(n) > maximum \(maximum)")
        }
        if let array = value as? [Any] {
            if let min = schema["minItems"] as? Int, array.count < min { errors.append("\(path): fewer than \(min) items") }
            if let max = schema["maxItems"] as? Int, array.count > max { errors.append("\(path): more than \(max) items") }
        }
        if let s = value as? String {
            if let min = schema["minLength"] as? Int, s.count < min { errors.append("\(path): shorter than \(min)") }
            if let max = schema["maxLength"] as? Int, s.count > max { errors.append("\(path): longer than \(max)") }
            if let pattern = schema["pattern"] as? String, s.range(of: pattern, options: .regularExpression) == nil {
                errors.append("\(path): does not match \(pattern)")
            }
            if schema["format"] as? String == "date-time" {
                let bytes = Array(s.utf8)
                let ok = bytes.withUnsafeBufferPointer { $0.isEmpty ? false : RFC3339.parseMilliseconds($0.baseAddress!, $0.count) != nil }
                if !ok { errors.append("\(path): not an RFC 3339 date-time") }
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                errors.append("\(path): missing required '\(key)'")
            }
            let names = schema["propertyNames"] as? [String: Any]
            for (key, v) in object {
                if let names { errors += validate(key, against: names, path: "\(path) property name") }
                if let sub = properties[key] as? [String: Any] {
                    errors += validate(v, against: sub, path: "\(path).\(key)")
                } else if let sub = schema["additionalProperties"] as? [String: Any] {
                    errors += validate(v, against: sub, path: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    errors.append("\(path): unexpected property '\(key)'")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, v) in array.enumerated() { errors += validate(v, against: items, path: "\(path)[\(i)]") }
        }
        return errors
    }

    static func isBool(_ v: Any) -> Bool {
        if type(of: v) == Bool.self { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    static func isType(_ v: Any, _ type: String) -> Bool {
        switch type {
        case "null": return v is NSNull
        case "boolean": return isBool(v)
        case "object": return v is [String: Any]
        case "array": return v is [Any]
        case "string": return v is String
        case "number": return (v as? NSNumber).map { _ in !isBool(v) } ?? false
        case "integer":
            guard let n = v as? NSNumber, !isBool(v) else { return false }
            return n.doubleValue == n.doubleValue.rounded() && !"\(n)".contains(".") && !"\(n)".contains("e")
        default: return false
        }
    }
}

/// The package root, found from this file's location (Tests/VigilTesting/…).
public func packageRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}
