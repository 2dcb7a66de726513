/// A request the API refuses: a 4xx with the parameter at fault.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var parameter: String?
    public var message: String
    public init(status: Int = 400, parameter: String?, _ message: String) {
        self.status = status
        self.parameter = parameter
        self.message = message
    }
    public var body: API.ErrorBody { API.ErrorBody(error: .init(status: status, parameter: parameter, message: message)) }
}

/// A request's query parameters, checked: each may appear once and must be one the endpoint knows.
public struct QueryParameters: Sendable {
    private var values: [String: String]

    /// - Throws: ``APIError`` naming an unknown or repeated parameter.
    public init(_ pairs: [(String, String)], allowed: Set<String>) throws(APIError) {
        values = [:]
        for (name, value) in pairs {
            guard allowed.contains(name) else {
                throw APIError(parameter: name, "unknown parameter '\(name)'; this endpoint takes \(allowed.sorted().joined(separator: ", "))")
            }
            guard values[name] == nil else { throw APIError(parameter: name, "parameter '\(name)' given twice") }
            values[name] = value
        }
    }

    /// A plain value; empty is refused.
    public func string(_ name: String) throws(APIError) -> String? {
        guard let v = values[name] else { return nil }
        guard !v.isEmpty else { throw APIError(parameter: name, "parameter '\(name)' is empty") }
        return v
    }

    /// A comma-separated list, each item checked against `allowed` when given.
    public func list(_ name: String, allowed: [String]? = nil) throws(APIError) -> Set<String> {
        guard let v = try string(name) else { return [] }
        let items = v.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
        for item in items {
            guard !item.isEmpty else { throw APIError(parameter: name, "parameter '\(name)' has an empty item") }
            if let allowed, !allowed.contains(item) {
                throw APIError(parameter: name, "'\(item)' is not a valid \(name); use one of \(allowed.joined(separator: ", "))")
            }
        }
        return Set(items)
    }

    /// One of an enum's values, by its raw value.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, of type: T.Type) throws(APIError) -> T? where T.RawValue == String {
        guard let v = try string(name) else { return nil }
        guard let value = T(rawValue: v) else {
            let all = T.allCases.map(\.rawValue).joined(separator: " or ")
            throw APIError(parameter: name, "'\(v)' is not a valid \(name); use \(all)")
        }
        return value
    }

    /// A whole number in `range`.
    public func int(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let v = try string(name) else { return nil }
        guard let n = Int(v), range.contains(n) else {
            throw APIError(parameter: name, "parameter '\(name)' must be a whole number in \(range.lowerBound)…\(range.upperBound), not '\(v)'")
        }
        return n
    }
}

/// `limit` and `offset` of the list endpoints.
public struct Page: Sendable, Equatable {
    public static let defaultLimit = 100
    public static let maxLimit = 1_000
    public var limit = Page.defaultLimit
    public var offset = 0
    public init(limit: Int = Page.defaultLimit, offset: Int = 0) {
        self.limit = limit
        self.offset = offset
    }

    init(_ p: QueryParameters) throws(APIError) {
        limit = try p.int("limit", in: 1...Self.maxLimit) ?? Self.defaultLimit
        offset = try p.int("offset", in: 0...Int(Int32.max)) ?? 0
    }

    func slice<T>(_ all: [T]) -> [T] {
        guard offset < all.count else { return [] }
        return Array(all[offset..<min(all.count, offset + limit)])
    }
}

let grades = ["red", "orange", "yellow", "blue"]

/// `GET /api/v1/enterprises?grade=red,orange&region=…&industry=…&limit=…&offset=…`
public struct EnterpriseQuery: Sendable, Equatable {
    public var grades: Set<String> = []
    /// Regions and industries match exactly; `unknown` matches enterprises without a profile.
    public var regions: Set<String> = []
    public var industries: Set<String> = []
    public var page = Page()
    public init() {}

    public init(_ pairs: [(String, String)]) throws(APIError) {
        let p = try QueryParameters(pairs, allowed: ["grade", "region", "industry", "limit", "offset"])
        grades = try p.list("grade", allowed: VigilServe.grades)
        regions = try p.list("region")
        industries = try p.list("industry")
        page = try Page(p)
    }
}

/// `GET /api/v1/alerts?state=active|overdue&severity=…&department=…&enterprise=…&limit=…&offset=…`
public struct AlertQuery: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable { case active, overdue }
    public var state = State.active
    public var severities: Set<String> = []
    public var department: String?
    public var enterprise: String?
    public var page = Page()
    public init() {}

    public init(_ pairs: [(String, String)]) throws(APIError) {
        let p = try QueryParameters(pairs, allowed: ["state", "severity", "department", "enterprise", "limit", "offset"])
        state = try p.choice("state", of: State.self) ?? .active
        severities = try p.list("severity", allowed: VigilServe.grades)
        department = try p.string("department")
        enterprise = try p.string("enterprise")
        page = try Page(p)
    }
}

/// `GET /api/v1/heatmap?by=region|industry`
public struct HeatmapQuery: Sendable, Equatable {
    public enum Dimension: String, Sendable, CaseIterable { case region, industry }
    public var by = Dimension.region

    public init(_ pairs: [(String, String)]) throws(APIError) {
        let p = try QueryParameters(pairs, allowed: ["by"])
        by = try p.choice("by", of: Dimension.self) ?? .region
    }
}
