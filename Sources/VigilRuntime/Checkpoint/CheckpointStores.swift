import Foundation
import VigilCore
import VigilKafka

#if canImport(Glibc)
    import Glibc
#endif

/// Where a ``StreamJob`` keeps its partition snapshots (the pipeline file's `checkpoint` section).
public enum CheckpointMode: Sendable, Hashable {
    /// No checkpoints: state is lost on restart or rebalance; output is at-least-once (benchmarks, tools).
    case none
    /// Snapshot files written atomically under `path` (one per input partition); outputs from the
    /// idempotent producer, effectively-once by deterministic ids.
    case directory(path: String)
    /// A compacted topic; snapshots, the outputs since the last checkpoint and the consumer offsets are
    /// committed in one Kafka transaction with `transactionalID` (exactly-once on a real cluster).
    case kafka(topic: String, transactionalID: String)
}

/// Why a checkpoint could not be written or read.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Snapshot files `<topic>.<partition>.snapshot` in one directory, each replaced atomically: written to a
/// temporary file, fsynced, renamed over the old one, and the directory fsynced, so a crash leaves either
/// the old or the new snapshot, never a torn one.
final class DirectoryCheckpointStore: Sendable {
    let path: String

    /// Creates the directory if needed.
    init(path: String) throws(CheckpointError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(
                "checkpoint.path: cannot create the checkpoint directory \(path) (\(error.localizedDescription)); set VIGIL_STATE_DIR or --checkpoint-path to a writable directory"
            )
        }
        guard access(path, W_OK) == 0 else {
            throw CheckpointError(
                "checkpoint.path: the checkpoint directory \(path) is not writable; set VIGIL_STATE_DIR or --checkpoint-path to a writable directory")
        }
    }

    func file(_ tp: KafkaTopicPartition) -> String { "\(path)/\(tp.topic).\(tp.partition).snapshot" }

    /// The snapshot of `tp`, or nil if there is none.
    func load(_ tp: KafkaTopicPartition) throws(CheckpointError) -> [UInt8]? {
        let name = file(tp)
        guard FileManager.default.fileExists(atPath: name) else { return nil }
        guard let data = FileManager.default.contents(atPath: name) else { throw CheckpointError("cannot read the checkpoint \(name)") }
        return [UInt8](data)
    }

    /// Replaces the snapshot of `tp` atomically.
    func save(_ tp: KafkaTopicPartition, _ bytes: [UInt8]) throws(CheckpointError) {
        try replace(file(tp), with: bytes)
    }

    /// The file naming the Kafka cluster whose offsets the snapshots hold.
    var clusterFile: String { "\(path)/cluster-id" }

    /// Ties the directory to the cluster `id`: the first job to use the directory records the id, and a later one
    /// connected to another cluster is refused, since the snapshots' offsets mean nothing there (a restore would
    /// skip or repeat records). This happens when the brokers change under the same checkpoint path: a new or
    /// rebuilt cluster, a failover to a mirrored cluster (whose offsets differ), or the embedded broker restarted.
    ///
    /// The instances of a group share the directory and may start on a new one at the same moment: each writes
    /// the id to a temporary file of its own and links it to `cluster-id`, which succeeds for the first only
    /// (link(2) never replaces a name); the others read the winner's id and compare as any later job does.
    func bind(clusterID id: String) throws(CheckpointError) {
        if let recorded = recordedClusterID() { return try check(recorded: recorded, against: id) }
        let temporary = "\(clusterFile).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        try writeFile(temporary, Array("\(id)\n".utf8))
        let linked = link(temporary, clusterFile) == 0
        let failure = errno
        unlink(temporary)
        if linked {
            syncDirectory()
            return
        }
        guard failure == EEXIST, let recorded = recordedClusterID() else {
            throw CheckpointError("cannot record the cluster id in \(clusterFile): \(String(cString: strerror(failure)))")
        }
        try check(recorded: recorded, against: id)
    }

    /// The cluster id recorded in the directory, nil if none is yet.
    func recordedClusterID() -> String? {
        FileManager.default.contents(atPath: clusterFile).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func check(recorded: String, against id: String) throws(CheckpointError) {
        guard recorded != id else { return }
        throw CheckpointError(
            "checkpoint.path: the checkpoints in \(path) hold offsets of Kafka cluster \(recorded), but the brokers are cluster \(id);"
                + " restoring them would skip or repeat records. Point --brokers at the cluster they came from, or move the"
                + " directory away (or set --checkpoint-path) to start this cluster afresh")
    }

    /// Replaces the file `name` atomically: written to a temporary file, fsynced, renamed, directory fsynced.
    func replace(_ name: String, with bytes: [UInt8]) throws(CheckpointError) {
        let temporary = "\(name).tmp"
        try writeFile(temporary, bytes)
        guard rename(temporary, name) == 0 else { throw CheckpointError("rename \(temporary) → \(name): \(String(cString: strerror(errno)))") }
        syncDirectory()
    }

    /// Writes `bytes` to the file `name` (created or truncated) and fsyncs it.
    func writeFile(_ name: String, _ bytes: [UInt8]) throws(CheckpointError) {
        let fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError("cannot create \(name): \(String(cString: strerror(errno)))") }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "write \(name): \(String(cString: strerror(errno)))"
                }
                written += n
            }
            return fsync(fd) == 0 ? nil : "fsync \(name): \(String(cString: strerror(errno)))"
        }
        close(fd)
        if let failure { throw CheckpointError(failure) }
    }

    /// Makes the directory's entries (a rename, a new link) durable.
    func syncDirectory() {
        let dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }
}

