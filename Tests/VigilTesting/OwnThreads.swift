public import Testing

#if canImport(Glibc)
    import Glibc
#endif

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
        // Guarded by `lock`; `ready` is signalled when a job is queued.
        private var jobs: [UnownedJob] = []
        private var idle = 0
        private var threads = 0
        private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let ready = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init() {
            pthread_mutex_init(lock, nil)
            pthread_cond_init(ready, nil)
        }

        /// Threads started so far.
        public var threadCount: Int {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return threads
        }

        public func enqueue(_ job: consuming ExecutorJob) {
            let unowned = UnownedJob(job)
            pthread_mutex_lock(lock)
            jobs.append(unowned)
            // Every queued job needs a thread of its own: a signalled idle thread takes one each.
            let spawn = jobs.count > idle
            if spawn { threads += 1 }
            pthread_cond_signal(ready)
            pthread_mutex_unlock(lock)
            if spawn { start() }
        }

        private func start() {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(
                &thread, nil,
                { arg in
                    Unmanaged<Pool>.fromOpaque(arg!).takeRetainedValue().work()
                    return nil
                }, box)
            precondition(rc == 0, "OwnThreads: pthread_create failed (\(rc))")
            pthread_detach(thread)
        }

        private func work() {
            let executor = asUnownedTaskExecutor()
            while true {
                pthread_mutex_lock(lock)
                while jobs.isEmpty {
                    idle += 1
                    pthread_cond_wait(ready, lock)
                    idle -= 1
                }
                let job = jobs.removeFirst()
                pthread_mutex_unlock(lock)
                job.runSynchronously(on: executor)
            }
        }
    }
}
