import Foundation
public import Testing

extension Trait where Self == OwnThreads {
    /// Runs each test of the suite on threads of its own instead of Swift concurrency's cooperative pool.
    ///
    /// The integration tests block: they poll Kafka, sleep between probes and wait for child processes. The
    /// cooperative pool has one thread per core, so on a 2-core machine two blocking tests stall every other
    /// test's `await` (a test that awaits a 200 ms sleep could wait minutes for a thread). With this trait a
    /// test's jobs run on ``OwnThreads/Pool``, which starts a thread whenever none is idle.
    public static var ownThreads: OwnThreads { OwnThreads() }
}

/// The ``Testing/Trait/ownThreads`` trait: a task executor preference for the test's whole task tree.
public struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // The suite itself needs no scope; each test (and each case of a parameterized one) gets it.
        guard !test.isSuite else { return try await function() }
        try await withTaskExecutorPreference(Self.pool) { try await function() }
    }

    /// The one pool the tests share.
    public static let pool = Pool()

    /// A task executor without a width limit: a job runs on an idle thread, or on a new one if none is idle.
    /// Threads stay for the next job (the test run is short-lived; the count is the peak of blocked jobs).
    public final class Pool: TaskExecutor, @unchecked Sendable {
        // Guarded by `ready`, which is signalled when a job is queued.
        private let ready = NSCondition()
        private var jobs: [UnownedJob] = []
        private var idle = 0
        private var threads = 0

        /// Threads started so far.
        public var threadCount: Int {
            ready.lock()
            defer { ready.unlock() }
            return threads
        }

        public func enqueue(_ job: consuming ExecutorJob) {
            let unowned = UnownedJob(job)
            ready.lock()
            jobs.append(unowned)
            // Every queued job needs a thread of its own: a signalled idle thread takes one each.
            let spawn = jobs.count > idle
            if spawn { threads += 1 }
            ready.signal()
            ready.unlock()
            if spawn { Thread.detachNewThread { [self] in work() } }
        }

        private func work() {
            let executor = asUnownedTaskExecutor()
            while true {
                ready.lock()
                while jobs.isEmpty {
                    idle += 1
                    ready.wait()
                    idle -= 1
                }
                let job = jobs.removeFirst()
                ready.unlock()
                job.runSynchronously(on: executor)
            }
        }
    }
}
