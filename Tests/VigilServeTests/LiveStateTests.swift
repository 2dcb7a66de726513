import Foundation
import Testing
import VigilTesting
@testable import VigilServe

/// Grade and alert records in the risk.grades / risk.alerts v1 shapes, for the live-state tests.
enum Records {
    static func grade(
        _ enterprise: String, _ level: String, score: Double, ts: Int64, previous: String = "blue", reason: String = "change",
        region: String? = "north", industry: String? = "chemicals", alarm: Double = 10, hazards: Double = 0
    ) -> [UInt8] {
        func q(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "null" }
        return Array(
            """
            {"enterprise":"\(enterprise)","region":\(q(region)),"industry":\(q(industry)),"level":"\(level)","previous_level":"\(previous)",\
            "score":\(score),"seq":1,"ts":\(ts),"reason":"\(reason)","rule_version":"v1",\
            "factors":{"base":40,"alarm":\(alarm),"alarm_weight":0.5,"operations":0,"hazards":\(hazards),"data_quality":0,"credit":0},\
            "inputs":{},"bands":{"red":80,"orange":60,"yellow":40}}
            """.utf8)
    }

    static func alert(
        _ id: String, _ event: String, level: String = "AL1", enterprise: String = "E1", ts: Int64, raisedAt: Int64 = 1_000,
        severity: String? = "yellow", value: Double? = 30, limit: Double? = 25, respondBy: Int64? = 7_201_000, by: String? = nil,
        notify: [String] = ["safety"]
    ) -> [UInt8] {
        let sev = severity.map { "\"\($0)\"" } ?? "null"
        let ack = by.map { ",\"acknowledged_by\":\"\($0)\"" } ?? ""
        let json = """
            {"alert_id":"\(id)","event":"\(event)","level":"\(level)","previous_level":"normal","enterprise":"\(enterprise)",\
            "sensor":"\(enterprise)-GT-1","rule":"flammable_gas","ts":\(ts),"raised_at":\(raisedAt),"value":\(value.map { "\($0)" } ?? "null"),\
            "limit":\(limit.map { "\($0)" } ?? "null"),"direction":"high","severity":\(sev),"respond_by":\(respondBy.map { "\($0)" } ?? "null"),\
            "notify":[\(notify.map { "\"\($0)\"" }.joined(separator: ","))]\(ack)}
            """
        return Array(json.utf8)
    }
}

@Suite struct LiveStateTests {
    /// One alert episode's events, and what the open-alert table holds after them.
    struct AlertCase: CustomTestStringConvertible, Sendable {
        var name: String
        var events: [[UInt8]]
        /// nil: no open alert.
        var level: String?
        var overdue = false
        var acknowledgedBy: String? = nil
        var respondBy: Int64? = nil
        var testDescription: String { name }
    }

