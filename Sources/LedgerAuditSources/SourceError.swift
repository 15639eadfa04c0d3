import LedgerAuditCore

/// The source could not be read at all (exit status 3). Messages never carry a password.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
