import Foundation
public import Logging
public import ServiceLifecycle
public import UnixSignals
import VigilPipeline
import Synchronization

/// A pipeline as services for a `ServiceGroup`: the metrics endpoint first, the consumer last. A group shuts its
/// services down in reverse order, so on SIGTERM the consumer finishes its batch, checkpoints and leaves the
/// group while `/metrics` and `/healthz` still answer; then the endpoint closes.
///
/// The services handle no signals: the caller's group does (the CLI passes SIGTERM and SIGINT; the demo and
/// tests trigger the graceful shutdown themselves).
public struct PipelineServices: Sendable {
    /// The metrics endpoint, bound already (nil when the pipeline has none).
    public let metrics: MetricsEndpointService?
    public let consumer: ConsumerService
    /// The live metrics the consumer publishes.
    public var runtimeMetrics: RuntimeMetrics { consumer.metrics }

    /// The port the metrics endpoint listens on.
    public var metricsPort: Int? { metrics?.port }

    /// The services in start order.
    public var all: [any Service] { (metrics.map { [$0] } ?? []) + [consumer] }

    /// A group running the services: a service that returns or fails shuts the whole group down gracefully
    /// (the first error is rethrown by `run()`); `signals` trigger the graceful shutdown.
    public func group(logger: Logger, signals: [UnixSignal] = []) -> ServiceGroup {
        let services = all.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        return ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger))
    }
}

/// The consumer-group member: runs the pipeline's job on a dedicated thread (librdkafka calls block) until the
/// group shuts down gracefully or the task is cancelled; then the batch in progress finishes, outputs are
/// flushed, state is checkpointed, offsets are committed and the member leaves the group.
public struct ConsumerService: Service, CustomStringConvertible {
    let runner: PipelineRunner.Settings
    public let metrics: RuntimeMetrics

    public var description: String { "consumer(\(runner.spec.name))" }

    public func run() async throws {
        let stop = ShutdownFlag()
        let (runner, metrics) = (self.runner, self.metrics)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await onDedicatedThread(name: "vigil-consumer") {
                try PipelineRunner(settings: runner, metrics: metrics).consume(until: { stop.isSet })
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
        }
    }
}

/// `/metrics` (Prometheus text) and `/healthz` until the group shuts down.
public struct MetricsEndpointService: Service, CustomStringConvertible {
    let endpoint: HTTPEndpoint
    public var port: Int { endpoint.port }
    public var description: String { "metrics(:\(endpoint.port))" }

    public func run() async throws {
        defer { endpoint.stop() }
        try? await gracefulShutdown()
    }
}

/// Set once when the service should stop; read by the blocking consume loop between polls (each poll waits at
/// most 100 ms, so a stop takes effect within one batch).
final class ShutdownFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
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
