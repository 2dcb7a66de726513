import Foundation
import VigilCore
import VigilKafka

// Checkpointing of a StreamJob's partitions: writing snapshots (interval, revocation, close) and restoring
// them when partitions are assigned.
extension StreamJob {
    /// Flushes outputs, writes the snapshots of `indices`' partitions that made progress and commits their
    /// offsets. A failure is a `.checkpoint` error whose cause is the Kafka error or the store's.
    func checkpoint(_ indices: [Int]) throws(JobError) {
        let clock = ContinuousClock()
        let started = clock.now
        if kafkaStore == nil {
            try kafka { () throws(KafkaError) in try producer.flush() }
            // Every report is in: a turn's checkpoint still waiting for its outputs is complete.
            try completePendingCheckpoint()
        }
        var offsets: [KafkaTopicPartition] = []
        var bytes = 0
        for i in indices where partitions[i].nextOffset > partitions[i].committedOffset {
            let state = partitions[i]
            let tp = KafkaTopicPartition(topic: state.topic, partition: state.partition, offset: state.nextOffset)
            if directoryStore != nil || kafkaStore != nil {
                let snapshot = state.pipeline.snapshot(topic: state.topic, partition: state.partition, nextOffset: state.nextOffset)
                bytes += snapshot.count
                if directoryStore != nil {
                    try save(snapshot, of: tp)
                } else if let store = kafkaStore {
                    for (key, value) in KafkaCheckpointStore.chunks(tp, snapshot: snapshot, id: UInt64(bitPattern: state.nextOffset)) {
                        try kafka { () throws(KafkaError) in try producer.produce(topic: store.topic, key: key, value: value) }
                    }
                }
                stats.snapshotsWritten += 1
            }
            offsets.append(tp)
        }
        if kafkaStore != nil {
            try kafka { () throws(KafkaError) in
                if !offsets.isEmpty { try producer.sendOffsetsToTransaction(offsets, consumer: consumer) }
                if let n = FaultPoint.killBeforeCommit, !offsets.isEmpty, stats.checkpoints + 1 == n {
                    // The transaction's records on the broker, uncommitted; then die as kill -9 would.
                    try producer.flush()
                    FaultPoint.die("before committing checkpoint \(n)")
                }
                try producer.commitTransaction()
                try producer.beginTransaction()
            }
        } else {
            try commitOffsets(offsets)
        }
        for i in indices { partitions[i].committedOffset = partitions[i].nextOffset }
        if !offsets.isEmpty { counted(bytes: bytes, stalled: clock.now - started) }
    }

    func kafka<T>(_ body: () throws(KafkaError) -> T) throws(JobError) -> T {
        do throws(KafkaError) { return try body() } catch { throw JobError(.checkpoint, error) }
    }

    /// Writes one partition's snapshot to the directory store.
    private func save(_ snapshot: [UInt8], of tp: KafkaTopicPartition) throws(JobError) {
        guard let store = directoryStore else { return }
        do throws(CheckpointError) {
            try store.save(KafkaTopicPartition(topic: tp.topic, partition: tp.partition), snapshot)
        } catch {
            throw JobError(.checkpoint, CheckpointError("checkpoint of \(tp.topic)/\(tp.partition): \(error.message)"))
        }
    }

    /// Commits the group's offsets (without the kafka store).
    private func commitOffsets(_ offsets: [KafkaTopicPartition]) throws(JobError) {
        guard !offsets.isEmpty else { return }
        do throws(KafkaError) {
            try consumer.commit(offsets)
        } catch  where error.isRetriable {
            // With the directory store the snapshots hold the resume positions and the group's offsets only
            // show lag; without a store (at-least-once) a lost commit means the next owner replays from the
            // last committed offset. Either way a commit refused during a rebalance (which the workers of one
            // process cause whenever one joins or leaves) is retried with the next checkpoint.
            onNotice("offset commit deferred: \(error.message)")
        } catch {
            throw JobError(.checkpoint, error)
        }
    }

    /// Counts a checkpoint (a round, a turn, or a revocation's) that wrote something.
    private func counted(bytes: Int, stalled: Duration) {
        stats.commits += 1
        guard directoryStore != nil || kafkaStore != nil else { return }
        stats.checkpoints += 1
        stats.lastCheckpointBytes = Int64(bytes)
        stats.lastCheckpointSeconds = stalled.inSeconds
    }

