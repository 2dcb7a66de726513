public enum VigilRuntimeInfo: Sendable { public static let name = "vigil" }
