import Foundation
import LedgerAuditEvidence

/// SHA-512 of the files the pass streamed (population extract, journal, GL detail: gigabytes
/// at 2M events), computed on a thread of their own while the reports render on the main one,
/// so the bag's manifest need not read them again afterwards. A file that could not be hashed
/// here is simply hashed again by the bag.
public final class StreamedFileDigests: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var digests: [String: String] = [:]
    private var done = false

    /// Starts hashing `paths` (complete, committed files that are not written again).
    init(paths: [String]) {
        let thread = Thread { [self] in
            var found: [String: String] = [:]
            for path in paths {
                if let digest = try? Bag.sha512Hex(path) { found[path] = digest }
            }
            condition.lock()
            digests = found
            done = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "ledger-audit streamed-file digests"
        thread.start()
    }

    /// Path → lower-case hex SHA-512, once every file is hashed.
    public func wait() -> [String: String] {
        condition.lock()
        defer { condition.unlock() }
        while !done { condition.wait() }
        return digests
    }
}
