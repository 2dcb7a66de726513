/// How an alarm rule's alerts are handled: the severity colour of AL1 and AL2 and the departments to notify.
public struct AlertPolicy: Sendable, Hashable {
    public var level1: RiskLevel = .yellow
    public var level2: RiskLevel = .orange
    public var notify: [String] = ["safety"]
    public init(level1: RiskLevel = .yellow, level2: RiskLevel = .orange, notify: [String] = ["safety"]) {
        self.level1 = level1
        self.level2 = level2
        self.notify = notify
    }
}