    static let alertCases: [AlertCase] = [
        AlertCase(name: "raised stays open", events: [Records.alert("a", "raised", ts: 1_000)], level: "AL1", respondBy: 7_201_000),
        AlertCase(
            name: "raised then cleared ends",
            events: [Records.alert("a", "raised", ts: 1_000), Records.alert("a", "cleared", level: "normal", ts: 5_000)],
            level: nil),
        AlertCase(
            name: "escalated takes the new level, value and deadline",
            events: [
                Records.alert("a", "raised", ts: 1_000),
                Records.alert("a", "escalated", level: "AL2", ts: 2_000, value: 55, limit: 50, respondBy: 3_602_000),
            ], level: "AL2", respondBy: 3_602_000),
        AlertCase(
            name: "overdue marks it and keeps the level",
            events: [
                Records.alert("a", "raised", ts: 1_000),
                Records.alert("a", "overdue", ts: 7_201_000, severity: "orange", value: nil, limit: nil, respondBy: 10_801_000),
            ], level: "AL1", overdue: true, respondBy: 10_801_000),
        AlertCase(
            name: "acknowledged records who",
            events: [
                Records.alert("a", "raised", ts: 1_000), Records.alert("a", "acknowledged", ts: 3_000, value: nil, respondBy: nil, by: "shift B"),
            ],
            level: "AL1", acknowledgedBy: "shift B", respondBy: 7_201_000),
        AlertCase(
            name: "a data gap is open until online",
            events: [Records.alert("g", "offline", level: "OFFLINE", ts: 1_000, severity: nil)], level: "OFFLINE", respondBy: 7_201_000),
        AlertCase(
            name: "offline then online ends",
            events: [Records.alert("g", "offline", level: "OFFLINE", ts: 1_000), Records.alert("g", "online", level: "normal", ts: 9_000)], level: nil
        ),
        AlertCase(
            name: "fault then fault_cleared ends",
            events: [Records.alert("f", "fault", level: "FAULT", ts: 1), Records.alert("f", "fault_cleared", level: "normal", ts: 2)], level: nil),
        AlertCase(
            name: "an episode read from its middle is not shown", events: [Records.alert("a", "escalated", level: "AL2", ts: 2_000)], level: nil),
        AlertCase(name: "threshold_not_set opens nothing", events: [Records.alert("t", "threshold_not_set", level: "normal", ts: 1)], level: nil),
    ]

    @Test("alert episodes open, change and end as their events say", arguments: alertCases)
    func alertLifecycle(_ c: AlertCase) throws {
        var state = LiveState()
        for e in c.events {
            let applied = state.applyAlert(e, at: 1)
            #expect(applied)
        }
        let open = state.alerts(AlertQuery()).items
        guard let level = c.level else {
            #expect(open.isEmpty, "\(open)")
            return
        }
        let a = try #require(open.first)
        #expect(open.count == 1 && a.level == level && a.overdue == c.overdue && a.acknowledgedBy == c.acknowledgedBy && a.respondBy == c.respondBy)
        #expect(state.alerts(try AlertQuery([("state", "overdue")])).items.count == (c.overdue ? 1 : 0))
    }

