import Foundation
import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// Writes a line to standard error (unbuffered, safe from any thread).
public func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

/// A request to stop a tool's loop (the demo, a simulation run), set by the CLI's signal handling and read
/// between chunks of work.
public final class StopSignal: Sendable {
    private let flag = Mutex(false)
    public init() {}
    public func request() { flag.withLock { $0 = true } }
    public var isRequested: Bool { flag.withLock { $0 } }
}
