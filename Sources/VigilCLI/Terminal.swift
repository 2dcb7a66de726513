#if canImport(Glibc)
    import Glibc
#endif

import ArgumentParser
import Logging
import VigilPipeline
import VigilServe
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

/// Logs to standard error from `level` up (once per process).
func bootstrapLogging(_ level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// Checks a `--log-level` value.
func validateLogLevel(_ text: String) throws {
    guard Logger.Level(rawValue: text) != nil else {
        throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
    }
}

/// Checks an `--http` value (`host:port`); `example` shows the usual one.
func validateHTTP(_ text: String, example: String) throws {
    guard HTTPService.parseAddress(text) != nil else {
        throw ValidationError("--http must be an IPv4 host and a port, like \(example) or 127.0.0.1:0; got '\(text)'")
    }
}
