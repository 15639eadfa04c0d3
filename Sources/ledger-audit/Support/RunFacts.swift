import Foundation
import LedgerAuditCore
import LedgerAuditReports

/// How the run was produced, for the report header.
enum RunFacts {
    /// The OS user running the tool.
    static func osUser() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid \(geteuid())"
    }

    /// The git revision the binary was built from: LEDGER_AUDIT_GIT_REVISION when packaged, else
    /// the revision of the checkout holding the binary (with "-dirty" for local changes).
    static let gitRevision: String = {
        if let v = ProcessInfo.processInfo.environment["LEDGER_AUDIT_GIT_REVISION"], !v.isEmpty { return v }
        let binaryDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        guard let head = git(["-C", binaryDir, "rev-parse", "HEAD"]) else { return "unknown" }
        let dirty = git(["-C", binaryDir, "status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }()

    static func git(_ arguments: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Everything a command replays with: catalog, source, scope, and the observers every report needs.
struct ReportRun {
    var loaded: LoadedCatalog
    var opened: OpenedSource
    var digest = EventsDigest()

    func header(kind: String, result: ReplayResult, asOfUs: Int64?, basis: TimeBasis, fromUs: Int64? = nil, knownAtUs: Int64? = nil) -> ReportHeader {
        var notes = result.source.notes
        if result.findings.droppedCount > 0 {
            notes.append("\(result.findings.droppedCount) findings past the limit of \(Limits.findingsKeptMax) are counted but not listed")
        }
        return ReportHeader(
            reportKind: kind, asOfUs: asOfUs, timeBasis: basis, source: opened.source.redactedDescription,
            catalogFile: loaded.file, catalogSHA256: SHA256Hex.of(loaded.text), population: result.population,
            controlTotals: result.controlTotals, conservation: result.conservation,
            eventsDigestSHA256: digest.hexDigest(), toolVersion: LedgerAudit.version, gitRevision: RunFacts.gitRevision,
            generatedAtUs: wallClockUs(), runBy: RunFacts.osUser(), notes: notes, fromUs: fromUs, knownAtUs: knownAtUs
        )
    }
}
