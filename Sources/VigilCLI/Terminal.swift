#if canImport(Glibc)
import Glibc
#endif

import Dispatch

/// Blocks until SIGINT or SIGTERM arrives (delivered through Dispatch, so it works whichever thread the
/// kernel picks); returns the signal number.
func waitForTerminationSignal() -> Int32 {
    let done = DispatchSemaphore(value: 0)
    let received = SignalBox()
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            received.set(sig)
            done.signal()
        }
        source.resume()
        sources.append(source)
    }
    done.wait()
    for source in sources { source.cancel() }
    return received.get()
}

/// The first signal received (set from a Dispatch handler, read after the semaphore).
final class SignalBox: @unchecked Sendable {
    // Written once by the handler before `done.signal()`, read after `done.wait()`: the semaphore orders them.
    private var value: Int32 = 0
    func set(_ v: Int32) { if value == 0 { value = v } }
    func get() -> Int32 { value }
}

import ArgumentParser
import VigilPipeline
import VigilTools

/// Loads a pipeline file, or prints every problem (with carets) and exits 1.
func loadPipeline(_ path: String) throws -> PipelineSpec {
    do {
        return try PipelineLoader.load(path: path)
    } catch {
        printError(error.detailedDescription())
        throw ExitCode(1)
    }
}