    /// The shortest time between two checkpoint turns (ms): each turn is an offset commit (a round trip) and
    /// waits for the outputs' acknowledgements before the next may start, so many partitions share turns.
    static let minimumTurnInterval: Int64 = 250

    /// Checkpoints without the kafka store, spread over the interval and without waiting for the outputs.
    ///
    /// A turn every `interval / turns` takes the partitions checkpointed longest ago, so that each is
    /// checkpointed once per interval but the worker stalls for a few partitions' snapshots at a time rather
    /// than all of them at once. Turns are at least ``minimumTurnInterval`` apart; with more partitions than
    /// turns, a turn takes several.
    ///
    /// A turn does not flush the producer (a flush waits for `linger.ms` and an acknowledgement, tens of
    /// milliseconds on a loaded machine, every turn). It encodes the snapshots at once — the state exactly at
    /// each partition's next offset — and notes the producer's ``KafkaProducer/enqueuedCount``; a later step
    /// writes them and commits the offsets once every output enqueued before is acknowledged. Until then no
    /// turn starts; a revocation or a shutdown flushes and completes it at once. Each snapshot holds its own
    /// resume offset, so the bound on what a crash replays is still one interval per partition (plus the
    /// acknowledgement time).
    func checkpointInTurn(now: Int64) throws(JobError) {
        producer.poll(timeoutMs: 0)
        guard try completePendingCheckpoint(waitAtMost: .seconds(30)) else { return }
        guard !partitions.isEmpty else {
            lastCommit = now
            return
        }
        let interval = max(1, config.commitInterval)
        let turns = Int64(min(partitions.count, Int(max(1, interval / Self.minimumTurnInterval))))
        guard now - lastCommit >= interval / turns else { return }
        lastCommit = now
        let count = (partitions.count + Int(turns) - 1) / Int(turns)
        let due = partitions.indices.sorted { (partitions[$0].checkpointTurn, $0) < (partitions[$1].checkpointTurn, $1) }.prefix(count)
        checkpointTurns += 1
        for i in due { partitions[i].checkpointTurn = checkpointTurns }
        let progressed = due.filter { partitions[$0].nextOffset > partitions[$0].committedOffset }
        guard !progressed.isEmpty else { return }
        let clock = ContinuousClock()
        let started = clock.now
        var pending = PendingCheckpoint(barrier: producer.enqueuedCount)
        for i in progressed {
            let state = partitions[i]
            let snapshot =
                directoryStore == nil ? nil : state.pipeline.snapshot(topic: state.topic, partition: state.partition, nextOffset: state.nextOffset)
            pending.entries.append((KafkaTopicPartition(topic: state.topic, partition: state.partition, offset: state.nextOffset), snapshot))
        }
        pending.encoding = clock.now - started
        pendingCheckpoint = pending
        _ = try completePendingCheckpoint(waitAtMost: .seconds(30))
    }

    /// Writes the pending turn's snapshots and commits its offsets if the producer has acknowledged every
    /// output enqueued before it; returns whether none is pending any more. One pending longer than
    /// `waitAtMost` falls back to a blocking flush (which fails with a timeout if the brokers do not answer).
    @discardableResult
    func completePendingCheckpoint(waitAtMost: Duration = .zero) throws(JobError) -> Bool {
        guard let pending = pendingCheckpoint else { return true }
        if let error = producer.deliveryError { throw JobError(.checkpoint, error) }
        if producer.reportedThrough < pending.barrier {
            guard ContinuousClock.now - pending.taken >= waitAtMost else { return false }
            try kafka { () throws(KafkaError) in try producer.flush() }
        }
        pendingCheckpoint = nil
        let clock = ContinuousClock()
        let started = clock.now
        var offsets: [KafkaTopicPartition] = []
        var bytes = 0
        for (tp, snapshot) in pending.entries {
            // A partition revoked meanwhile was checkpointed by its revocation (which completes this first).
            guard let i = partitions.firstIndex(where: { $0.topic == tp.topic && $0.partition == tp.partition }) else { continue }
            if let snapshot {
                try save(snapshot, of: tp)
                bytes += snapshot.count
                stats.snapshotsWritten += 1
            }
            offsets.append(tp)
            partitions[i].committedOffset = max(partitions[i].committedOffset, tp.offset ?? -1)
        }
        try commitOffsets(offsets)
        if !offsets.isEmpty { counted(bytes: bytes, stalled: pending.encoding + (clock.now - started)) }
        return true
    }

