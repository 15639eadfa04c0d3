import Foundation

/// Every file of a report folder, by name, for byte-for-byte comparisons.
public func reportFiles(_ folder: String) -> [String: String] {
    var out: [String: String] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        out[name] = TestPaths.read(folder + "/" + name)
    }
    return out
}

/// A folder removed when the value goes (tests leave nothing behind).
public final class ScratchFolder {
    public let path: String
    public init(_ label: String) { path = TestPaths.temporaryDirectory(label) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func sub(_ name: String) -> String { path + "/" + name }
}
