/// The query API's response shapes (version 1). Each is published as a JSON Schema in `Schemas/`
/// (`api.v1.*.schema.json`); the field names are the wire names.
public enum API: Sendable {
    public static let version = "v1"

    /// A grade's factor contribution to R_dyn (`DOMAIN.md` §4.3): base, alarm (w·A), operations, hazards,
    /// data_quality, credit.
    public struct Factor: Codable, Sendable, Equatable {
        public var factor: String
        public var value: Double
    }

    /// One enterprise's current grade.
    public struct EnterpriseSummary: Codable, Sendable, Equatable {
        public var enterprise: String
        public var region: String?
        public var industry: String?
        public var level: String
        public var score: Double
        /// Event time (ms) of the grade record that moved the enterprise to its current level.
        public var since: Int64
        /// Event time (ms) of its newest grade record.
        public var ts: Int64
        /// The largest contributions to the score, largest first (at most 3, none of 0).
        public var topFactors: [Factor]
        /// The §4.3 overrides in force (the grade record's `inputs.overrides`): why a level can be above the
        /// score's band.
        public var overrides: [String] = []

        enum CodingKeys: String, CodingKey {
            case enterprise, region, industry, level, score, since, ts, overrides
            case topFactors = "top_factors"
        }
    }

    /// A page of a list endpoint: `GET /api/v1/enterprises` (``EnterpriseList``), `GET /api/v1/alerts`
    /// (``AlertList``).
    public struct PagedList<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
        public var apiVersion = API.version
        public var updatedAt: Int64
        /// Items matching the filters, of which `items` are `offset ..< offset + limit`.
        public var total: Int
        public var offset: Int
        public var limit: Int
        public var items: [Item]

        enum CodingKeys: String, CodingKey {
            case apiVersion = "api_version"
            case updatedAt = "updated_at"
            case total, offset, limit, items
        }
    }

    public typealias EnterpriseList = PagedList<EnterpriseSummary>
    public typealias AlertList = PagedList<OpenAlert>

    /// One point of an enterprise's grade timeline.
    public struct GradePoint: Codable, Sendable, Equatable {
        public var ts: Int64
        public var level: String
        public var score: Double
        /// `change` or `heartbeat`.
        public var reason: String
    }

    /// `GET /api/v1/enterprises/{id}`: the risk portrait.
    public struct Portrait: Codable, Sendable, Equatable {
        public var apiVersion = API.version
        public var updatedAt: Int64
        public var summary: EnterpriseSummary
        /// The newest grade record itself (the `risk.grades` v1 schema), as `vigil explain --json` prints it.
        public var grade: JSONValue
        /// The grade records of the 24 h (event time) before the newest, oldest first.
        public var history: [GradePoint]
        /// The level changes among them.
        public var changes: [GradePoint]
        /// The enterprise's open alerts.
        public var openAlerts: [OpenAlert]

        enum CodingKeys: String, CodingKey {
            case apiVersion = "api_version"
            case updatedAt = "updated_at"
            case summary, grade, history, changes
            case openAlerts = "open_alerts"
        }
    }

    /// An alert episode that has not ended (raised, escalated, overdue or acknowledged; not cleared).
    public struct OpenAlert: Codable, Sendable, Equatable {
        public var alertID: String
        public var enterprise: String
        public var sensor: String?
        public var rule: String
        public var level: String
        public var severity: String?
        public var direction: String
        /// Event time (ms) the episode was raised.
        public var raisedAt: Int64
        /// The reading and limit of the episode's latest level change.
        public var value: Double?
        public var limit: Double?
        public var respondBy: Int64?
        /// True once the pipeline has written an `overdue` record for the episode.
        public var overdue: Bool
        public var acknowledgedBy: String?
        public var acknowledgedAt: Int64?
        public var notify: [String]
        /// The episode's latest event and its event time.
        public var lastEvent: String
        public var ts: Int64

        enum CodingKeys: String, CodingKey {
            case alertID = "alert_id"
            case enterprise, sensor, rule, level, severity, direction
            case raisedAt = "raised_at"
            case value, limit
            case respondBy = "respond_by"
            case overdue
            case acknowledgedBy = "acknowledged_by"
            case acknowledgedAt = "acknowledged_at"
            case notify
            case lastEvent = "last_event"
            case ts
        }
    }

    /// One cell of the heat map: a region or an industry, with its enterprises counted by current grade.
    public struct HeatmapCell: Codable, Sendable, Equatable {
        public var key: String
        public var red: Int
        public var orange: Int
        public var yellow: Int
        public var blue: Int
        public var enterprises: Int
        /// Event time (ms) of the newest grade in the cell.
        public var newestGradeTs: Int64

        enum CodingKeys: String, CodingKey {
            case key, red, orange, yellow, blue, enterprises
            case newestGradeTs = "newest_grade_ts"
        }
    }

    /// `GET /api/v1/heatmap`.
    public struct Heatmap: Codable, Sendable, Equatable {
        public var apiVersion = API.version
        public var updatedAt: Int64
        /// `region` or `industry`.
        public var by: String
        /// Event time (ms) of the newest grade of all.
        public var newestGradeTs: Int64?
        public var cells: [HeatmapCell]

        enum CodingKeys: String, CodingKey {
            case apiVersion = "api_version"
            case updatedAt = "updated_at"
            case by
            case newestGradeTs = "newest_grade_ts"
            case cells
        }
    }

    /// Every 4xx answer: which parameter was wrong and why.
    public struct ErrorBody: Codable, Sendable, Equatable {
        public struct Detail: Codable, Sendable, Equatable {
            public var status: Int
            public var parameter: String?
            public var message: String
        }
        public var error: Detail
    }
}
