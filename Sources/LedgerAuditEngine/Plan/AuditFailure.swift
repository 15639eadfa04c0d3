/// Exit status, as outputs.md promises it to schedulers.
public enum ExitStatus: Int32, Sendable {
    case clean = 0
    case findings = 1
    case usage = 2
    case source = 3
    /// A report could not be written (disk full, read-only folder, `--out` names a file).
    case output = 4
}

/// A failure of the tool (not of the ledger), with the exit status it maps to and a message a
/// person can act on.
public struct AuditFailure: Error, CustomStringConvertible, Sendable {
    public var status: ExitStatus
    public var message: String
    public var description: String { message }

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func usage(_ m: String) -> AuditFailure { AuditFailure(.usage, m) }
    public static func source(_ m: String) -> AuditFailure { AuditFailure(.source, m) }
    public static func output(_ m: String) -> AuditFailure { AuditFailure(.output, m) }
}
