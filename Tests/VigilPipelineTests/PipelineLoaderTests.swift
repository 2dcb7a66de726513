import Foundation
import Testing
import VigilCore
import VigilPipeline
import VigilTesting
import Yams

let pipelinesDirectory = packageRoot() + "/Pipelines"
let fixturesDirectory = packageRoot() + "/Tests/VigilPipelineTests/Fixtures"

func files(in directory: String, ext: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(ext) }.sorted()
}

@Suite struct PipelineLoaderTests {
    static let shipped = files(in: pipelinesDirectory, ext: ".yaml")
    static let invalid = files(in: fixturesDirectory + "/invalid", ext: ".yaml")

    @Test func shipsTheFivePipelines() {
        #expect(Self.shipped == ["chemical-park.yaml", "coal-mine.yaml", "construction-site.yaml", "dust-explosion.yaml", "regional-heatmap.yaml"])
    }

    @Test("Every shipped pipeline validates with Vigil and against Schemas/pipeline.v1.schema.json", arguments: shipped)
    func shippedPipelineValidates(file: String) throws {
        let path = pipelinesDirectory + "/" + file
        do {
            _ = try PipelineLoader.load(path: path, environment: [:])
        } catch {
            Issue.record("\(file):\n\(error.detailedDescription())")
        }
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/pipeline.v1.schema.json")
        let yaml = try String(contentsOfFile: path, encoding: .utf8)
        let object = try #require(try Yams.load(yaml: yaml))
        let json = try JSONSerialization.data(withJSONObject: object)
        #expect(schema.validate(json: json).isEmpty, "\(file): \(schema.validate(json: json))")
    }

    @Test("the pipeline schema rejects what the loader rejects: a route without levels or kinds, a range of one number")
    func schemaRejectsBadRoutesAndRanges() throws {
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/pipeline.v1.schema.json")
        func errors(_ yaml: String) throws -> [String] {
            let object = try #require(try Yams.load(yaml: yaml))
            return schema.validate(json: try JSONSerialization.data(withJSONObject: object))
        }
        let base = "version: 1\nname: p\nsources: { readings: t }\n"
        #expect(try errors(base + "alerts: { routes: [{ kinds: [instrument], topic: e }] }").isEmpty)
        #expect(try errors(base + "alerts: { routes: [{ topic: e }] }").contains { $0.contains("anyOf") })
        #expect(try errors(base + "sensor_types: { gas: { match: [-GT-], al1: 25, range: [0] } }").contains { $0.contains("fewer than 2") })
    }