/// Snapshots in a compacted topic. A snapshot is split into chunks of at most ``chunkSize`` bytes, each a
/// record keyed `<topic>/<partition>#<chunk>` (so compaction keeps the newest version of every chunk) with
/// the value `VGCK`, snapshot id (UInt64 LE: the snapshot's next offset), CRC-32 of the whole snapshot,
/// chunk index, chunk count (UInt32 LE each), then the chunk bytes. A snapshot is complete when every chunk
/// with its id and CRC is present; chunks are written in the same transaction, so a reader with
/// `isolation.level=read_committed` sees all of them or none.
final class KafkaCheckpointStore {
    static let chunkSize = 512 * 1_024
    static let magic: [UInt8] = Array("VGCK".utf8)
    let topic: String
    let brokers: String
    let additional: [String: String]

    init(topic: String, brokers: String, additional: [String: String]) {
        self.topic = topic
        self.brokers = brokers
        self.additional = additional
    }

    /// Creates the compacted topic if the cluster lets us (the embedded broker has no admin API and
    /// auto-creates it instead).
    func ensureTopic() -> String? {
        var admin = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        do {
            let client = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin)
            if try client.describeTopics()[topic] != nil { return nil }
            try client.createTopics([KafkaTopicSpec(name: topic, partitions: 1, configs: ["cleanup.policy": "compact"])])
            return nil
        } catch {
            return "could not create the checkpoint topic \(topic) (\(error)); it must exist or be auto-created, compacted"
        }
    }

    /// The chunk records of one snapshot: (key, value) pairs.
    static func chunks(_ tp: KafkaTopicPartition, snapshot: [UInt8], id: UInt64) -> [([UInt8], [UInt8])] {
        let crc = SnapshotCodec.crc32(snapshot)
        let count = max(1, (snapshot.count + chunkSize - 1) / chunkSize)
        return (0..<count).map { i in
            var value = magic
            withUnsafeBytes(of: id.littleEndian) { value.append(contentsOf: $0) }
            withUnsafeBytes(of: crc.littleEndian) { value.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(i).littleEndian) { value.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(count).littleEndian) { value.append(contentsOf: $0) }
            value.append(contentsOf: snapshot[(i * chunkSize)..<min(snapshot.count, (i + 1) * chunkSize)])
            return (Array("\(tp.topic)/\(tp.partition)#\(i)".utf8), value)
        }
    }

    /// Reads the whole topic (committed records only) and returns the newest complete snapshot of each of
    /// `partitions`.
    func load(_ partitions: [KafkaTopicPartition], timeoutMs: Int64 = 30_000) throws(CheckpointError) -> [KafkaTopicPartition: [UInt8]] {
        struct Chunk {
            var id: UInt64
            var crc: UInt32
            var count: Int
            var data: [UInt8]
        }
        var latest: [String: Chunk] = [:]  // key → newest chunk record
        var timedOut = false
        do throws(KafkaError) {
            var admin = additional
            admin["log_level"] = admin["log_level"] ?? "3"
            guard let count = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()[topic] else { return [:] }
            var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.checkpoint-reader")
            cc.additionalConfig = additional
            cc.additionalConfig["isolation.level"] = "read_committed"
            cc.additionalConfig["enable.partition.eof"] = "false"
            let consumer = try KafkaConsumer(config: cc)
            try consumer.assign((0..<count).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
            let deadline = currentTimeMillis() + timeoutMs
            var polls = 0
            while true {
                let n = try consumer.poll(maxMessages: 1_000, timeoutMs: 200) { record in
                    guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else { return }
                    let v = Array(record.payload)
                    guard v.count >= 24, Array(v[0..<4]) == Self.magic else { return }
                    func u32(_ at: Int) -> UInt32 { v[at..<(at + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
                    let id = v[4..<12].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    latest[key] = Chunk(id: id, crc: u32(12), count: Int(u32(20)), data: Array(v[24...]))
                }
                polls += 1
                let lag = consumer.lag()
                if polls >= 2 && n == 0 && lag.count == Int(count) && lag.values.allSatisfy({ $0 == 0 }) { break }
                if currentTimeMillis() > deadline {
                    timedOut = true
                    break
                }
            }
            try consumer.close()
        } catch {
            throw CheckpointError("reading the checkpoint topic \(topic): \(error)")
        }
        if timedOut { throw CheckpointError("reading the checkpoint topic \(topic) timed out after \(timeoutMs) ms") }
        var out: [KafkaTopicPartition: [UInt8]] = [:]
        for tp in partitions {
            guard let first = latest["\(tp.topic)/\(tp.partition)#0"] else { continue }
            var bytes = first.data
            for i in 1..<max(1, first.count) {
                guard let c = latest["\(tp.topic)/\(tp.partition)#\(i)"], c.id == first.id, c.crc == first.crc else {
                    throw CheckpointError("the checkpoint of \(tp.topic)/\(tp.partition) in \(topic) misses chunk \(i) of \(first.count)")
                }
                bytes += c.data
            }
            guard SnapshotCodec.crc32(bytes) == first.crc else {
                throw CheckpointError("the checkpoint of \(tp.topic)/\(tp.partition) in \(topic) is corrupted (checksum mismatch)")
            }
            out[tp] = bytes
        }
        return out
    }
}

@available(*, unavailable)
extension KafkaCheckpointStore: Sendable {}
