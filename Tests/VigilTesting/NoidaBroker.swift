import Foundation

/// A noida-db Kafka broker (a real Kafka-protocol broker that enforces transactions, unlike the mock
/// cluster) on a free loopback port with a temporary data directory, for the exactly-once tests. Installed by
/// `scripts/install-deps.sh` into `.build-tools/noida-db`. ``stop()`` (or deinit) ends it by PID.
///
/// Its limits shape the tests: a member killed with SIGKILL is never expired from its group (restart under
/// another group), cooperative-sticky assignment does not complete (Vigil's default is eager), there is no
/// broker-side transaction timeout, and its data file grows with the log (keep volumes small).
public final class NoidaBroker {
    public let bootstrapServers: String
    let process = Process()
    let dataDirectory: String
    let logPath: String

    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    public static var executable: String { packageRoot() + "/.build-tools/noida-db/bin/noida-db" }

    /// Starts the broker and waits until it answers a metadata request (kcat -L).
    ///
    /// - Throws: ``StartFailure`` saying why (not installed, exited, no answer in 60 s), never a skip.
    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw StartFailure(description: "noida-db is not installed at \(Self.executable): run scripts/install-deps.sh (make test does)")
        }
        let port = try freeLoopbackPort()
        bootstrapServers = "127.0.0.1:\(port)"
        dataDirectory = NSTemporaryDirectory() + "vigil-noida-\(UUID().uuidString.prefix(8))"
        logPath = dataDirectory + ".log"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["start", "--data-dir", dataDirectory, "--host", "127.0.0.1", "--only", "kafka", "--kafka-port", "\(port)"]
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else { break }
            if let (status, out, _) = try? runProcess("/usr/bin/kcat", ["-L", "-b", bootstrapServers, "-m", "2", "-X", "log_level=0"]),
                status == 0, out.contains("broker")
            {
                return
            }
            usleep(200_000)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        stop()
        throw StartFailure(description: "noida-db did not start on \(bootstrapServers): \(log)")
    }

    /// Stops the broker (SIGTERM, then SIGKILL after 5 s) and deletes its data.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    deinit { stop() }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw NoidaBroker.StartFailure(description: "socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw NoidaBroker.StartFailure(description: "no free loopback port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

@available(*, unavailable)
extension NoidaBroker: Sendable {}
