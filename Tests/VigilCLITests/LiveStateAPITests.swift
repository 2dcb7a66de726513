import Foundation
import Testing
import VigilTesting

/// `vigil serve` against what kcat reads from the same topics: the live state must be exactly the topics'
/// reduction (each enterprise's last grade, each alert episode's last event), for the whole group.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct LiveStateAPITests {
    static let opening: Set<String> = ["raised", "offline", "fault", "frozen", "interrupted"]
    static let ending: Set<String> = ["cleared", "online", "fault_cleared", "unfrozen", "restored"]
    static let levelChanges: Set<String> = ["raised", "escalated", "de-escalated", "offline", "fault", "frozen", "interrupted"]

    /// The expected state, reduced from kcat's records with nothing of Vigil's code.
    struct Expected {
        var latest: [String: [String: Any]] = [:]  // enterprise → last grade record
        var open: Set<String> = []
        var overdue: Set<String> = []

        init(grades: [[String: Any]], alerts: [[String: Any]]) {
            for g in grades { if let e = g["enterprise"] as? String { latest[e] = g } }
            var events: [String: [String]] = [:]
            for a in alerts { if let id = a["alert_id"] as? String, let event = a["event"] as? String { events[id, default: []].append(event) } }
            for (id, list) in events where LiveStateAPITests.opening.contains(list[0]) && !LiveStateAPITests.ending.contains(list.last!) {
                open.insert(id)
                let sinceChange = list.lastIndex { LiveStateAPITests.levelChanges.contains($0) }.map { list[($0 + 1)...] } ?? list[...]
                if sinceChange.contains("overdue") { overdue.insert(id) }
            }
        }

        func enterprises(level: String) -> Set<String> { Set(latest.filter { $0.value["level"] as? String == level }.keys) }

        func cells(by field: String) -> [String: [String: Int]] {
            var cells: [String: [String: Int]] = [:]
            for g in latest.values {
                let key = g[field] as? String ?? "unknown"
                cells[key, default: [:]][g["level"] as? String ?? "?", default: 0] += 1
            }
            return cells
        }
    }

    func ids(_ json: [String: Any], _ field: String) -> Set<String> {
        Set((json["items"] as? [[String: Any]] ?? []).compactMap { $0[field] as? String })
    }

    @Test("red and orange enterprises, open and overdue alerts, heat-map counts and a portrait equal what kcat reads")
    func apiMatchesTopics() throws {
        let stack = try LiveStack()
        defer { stack.stop() }
        let expected = Expected(grades: try stack.topic("risk.grades"), alerts: try stack.topic("risk.alerts"))
        // The stream must have outcomes worth comparing, or the test proves nothing.
        #expect(expected.latest.count == 12, "\(expected.latest.keys.sorted())")
        #expect(!expected.enterprises(level: "red").union(expected.enterprises(level: "orange")).isEmpty, "no red or orange enterprise")
        // The injected readings' alerts are what the topics say too.
        #expect(expected.open.isSuperset(of: [stack.injectedAlerts.open, stack.injectedAlerts.overdue]), "\(expected.open)")
        #expect(expected.overdue.contains(stack.injectedAlerts.overdue) && !expected.overdue.contains(stack.injectedAlerts.open))

        // Table: query → what the topics say.
        let lists: [(String, String, Set<String>)] = [
            ("/api/v1/enterprises?grade=red&limit=1000", "enterprise", expected.enterprises(level: "red")),
            ("/api/v1/enterprises?grade=orange&limit=1000", "enterprise", expected.enterprises(level: "orange")),
            ("/api/v1/enterprises?grade=red,orange,yellow,blue&limit=1000", "enterprise", Set(expected.latest.keys)),
            ("/api/v1/alerts?state=active&limit=1000", "alert_id", expected.open),
            ("/api/v1/alerts?state=overdue&limit=1000", "alert_id", expected.overdue),
        ]
        for (path, field, want) in lists {
            let (status, json) = try stack.api(path)
            #expect(status == 200 && ids(json, field) == want, "\(path): got \(ids(json, field).sorted()), want \(want.sorted())")
            #expect(json["total"] as? Int == want.count, "\(path)")
        }
        for by in ["region", "industry"] {
            let (status, json) = try stack.api("/api/v1/heatmap?by=\(by)")
            var got: [String: [String: Int]] = [:]
            for cell in json["cells"] as? [[String: Any]] ?? [] {
                let key = cell["key"] as? String ?? "?"
                for level in ["red", "orange", "yellow", "blue"] where (cell[level] as? Int ?? 0) > 0 {
                    got[key, default: [:]][level] = cell[level] as? Int
                }
            }
            #expect(status == 200 && got == expected.cells(by: by), "by \(by): \(got) vs \(expected.cells(by: by))")
            let newest = expected.latest.values.compactMap { ($0["ts"] as? NSNumber)?.int64Value }.max()
            #expect((json["newest_grade_ts"] as? NSNumber)?.int64Value == newest)
        }
        // The portrait carries the enterprise's newest grade record unchanged.
        let (id, record) = try #require(expected.latest.sorted { $0.key < $1.key }.first)
        let (status, portrait) = try stack.api("/api/v1/enterprises/\(id)")
        #expect(status == 200 && (portrait["grade"] as? NSDictionary) == (record as NSDictionary), "\(portrait)")
        #expect((portrait["history"] as? [Any])?.isEmpty == false)
        let (missing, error) = try stack.api("/api/v1/enterprises/NOPE")
        #expect(missing == 404 && (error["error"] as? [String: Any])?["parameter"] as? String == "id")
    }
}
