import Foundation
public import Logging
public import ServiceLifecycle
public import UnixSignals
import VigilPipeline
import Synchronization

/// A pipeline as a service for a `ServiceGroup`, with the health probes and metrics that an HTTP server in the
/// same group exposes. Put the server first: a group shuts its services down in reverse order, so on SIGTERM
/// the consumer finishes its batch, checkpoints and leaves the group while `/metrics` and `/healthz` still
/// answer; then the server closes.
///
/// The services handle no signals: the caller's group does (the CLI passes SIGTERM and SIGINT; the demo and
/// tests trigger the graceful shutdown themselves).
public struct PipelineServices: Sendable {
    public let consumer: ConsumerService
    /// `/healthz` and `/ready` of this pipeline.
    public let probes: HealthProbes
    /// The live metrics the consumer publishes.
    public var runtimeMetrics: RuntimeMetrics { consumer.metrics }
}

/// What `/healthz` and `/ready` answer.
public struct HealthProbes: Sendable {
    /// Alive: the consume loop runs and has completed a step in the last 30 s.
    public var healthy: @Sendable () -> Bool
    /// Ready: started, its assignment restored and its reference tables read to their ends.
    public var ready: @Sendable () -> Bool
    public init(healthy: @escaping @Sendable () -> Bool, ready: @escaping @Sendable () -> Bool) {
        self.healthy = healthy
        self.ready = ready
    }
    /// Both probes of several sources (a process that runs a pipeline and the live state, say).
    public static func all(_ probes: [HealthProbes]) -> HealthProbes {
        HealthProbes(healthy: { probes.allSatisfy { $0.healthy() } }, ready: { probes.allSatisfy { $0.ready() } })
    }
}

/// A group running `services` in order: a service that returns or fails shuts the whole group down gracefully
/// (the first error is rethrown by `run()`); `signals` trigger the graceful shutdown.
public func serviceGroup(_ services: [any Service], logger: Logger, signals: [UnixSignal] = []) -> ServiceGroup {
    let configured = services.map {
        ServiceGroupConfiguration.ServiceConfiguration(
            service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
    }
    return ServiceGroup(configuration: ServiceGroupConfiguration(services: configured, gracefulShutdownSignals: signals, logger: logger))
}

/// The pipeline's workers: each a consumer-group member with its own consumer, producer, partitions and state,
/// running on a dedicated thread (librdkafka calls block) until the group shuts down gracefully or the task is
/// cancelled; then each finishes the batch in progress, flushes its outputs, checkpoints its partitions,
/// commits their offsets and leaves the group. A worker that fails stops the others the same way, and the
/// service returns (rethrowing the first failure) only when every worker has left.
public struct ConsumerService: Service, CustomStringConvertible {
    let runner: PipelineRunner.Settings
    public let metrics: RuntimeMetrics

    /// How many workers run (``PipelineRunner/Settings/workers``).
    public var workers: Int { runner.workers }

    public var description: String { "consumer(\(runner.spec.name), \(workers) workers)" }

    public func run() async throws {
        let stop = ShutdownFlag()
        let (runner, metrics, workers) = (self.runner, self.metrics, self.workers)
        metrics.expectWorkers(workers)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        do {
                            try await onDedicatedThread(name: "vigil-worker-\(worker)") {
                                try PipelineRunner(settings: runner, metrics: metrics).consume(worker: worker, until: { stop.isSet })
                            }
                        } catch {
                            stop.set()
                            throw error
                        }
                    }
                }
                // The first failure, after every worker has returned (the group awaits them all).
                var failure: (any Error)? = nil
                while let result = await group.nextResult() {
                    if case .failure(let error) = result, failure == nil { failure = error }
                }
                if let failure { throw failure }
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
        }
    }
}

/// Set once when the service should stop; read by the blocking consume loop between polls (each poll waits at
/// most 100 ms, so a stop takes effect within one batch).
public final class ShutdownFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .releasing) }
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// Runs blocking work (librdkafka calls) on a dedicated thread, never on Swift's cooperative pool, and resumes
/// the caller with its result.
public func onDedicatedThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.name = name
        thread.start()
    }
}