    @Test("Invalid fixtures yield exactly their golden messages", arguments: invalid)
    func invalidFixtureMatchesGolden(file: String) throws {
        let yaml = try String(contentsOfFile: fixturesDirectory + "/invalid/" + file, encoding: .utf8)
        let expectedPath = fixturesDirectory + "/invalid/" + file.replacingOccurrences(of: ".yaml", with: ".expected")
        var actual = ""
        do {
            _ = try PipelineLoader.parse(yaml: yaml, file: file, environment: ["VIGIL_TEST_PROTOCOL": "SSL"])
            Issue.record("\(file) was accepted")
        } catch {
            actual = error.description + "\n"
        }
        if ProcessInfo.processInfo.environment["VIGIL_UPDATE_GOLDEN"] != nil {
            try actual.write(toFile: expectedPath, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: expectedPath, encoding: .utf8)
        #expect(actual == expected)
    }

    @Test("A minimal file is ten lines and gets the documented defaults")
    func minimalFileDefaults() throws {
        let yaml = """
            version: 1
            name: plant
            sources:
              readings: safety.readings
            windows:
              - name: minute
                kind: tumbling
                size: 1m
            """
        let spec = try PipelineLoader.parse(yaml: yaml, file: "minimal.yaml")
        #expect(spec.consumerGroup == "vigil.plant")
        #expect(spec.brokers == "127.0.0.1:9092")
        #expect(spec.sources.readings?.topics == ["safety.readings"])
        #expect(spec.sources.readings?.outOfOrderness == 5_000 && spec.sources.readings?.idleTimeout == 60_000)
        #expect(spec.windows.first?.window == WindowSpec(kind: .tumbling(size: 60_000)))
        #expect(spec.sinks.windowStats == "risk.window-stats" && spec.sinks.deadLetters == "risk.dlq")
        #expect(spec.checkpoint.store == .directory && spec.checkpoint.interval == 5_000)
        #expect(spec.risk.red == 80 && spec.risk.orange == 60 && spec.risk.yellow == 40)
        #expect(spec.alerts.deadlines[.red] == 300_000)
        #expect(spec.metrics.port == 9464)
        #expect(spec.workers == nil)
        let four = try PipelineLoader.parse(yaml: yaml + "\nworkers: 4\n", file: "workers.yaml")
        #expect(four.workers == 4)
    }

    @Test func environmentInterpolation() throws {
        let yaml = """
            name: plant
            brokers: ${BROKERS}
            kafka: { sasl.username: "${USER_NAME:-vigil}", note: "costs $$5" }
            sources: { readings: "${TOPIC:-safety.readings}" }
            """
        let spec = try PipelineLoader.parse(yaml: yaml, file: "env.yaml", environment: ["BROKERS": "k1:9092,k2:9092"])
        #expect(spec.brokers == "k1:9092,k2:9092")
        #expect(spec.kafka["sasl.username"] == "vigil" && spec.kafka["note"] == "costs $5")
        #expect(spec.sources.readings?.topics == ["safety.readings"])
    }

    @Test func chemicalParkCarriesTheDomainAlarmLevels() throws {
        let spec = try PipelineLoader.load(path: pipelinesDirectory + "/chemical-park.yaml", environment: [:])
        let gas = try #require(spec.sensorTypes.first { $0.name == "flammable_gas" })
        #expect(gas.alarm1 == 25 && gas.alarm2 == 50 && gas.unit == "%LEL")
        let h2s = try #require(spec.sensorTypes.first { $0.name == "h2s" })
        #expect(h2s.alarm1 == 10 && h2s.alarm2 == 20)
        let o2 = try #require(spec.sensorTypes.first { $0.name == "oxygen" })
        #expect(o2.sides?.low == 19.5 && o2.sides?.high == 23.5 && o2.alarm1 == nil)
        #expect(o2.thresholdRule?.sides == o2.sides)
        #expect(spec.alerts.routes.map(\.topic) == ["risk.alerts.urgent", "risk.alerts.regulator", "risk.alerts.equipment"])
    }

    @Test("instrument checks: ranges, analog or discrete signals and frozen_after (DOMAIN.md §5 FAULT, FROZEN)")
    func instrumentChecks() throws {
        let dust = try PipelineLoader.load(path: pipelinesDirectory + "/dust-explosion.yaml", environment: [:])
        let valve = try #require(dust.sensorTypes.first { $0.name == "valve_fault" })
        #expect(!valve.analog && valve.rangeMin == 0 && valve.rangeMax == 1)
        #expect(dust.sensorTypes.filter(\.analog).count == dust.sensorTypes.count - 1)
        #expect(dust.anomalies.frozenAfter == 86_400_000)
        let spec = try PipelineLoader.parse(
            yaml: """
                name: p
                sources: { readings: t }
                sensor_types:
                  gas: { match: ["-GT-"], al1: 25, range: [0, 100], signal: analog }
                anomalies: { frozen_after: 12h }
                """, file: "a.yaml")
        #expect(spec.anomalies.frozenAfter == 43_200_000 && spec.sensorTypes.first?.analog == true)
    }

    @Test("alert severity, departments, chattering and flood settings are read and checked")
    func alertSettings() throws {
        let yaml = """
            name: p
            sources: { readings: t }
            sensor_types:
              h2s: { match: ["-H2S"], al1: 10, al2: 20, severity: { al2: red }, notify: [safety, production] }
            alerts:
              chattering: { raises: 4, within: 2m, hold: 30m }
              flood: { window: 5m, start: 20, end: 8 }
            """
        let spec = try PipelineLoader.parse(yaml: yaml, file: "a.yaml")
        let h2s = try #require(spec.sensorTypes.first)
        #expect(h2s.severity1 == .yellow && h2s.severity2 == .red && h2s.notify == ["safety", "production"])
        #expect(spec.alerts.chatterRaises == 4 && spec.alerts.chatterWithin == 120_000 && spec.alerts.chatterHold == 1_800_000)
        #expect(spec.alerts.floodWindow == 300_000 && spec.alerts.floodStart == 20 && spec.alerts.floodEnd == 8)
        let park = try PipelineLoader.load(path: pipelinesDirectory + "/chemical-park.yaml", environment: [:])
        #expect(
            park.alerts.routes.last
                == AlertsSpec.Route(levels: [], kinds: [.dataGap, .instrument, .thresholdNotSet], topic: "risk.alerts.equipment"))
        let routes = """
            name: p
            sources: { readings: t }
            alerts:
              routes:
                - { kinds: [instrument, gap], topic: a }
                - { topic: b }
            """
        do {
            _ = try PipelineLoader.parse(yaml: routes, file: "r.yaml")
            Issue.record("accepted a route without levels or kinds, and an unknown kind")
        } catch {
            let text = "\(error)"
            #expect(text.contains("r.yaml:5:16: error: alerts.routes[0].kinds: unknown kind 'gap'"), "\(text)")
            #expect(text.contains("alerts.routes[1]: a route needs levels, kinds or both"), "\(text)")
        }
        let bad = """
            name: p
            sources: { readings: t }
            sensor_types:
              h2s: { match: ["-H2S"], al1: 10, severity: { al2: crimson }, notify: [sales] }
            alerts:
              flood: { start: 5, end: 9 }
            """
        do {
            _ = try PipelineLoader.parse(yaml: bad, file: "bad.yaml")
            Issue.record("accepted an unknown colour, department and a flood that ends above its start")
        } catch {
            let text = "\(error)"
            #expect(text.contains("bad.yaml:4:") && text.contains("sensor_types.h2s.severity.al2") && text.contains("crimson"), "\(text)")
            #expect(text.contains("sensor_types.h2s.notify[0]") && text.contains("sales"), "\(text)")
            #expect(text.contains("alerts.flood.end"), "\(text)")
        }
    }