    /// Inside the rebalance callback: restores the snapshots of newly assigned partitions and returns
    /// their resume offsets.
    func partitionsAssigned(_ list: [KafkaTopicPartition]) -> [KafkaTopicPartition: Int64] {
        let keys = list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }
        assigned.formUnion(keys)
        let clock = ContinuousClock()
        let started = clock.now
        var offsets: [KafkaTopicPartition: Int64] = [:]
        do {
            var snapshots: [KafkaTopicPartition: [UInt8]] = [:]
            if let store = directoryStore {
                try bindCluster(store)
                for tp in keys { if let bytes = try store.load(tp) { snapshots[tp] = bytes } }
            } else if let store = kafkaStore {
                snapshots = try store.load(keys)
            }
            for tp in keys {
                partitions.removeAll { $0.topic == tp.topic && $0.partition == tp.partition }
                let state = newPartitionState(topic: tp.topic, partition: tp.partition, topicToken: nil)
                if let bytes = snapshots[tp] {
                    do {
                        let restored = try state.pipeline.restore(from: bytes, topic: tp.topic, partition: tp.partition)
                        for warning in restored.warnings { onNotice(warning) }
                        state.nextOffset = restored.nextOffset
                        state.committedOffset = restored.nextOffset
                    } catch {
                        throw CheckpointError("the checkpoint of \(tp.topic)/\(tp.partition) cannot be used: \(error.message)")
                    }
                    offsets[tp] = state.nextOffset
                    stats.partitionsRestored += 1
                    state.pipeline.resumeClock(now: currentTimeMillis())
                }
                partitions.append(state)
            }
        } catch {
            // The job refuses to run on state it cannot read: the next step throws before processing anything.
            callbackFailure = JobError(.restore, error)
        }
        if !offsets.isEmpty {
            let elapsed = clock.now - started
            stats.lastRestoreSeconds = elapsed.inSeconds
        }
        return offsets
    }

    /// Before the first restore from a checkpoint directory: ties it to the cluster the consumer is connected to
    /// (a directory written against another cluster is refused; ``DirectoryCheckpointStore/bind(clusterID:)``).
    /// The group has joined by then, so the cluster id is in librdkafka's metadata cache (no wait).
    func bindCluster(_ store: DirectoryCheckpointStore) throws(CheckpointError) {
        guard !clusterBound else { return }
        clusterBound = true
        guard let id = consumer.clusterID(timeoutMs: 0) else {
            onNotice("the brokers report no cluster id: the checkpoints in \(store.path) are not checked against the cluster")
            return
        }
        try store.bind(clusterID: id)
    }

    /// Inside the rebalance callback: checkpoints the revoked partitions while they are still ours, then
    /// drops their state.
    func partitionsRevoked(_ list: [KafkaTopicPartition]) {
        let keys = Set(list.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
        assigned.subtract(keys)
        let indices = partitions.indices.filter {
            keys.contains(KafkaTopicPartition(topic: partitions[$0].topic, partition: partitions[$0].partition))
        }
        do throws(JobError) {
            // Records of this poll are not processed yet: the state reflects exactly `nextOffset`.
            try checkpoint(indices)
        } catch {
            if callbackFailure == nil { callbackFailure = error }
        }
        partitions.removeAll { keys.contains(KafkaTopicPartition(topic: $0.topic, partition: $0.partition)) }
    }
}

/// A checkpoint turn's snapshots and offsets, taken at `barrier` (the producer's enqueued count then).
struct PendingCheckpoint {
    let barrier: Int64
    let taken = ContinuousClock.now
    /// Each partition's resume position (the offset) and its snapshot (nil without a store).
    var entries: [(KafkaTopicPartition, [UInt8]?)] = []
    /// How long encoding the snapshots stalled the worker.
    var encoding: Duration = .zero

    init(barrier: Int64) { self.barrier = barrier }
}

/// Fault points for the exactly-once tests, off unless their environment variable is set.
enum FaultPoint {
    /// `VIGIL_FAULT_KILL_BEFORE_COMMIT=N`: the kafka store's N-th checkpoint flushes its transaction's records
    /// to the broker and then kills the process (SIGKILL) before committing, leaving the transaction open.
    static let killBeforeCommit: Int64? = ProcessInfo.processInfo.environment["VIGIL_FAULT_KILL_BEFORE_COMMIT"].flatMap { Int64($0) }

    static func die(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("vigil: fault point: killed \(reason)\n".utf8))
        kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not end the process")
    }
}
