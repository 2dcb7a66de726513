import Foundation

/// Runs a program to completion and returns its exit status, standard output and standard error.
@discardableResult
public func runProcess(_ path: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    let inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    // Read both pipes before waiting, so a chatty child cannot fill a pipe and block.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// The `vigil` executable built next to the tests (debug first, then release).
public func vigilExecutable(_ name: String = "vigil") throws -> String {
    let candidates = [".build/debug/\(name)", ".build/release/\(name)"].map { packageRoot() + "/" + $0 }
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ProcessRunnerError(message: "\(name) executable not found in \(candidates); build it first")
    }
    return path
}

public struct ProcessRunnerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