    @Test("Dynamic limits, the time zone and the seasonal baseline are read into the rule and settings")
    func dynamicLimits() throws {
        let yaml = """
            version: 1
            name: plant
            time_zone: "-05:30"
            sources: { readings: { topic: r }, permits: p }
            anomalies: { seasonal: { enabled: false, min_days: 5, alpha: 0.5 } }
            sensor_types:
              gas:
                match: ["-GT-"]
                al1: 25
                al2: 50
                adjustments:
                  - { months: [6, 7, 8], scale: 0.8 }
                  - { hours: [22, 6], al1: 20 }
                  - { during: special_work, al1: 10, al2: 25 }
            """
        let spec = try PipelineLoader.parse(yaml: yaml, file: "p.yaml", environment: [:])
        #expect(spec.utcOffset == -(5 * 3_600_000 + 30 * 60_000))
        #expect(!spec.anomalies.seasonal && spec.anomalies.seasonalMinDays == 5 && spec.anomalies.seasonalAlpha == 0.5)
        let rule = try #require(spec.sensorTypes.first?.thresholdRule)
        #expect(rule.adjustments.count == 3)
        #expect(rule.limits(month: 7, hour: 12, permit: false) == EffectiveLimits(direction: 1, level1: 20, level2: 40))
        #expect(rule.limits(month: 1, hour: 23, permit: false) == EffectiveLimits(direction: 1, level1: 20, level2: 50))
        #expect(rule.limits(month: 1, hour: 6, permit: false) == EffectiveLimits(rule))
        #expect(rule.limits(month: 1, hour: 5, permit: true) == EffectiveLimits(direction: 1, level1: 10, level2: 25))
        // The default time zone is China's.
        let plain = try PipelineLoader.parse(yaml: "version: 1\nname: p\nsources: { readings: { topic: r } }\n", file: "p.yaml", environment: [:])
        #expect(plain.utcOffset == 8 * 3_600_000 && plain.anomalies.seasonal)
        #expect(spec.sources.permits == "p" && spec.sources.permitsSensorUnit == nil)
        // The long form names how a point's unit is read from its id.
        let units = try PipelineLoader.parse(
            yaml: "version: 1\nname: p\nsources: { readings: { topic: r }, permits: { topic: p, sensor_unit: '^[^-]+-(U[0-9]+)-' } }\n",
            file: "p.yaml", environment: [:])
        #expect(units.sources.permits == "p" && units.sources.permitsSensorUnit == "^[^-]+-(U[0-9]+)-")
        let notices = try PipelineLoader.parse(
            yaml:
                "version: 1\nname: p\nsources: { readings: { topic: r }, offline_notices: n }\nrisk: { overrides: { offline_notice_grace: 30m } }\n",
            file: "p.yaml", environment: [:])
        #expect(notices.sources.offlineNotices == "n" && notices.risk.offlineNoticeGrace == 1_800_000 && spec.risk.offlineNoticeGrace == 3_600_000)
        for (pattern, message) in [
            ("'U[0-9]+'", "p.yaml:3:70: error: sources.permits.sensor_unit: needs a capture group for the unit"),
            ("'(U[0-9]+'", "p.yaml:3:70: error: sources.permits.sensor_unit: not a regular expression: (U[0-9]+"),
        ] {
            let yaml = "version: 1\nname: p\nsources: { readings: { topic: r }, permits: { topic: p, sensor_unit: \(pattern) } }\n"
            do {
                _ = try PipelineLoader.parse(yaml: yaml, file: "p.yaml", environment: [:])
                Issue.record("\(pattern) was accepted")
            } catch {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
        }
    }

    @Test func durations() throws {
        for (text, ms) in [("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("1d", 86_400_000), ("1h30m", 5_400_000)] {
            let yaml = "name: p\nsources: { readings: { topic: t, out_of_orderness: \(text) } }\n"
            let spec = try PipelineLoader.parse(yaml: yaml, file: "d.yaml")
            #expect(spec.sources.readings?.outOfOrderness == Int64(ms), "\(text)")
        }
    }
}

@Suite struct EnvInterpolationTests {
    @Test func rules() {
        let env = ["A": "1", "EMPTY": ""]
        #expect(EnvInterpolation.interpolate("x${A}y", environment: env) == .success("x1y"))
        #expect(EnvInterpolation.interpolate("${B:-two}", environment: env) == .success("two"))
        #expect(EnvInterpolation.interpolate("${EMPTY:-d}", environment: env) == .success("d"))
        #expect(EnvInterpolation.interpolate("$$A", environment: env) == .success("$A"))
        #expect(EnvInterpolation.interpolate("${B}", environment: env) == .failure(.missingVariable("B")))
        #expect(EnvInterpolation.interpolate("${A", environment: env) == .failure(.unterminated))
    }
}
