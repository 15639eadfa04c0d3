import Foundation
import Testing

/// The folders one test made with `TestPaths.temporaryDirectory`, removed when it ends, so a
/// plain `swift test --filter` leaves nothing in /tmp (scripts/test's scratch folder is only
/// the last net).
public final class TemporaryFolders: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [String] = []

    @TaskLocal static var current: TemporaryFolders?

    /// Folders made outside any test's scope (suite-level values): removed at exit.
    static let process: TemporaryFolders = {
        let folders = TemporaryFolders()
        atexit { TemporaryFolders.process.removeAll() }
        return folders
    }()

    func add(_ path: String) {
        lock.lock()
        paths.append(path)
        lock.unlock()
    }

    func removeAll() {
        lock.lock()
        let made = paths
        paths = []
        lock.unlock()
        for path in made { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// `@Suite(..., .removesTemporaryFolders)`: each test (each case of a parameterized one)
/// removes the folders it made when it ends, passed or failed.
public struct RemovesTemporaryFolders: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let made = TemporaryFolders()
        defer { made.removeAll() }
        try await TemporaryFolders.$current.withValue(made) { try await function() }
    }
}

extension Trait where Self == RemovesTemporaryFolders {
    public static var removesTemporaryFolders: Self { RemovesTemporaryFolders() }
}
