import Foundation
import Testing

/// Runs the `vigil` executable built next to the test bundle and returns (exit code, stdout, stderr).
func runVigil(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [".build/debug/vigil", ".build/release/vigil"].map { root.appendingPathComponent($0).path }
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CLIError(message: "vigil executable not found in \(candidates); build it first")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

struct CLIError: Error { var message: String }

@Suite struct CLITests {
    @Test func helpListsSubcommandsWithExamples() throws {
        let r = try runVigil(["--help"])
        #expect(r.status == 0)
        #expect(r.out.contains("demo") && r.out.contains("bench"))
        #expect(r.out.contains("Examples:"))
    }

    @Test func benchCorePrintsOneJSONLine() throws {
        let r = try runVigil(["bench", "core", "--records", "120000", "--repeat", "1"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(object?["workload"] as? String == "W1")
        #expect(object?["records"] as? Int == 120_000)
        // 3 seconds of 40,000 sensors → one window per sensor.
        #expect(object?["rows"] as? Int == 40_000)
        #expect(object?["late"] as? Int == 0)
        #expect((object?["records_per_s"] as? Double ?? 0) > 0)
        #expect(object?["allocs_per_record"] != nil)
    }

    @Test func invalidOptionsFailWithAMessage() throws {
        let r = try runVigil(["bench", "core", "--records", "0"])
        #expect(r.status != 0)
        #expect(r.err.contains("--records must be > 0"))
    }

    @Test func demoRunsAndSummarises() throws {
        let r = try runVigil(["demo", "--minutes", "9"])
        #expect(r.status == 0, "stderr: \(r.err)")
        #expect(r.out.contains("Summary"))
        #expect(r.out.contains("readings processed   13500"))
        #expect(r.out.contains("AL2 ≥ 50"))
    }
}
