import Foundation

/// What a `vigil run` log says about partition assignment: the last "partitions assigned" line of each worker,
/// as the partitions it holds and the partitions it has restored from checkpoints so far (`restored_total`).
/// Lines without a `worker` field (a process of one worker) count as worker 0.
public func lastAssignments(inLog log: String) -> [String: (partitions: Set<String>, restored: Int)] {
    var last: [String: (partitions: Set<String>, restored: Int)] = [:]
    for line in log.split(separator: "\n") where line.contains("partitions assigned") {
        func field(_ name: String) -> String? {
            guard let range = line.range(of: " \(name)=") ?? line.range(of: ": \(name)=") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != " " })
        }
        let partitions = Set((field("partitions") ?? "").split(separator: ",").map(String.init))
        last[field("worker") ?? "0"] = (partitions, Int(field("restored_total") ?? "") ?? 0)
    }
    return last
}

/// The partitions a process's workers restored from checkpoints, summed over its workers.
public func restoredPartitions(inLog log: String) -> Int { lastAssignments(inLog: log).values.reduce(0) { $0 + $1.restored } }
