import Foundation
import Synchronization
import Testing
import VigilTesting

/// The ``VigilTesting/OwnThreads`` trait the integration suites run under: blocked jobs do not hold up others.
@Suite(.ownThreads)
struct OwnThreadsTests {
    @Test("more blocking child tasks than cores all run at once")
    func blockingTasksRunSideBySide() async throws {
        // Each task blocks its thread until all have started: on a pool of one thread per core (the cooperative
        // pool) this cannot finish on a machine with fewer cores than tasks.
        let tasks = ProcessInfo.processInfo.activeProcessorCount + 3
        let arrived = Counter()
        let deadline = Date().addingTimeInterval(20)
        let all = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    arrived.value.add(1, ordering: .relaxed)
                    while arrived.value.load(ordering: .relaxed) < tasks && Date() < deadline { usleep(1_000) }
                    return arrived.value.load(ordering: .relaxed) >= tasks
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(all, "only \(arrived.value.load(ordering: .relaxed)) of \(tasks) blocking tasks ran at once")
        #expect(OwnThreads.pool.threadCount >= tasks)
    }
}

private final class Counter: Sendable {
    let value = Atomic(0)
}
