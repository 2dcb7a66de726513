public enum VigilPipelineInfo: Sendable { public static let formatVersion = 1 }
