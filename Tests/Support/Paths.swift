import Foundation

/// Where the package, its samples and the built binary are.
public enum TestPaths {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var sample: String { packageRoot + "/samples/auction" }

    /// The built `ledger-audit`: LEDGER_AUDIT_BIN (set by scripts/test), else the debug build.
    public static var binary: String {
        ProcessInfo.processInfo.environment["LEDGER_AUDIT_BIN"] ?? packageRoot + "/.build/debug/ledger-audit"
    }

    /// A new folder, removed when the test that made it ends (`.removesTemporaryFolders` on
    /// its suite), or when the test process exits if no test scope made it.
    public static func temporaryDirectory(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "ledger-audit-test-\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        (TemporaryFolders.current ?? TemporaryFolders.process).add(path)
        return path
    }

    public static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Ended by a signal (a crash: SIGILL, SIGSEGV, SIGABRT), not by exit().
    public var crashed = false
    /// Killed after the time limit: a hang.
    public var timedOut = false
}

/// Runs the built binary as a user would.
public func runTool(_ arguments: [String], environment: [String: String] = [:], timeLimitSeconds: Int = 300) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestPaths.binary)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // SIGKILL, not terminate()'s SIGTERM: a child spawned from a test's thread inherits its
    // blocked signals (SIGTERM among them), so a hung run ignored SIGTERM and held the suite.
    let deadline = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(timeLimitSeconds), execute: deadline)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let timedOut = deadline.isCancelled == false && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    deadline.cancel()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                     crashed: process.terminationReason == .uncaughtSignal && !timedOut, timedOut: timedOut)
}


/// Runs another program (a peer tool, a shell line) and returns its status and its stdout and
/// stderr together, for tests that check what a third-party tool says.
public func runProgram(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}
