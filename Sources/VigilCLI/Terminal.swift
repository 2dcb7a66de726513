#if canImport(Glibc)
    import Glibc
#endif

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