    @Test("not a record of the schemas: counted, never applied")
    func rejects() {
        var state = LiveState()
        let applied = [
            state.applyGrade(Array("not json".utf8), at: 1), state.applyGrade(Array(#"{"enterprise":"E1","level":"purple"}"#.utf8), at: 1),
            state.applyGrade(Records.grade("E1", "purple", score: 1, ts: 1), at: 1), state.applyAlert(Array(#"{"alert_id":"x"}"#.utf8), at: 1),
        ]
        #expect(applied == [false, false, false, false])
        #expect(state.rejected == 4 && state.enterpriseCount == 0 && state.openAlertCount == 0 && state.updatedAt == 0)
    }

    @Test("grades: current level since its change, 24 h of history, level changes, top factors")
    func portrait() throws {
        var state = LiveState()
        let hour: Int64 = 3_600_000
        state.applyGrade(Records.grade("E1", "blue", score: 30, ts: 0, reason: "heartbeat"), at: 5)
        state.applyGrade(Records.grade("E1", "yellow", score: 45, ts: 10 * hour), at: 6)
        state.applyGrade(Records.grade("E1", "yellow", score: 47, ts: 20 * hour, previous: "yellow", reason: "heartbeat"), at: 7)
        state.applyGrade(Records.grade("E1", "red", score: 85, ts: 30 * hour, previous: "yellow", alarm: 60, hazards: 15), at: 8)
        let p = try #require(state.portrait("E1"))
        #expect(p.summary.level == "red" && p.summary.since == 30 * hour && p.summary.ts == 30 * hour && p.updatedAt == 8)
        // The blue heartbeat at 0 is more than 24 h before the newest (30 h) and has left the timeline.
        #expect(p.history.map(\.ts) == [10 * hour, 20 * hour, 30 * hour])
        #expect(p.changes.map(\.level) == ["yellow", "red"])
        #expect(
            p.summary.topFactors == [API.Factor(factor: "base", value: 40), .init(factor: "alarm", value: 30), .init(factor: "hazards", value: 15)])
        if case .object(let record) = p.grade { #expect(record["score"]?.number == 85) } else { Issue.record("grade is not an object") }
        #expect(state.portrait("E2") == nil)
        // A heartbeat at the same level keeps `since`.
        state.applyGrade(Records.grade("E1", "red", score: 86, ts: 31 * hour, previous: "red", reason: "heartbeat"), at: 9)
        #expect(state.portrait("E1")?.summary.since == 30 * hour)
    }

    @Test("enterprise lists filter, order red first then by score, and page")
    func lists() throws {
        var state = LiveState()
        let rows: [(String, String, Double, String?, String?)] = [
            ("E1", "blue", 10, "north", "chemicals"), ("E2", "red", 81, "north", "mining"), ("E3", "red", 95, "south", "mining"),
            ("E4", "orange", 70, "south", "chemicals"), ("E5", "yellow", 50, nil, nil),
        ]
        for (i, r) in rows.enumerated() {
            state.applyGrade(Records.grade(r.0, r.1, score: r.2, ts: Int64(i), region: r.3, industry: r.4), at: 1)
        }
        func ids(_ pairs: [(String, String)]) throws -> [String] { try state.enterprises(EnterpriseQuery(pairs)).items.map(\.enterprise) }
        #expect(try ids([]) == ["E3", "E2", "E4", "E5", "E1"])
        #expect(try ids([("grade", "red,orange")]) == ["E3", "E2", "E4"])
        #expect(try ids([("region", "north")]) == ["E2", "E1"])
        #expect(try ids([("region", "unknown")]) == ["E5"])
        #expect(try ids([("industry", "mining"), ("grade", "red")]) == ["E3", "E2"])
        #expect(try ids([("limit", "2"), ("offset", "1")]) == ["E2", "E4"])
        #expect(try ids([("offset", "9")]).isEmpty)
        let list = try state.enterprises(EnterpriseQuery([("limit", "2")]))
        #expect(list.total == 5 && list.limit == 2 && list.offset == 0)

        let byRegion = state.heatmap(by: .region)
        #expect(byRegion.cells.map(\.key) == ["north", "south", "unknown"])
        #expect(
            byRegion.cells[0].red == 1 && byRegion.cells[0].blue == 1 && byRegion.cells[0].enterprises == 2 && byRegion.cells[0].newestGradeTs == 1)
        #expect(byRegion.newestGradeTs == 4)
        let byIndustry = state.heatmap(by: .industry)
        #expect(byIndustry.cells.first { $0.key == "mining" }?.red == 2)
        #expect(byIndustry.cells.map(\.enterprises).reduce(0, +) == 5)
    }

    @Test("alerts: overdue first, then by severity; filters by severity, department and enterprise")
    func alertOrderAndFilters() throws {
        var state = LiveState()
        state.applyAlert(Records.alert("a", "raised", enterprise: "E1", ts: 1, raisedAt: 1, severity: "yellow"), at: 1)
        state.applyAlert(Records.alert("b", "raised", enterprise: "E2", ts: 2, raisedAt: 2, severity: "red", notify: ["safety", "fire"]), at: 1)
        state.applyAlert(Records.alert("c", "raised", enterprise: "E1", ts: 3, raisedAt: 3, severity: "yellow"), at: 1)
        state.applyAlert(Records.alert("c", "overdue", enterprise: "E1", ts: 9, raisedAt: 3, severity: "orange", value: nil), at: 1)
        func ids(_ pairs: [(String, String)]) throws -> [String] { try state.alerts(AlertQuery(pairs)).items.map(\.alertID) }
        #expect(try ids([]) == ["c", "b", "a"])
        #expect(try ids([("state", "overdue")]) == ["c"])
        #expect(try ids([("severity", "red,orange")]) == ["c", "b"])
        #expect(try ids([("department", "fire")]) == ["b"])
        #expect(try ids([("enterprise", "E1")]) == ["c", "a"])
        #expect(state.portrait("E1") == nil)  // alerts alone make no portrait
    }

    /// A request with a bad parameter, and the parameter the 400 must name.
    static let badRequests: [(endpoint: String, pairs: [(String, String)], parameter: String)] = [
        ("enterprises", [("grade", "purple")], "grade"), ("enterprises", [("grade", "red,")], "grade"), ("enterprises", [("grade", "")], "grade"),
        ("enterprises", [("limit", "0")], "limit"), ("enterprises", [("limit", "1001")], "limit"), ("enterprises", [("limit", "ten")], "limit"),
        ("enterprises", [("offset", "-1")], "offset"), ("enterprises", [("colour", "red")], "colour"),
        ("enterprises", [("region", "a"), ("region", "b")], "region"), ("alerts", [("state", "open")], "state"),
        ("alerts", [("severity", "AL2")], "severity"), ("alerts", [("department", "")], "department"), ("alerts", [("page", "2")], "page"),
        ("alerts", [("limit", "99999")], "limit"), ("heatmap", [("by", "country")], "by"), ("heatmap", [("grade", "red")], "grade"),
    ]

    @Test("every bad parameter is refused with a 400 naming it")
    func badParameters() {
        for bad in Self.badRequests {
            let thrown: APIError?
            do {
                switch bad.endpoint {
                case "enterprises": _ = try EnterpriseQuery(bad.pairs)
                case "alerts": _ = try AlertQuery(bad.pairs)
                default: _ = try HeatmapQuery(bad.pairs)
                }
                thrown = nil
            } catch {
                thrown = error
            }
            #expect(thrown?.status == 400 && thrown?.parameter == bad.parameter, "\(bad.endpoint) \(bad.pairs): \(String(describing: thrown))")
        }
    }
}

/// Every response shape against its published schema, and back.
@Suite struct APISchemaTests {
    func schema(_ name: String) throws -> MiniJSONSchema { try MiniJSONSchema(path: packageRoot() + "/Schemas/\(name).schema.json") }

    func roundTrip<T: Codable & Equatable>(_ value: T, _ schemaName: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        let violations = try schema(schemaName).validate(json: data)
        #expect(violations.isEmpty, "\(schemaName): \(violations) in \(String(decoding: data, as: UTF8.self))")
        #expect(try JSONDecoder().decode(T.self, from: data) == value)
    }

    @Test("enterprises, portrait, alerts, heat map and errors validate against Schemas/api.v1.* and decode back")
    func responses() throws {
        var state = LiveState()
        state.applyGrade(Records.grade("E1", "red", score: 88, ts: 1_000), at: 7)
        state.applyGrade(Records.grade("E2", "blue", score: 12, ts: 2_000, region: nil, industry: nil), at: 7)
        state.applyAlert(Records.alert("a", "raised", ts: 1_000), at: 7)
        state.applyAlert(Records.alert("b", "offline", level: "OFFLINE", ts: 1_000, severity: nil, value: nil, limit: nil, respondBy: nil), at: 7)
        state.applyAlert(Records.alert("a", "acknowledged", ts: 2_000, by: "shift B"), at: 7)
        try roundTrip(state.enterprises(EnterpriseQuery()), "api.v1.enterprises")
        try roundTrip(try #require(state.portrait("E1")), "api.v1.enterprise")
        try roundTrip(state.alerts(AlertQuery()), "api.v1.alerts")
        try roundTrip(state.heatmap(by: .region), "api.v1.heatmap")
        try roundTrip(LiveState().heatmap(by: .industry), "api.v1.heatmap")
        try roundTrip(APIError(parameter: "grade", "bad").body, "api.v1.error")
        // The schemas are strict: a field they do not name is refused.
        #expect(
            !(try schema("api.v1.heatmap").validate(json: Data(#"{"api_version":"v1","updated_at":0,"by":"region","cells":[],"x":1}"#.utf8)).isEmpty))
    }
}
