import Foundation
import Testing
import VigilTesting

/// A W3C WebDriver session in headless Chromium, through Debian's chromedriver, spoken with curl.
final class Browser {
    let driver = Process()
    let port: Int
    let session: String
    let logPath = NSTemporaryDirectory() + "vigil-chromedriver-\(UUID().uuidString.prefix(8)).log"

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts chromedriver and a headless Chromium session; fails loudly (never skips) when either cannot run.
    init() throws {
        for tool in ["/usr/bin/chromedriver", "/usr/bin/chromium"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw Failure(description: "\(tool) is missing: the dashboard test needs Debian's chromium and chromium-driver (scripts/install-deps.sh)")
        }
        port = Int.random(in: 20_000..<30_000)
        driver.executableURL = URL(fileURLWithPath: "/usr/bin/chromedriver")
        driver.arguments = ["--port=\(port)", "--log-path=\(logPath)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        var ready = false
        for _ in 0..<100 where !ready {
            ready =
                (try? Self.request("GET", "http://127.0.0.1:\(port)/status"))?["value"].flatMap { ($0 as? [String: Any])?["ready"] as? Bool } == true
            if !ready { usleep(100_000) }
        }
        guard ready else {
            kill(driver.processIdentifier, SIGKILL)
            throw Failure(description: "chromedriver did not become ready on port \(port)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"],
                    ],
                ]
            ]
        ]
        let created = try Self.request("POST", "http://127.0.0.1:\(port)/session", capabilities)
        guard let value = created["value"] as? [String: Any], let id = value["sessionId"] as? String else {
            kill(driver.processIdentifier, SIGKILL)
            throw Failure(description: "Chromium did not start a session: \(created)")
        }
        session = id
    }

    func close() {
        _ = try? Self.request("DELETE", "http://127.0.0.1:\(port)/session/\(session)")
        // The session is closed (Chromium has quit); chromedriver inherits the test process's ignored SIGTERM,
        // so it is killed.
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    static func request(_ method: String, _ url: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        var args = ["-s", "--max-time", "60", "-X", method, url]
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body)
            args += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: data, as: UTF8.self)]
        }
        let (_, out, _) = try runProcess("/usr/bin/curl", args)
        return (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]) ?? [:]
    }

    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        let answer = try Self.request(method, "http://127.0.0.1:\(port)/session/\(session)\(path)", body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "WebDriver \(path): \(error): \(value["message"] ?? "")")
        }
        return answer["value"]
    }

    func open(_ url: String) throws { _ = try command("POST", "/url", ["url": url]) }

    /// Runs JavaScript in the page and returns its result.
    func script(_ source: String) throws -> Any? { try command("POST", "/execute/sync", ["script": source, "args": []]) }

    /// Waits until `source` (a JavaScript expression) is true.
    func wait(_ source: String, seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try script("return !!(\(source));") as? Bool == true { return true }
            usleep(200_000)
        }
        return false
    }

    func screenshot(to path: String) throws {
        guard let base64 = try command("GET", "/screenshot") as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// The dashboard in a real browser over the whole stack (broker, simulator, pipeline, `vigil serve`): what the
/// page shows must be what the API answers.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct DashboardBrowserTests {
    @Test("the heat map and the red list in the DOM match the API; clicking an enterprise shows its portrait")
    func dashboardInChromium() throws {
        let stack = try LiveStack()
        defer { stack.stop() }
        let browser: Browser
        do {
            browser = try Browser()
        } catch {
            Issue.record("HEADLESS CHROMIUM COULD NOT RUN, so the dashboard is untested: \(error)")
            return
        }
        defer { browser.close() }
        try browser.open("http://127.0.0.1:\(stack.port)/")
        #expect(
            try browser.wait(
                "document.querySelector('#heatmap tbody tr[data-key]') && document.querySelector('#hot li[data-enterprise]')", seconds: 30))
        #expect(try browser.wait("document.querySelector('#updated').textContent.startsWith('last updated')", seconds: 10))

        // Heat-map cells: the DOM's counts per region and grade against the API's.
        let domCells =
            try browser.script(
                """
                return Array.from(document.querySelectorAll('#heatmap tbody tr[data-key]')).map(tr =>
                  [tr.dataset.key].concat(['red','orange','yellow','blue','all'].map(g => Number(tr.querySelector('td[data-grade="' + g + '"]').textContent))));
                """) as? [[Any]] ?? []
        let (_, heatmap) = try stack.api("/api/v1/heatmap?by=region")
        let apiCells = (heatmap["cells"] as? [[String: Any]] ?? []).map { c -> [String] in
            [c["key"] as? String ?? ""] + ["red", "orange", "yellow", "blue", "enterprises"].map { "\(c[$0] as? Int ?? -1)" }
        }
        let domText = domCells.map { row in row.map { v in (v as? NSNumber).map { "\($0.intValue)" } ?? "\(v)" } }
        #expect(!apiCells.isEmpty && domText == apiCells, "DOM \(domText) vs API \(apiCells)")

        // The red and orange list, in the API's order.
        let domHot =
            try browser.script("return Array.from(document.querySelectorAll('#hot li[data-enterprise]')).map(li => li.dataset.enterprise);")
            as? [String] ?? []
        let (_, hot) = try stack.api("/api/v1/enterprises?grade=red,orange&limit=50")
        let apiHot = (hot["items"] as? [[String: Any]] ?? []).compactMap { $0["enterprise"] as? String }
        #expect(!apiHot.isEmpty && domHot == apiHot, "DOM \(domHot) vs API \(apiHot)")
        let domRed = try browser.script("return Array.from(document.querySelectorAll('#hot li[data-enterprise] .badge.red')).length;") as? Int
        let (_, red) = try stack.api("/api/v1/enterprises?grade=red&limit=1000")
        #expect(domRed == red["total"] as? Int)

        // The alert board has the API's open alerts.
        let domAlerts = try browser.script("return document.querySelectorAll('#alerts tr[data-alert]').length;") as? Int
        let (_, alerts) = try stack.api("/api/v1/alerts?state=active&limit=100")
        #expect(domAlerts == (alerts["items"] as? [Any])?.count)

        // Click-through to a portrait with its timeline chart.
        let first = try #require(apiHot.first)
        _ = try browser.script("document.querySelector('#hot li[data-enterprise=\"\(first)\"]').click(); return true;")
        #expect(
            try browser.wait(
                "document.querySelector('#portrait').dataset.enterprise === '\(first)' && !document.querySelector('#portrait').hidden", seconds: 10))
        #expect(try browser.wait("document.querySelector('#timeline path') !== null", seconds: 10))
        let title = try browser.script("return document.querySelector('#portrait-title').textContent;") as? String ?? ""
        #expect(title.hasPrefix(first), "\(title)")

        let shots = packageRoot() + "/.build/screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        try browser.screenshot(to: shots + "/dashboard.png")
        #expect(FileManager.default.fileExists(atPath: shots + "/dashboard.png"))
    }
}
