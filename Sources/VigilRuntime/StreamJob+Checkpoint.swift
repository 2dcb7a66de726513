import Foundation
import VigilCore
import VigilKafka

// Checkpointing of a StreamJob's partitions: writing snapshots (interval, revocation, close) and restoring
// them when partitions are assigned.
extension StreamJob {
    /// Flushes outputs, writes the snapshots of `indices`' partitions that made progress and commits their
    /// offsets. A failure is a `.checkpoint` error whose cause is the Kafka error or the store's.
    func checkpoint(_ indices: [Int]) throws(JobError) {
        func kafka<T>(_ body: () throws(KafkaError) -> T) throws(JobError) -> T {
            do throws(KafkaError) { return try body() } catch { throw JobError(.checkpoint, error) }
        }
        let clock = ContinuousClock()
        let started = clock.now
        if kafkaStore == nil { try kafka { () throws(KafkaError) in try producer.flush() } }
        var offsets: [KafkaTopicPartition] = []
        var bytes = 0
        for i in indices where partitions[i].nextOffset > partitions[i].committedOffset {
            let state = partitions[i]
            let tp = KafkaTopicPartition(topic: state.topic, partition: state.partition, offset: state.nextOffset)
            if directoryStore != nil || kafkaStore != nil {
                let snapshot = state.pipeline.snapshot(topic: state.topic, partition: state.partition, nextOffset: state.nextOffset)
                bytes += snapshot.count
                if let store = directoryStore {
                    do throws(CheckpointError) {
                        try store.save(KafkaTopicPartition(topic: state.topic, partition: state.partition), snapshot)
                    } catch {
                        throw JobError(.checkpoint, CheckpointError("checkpoint of \(state.topic)/\(state.partition): \(error.message)"))
                    }
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
        } else if !offsets.isEmpty {
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
        for i in indices { partitions[i].committedOffset = partitions[i].nextOffset }
        if !offsets.isEmpty {
            stats.commits += 1
            if directoryStore != nil || kafkaStore != nil {
                stats.checkpoints += 1
                stats.lastCheckpointBytes = Int64(bytes)
                let elapsed = clock.now - started
                stats.lastCheckpointSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            }
        }
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
            stats.lastRestoreSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
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
