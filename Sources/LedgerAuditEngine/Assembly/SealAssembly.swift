import LedgerAuditChecks
import LedgerAuditCore
import LedgerAuditEvidence
import LedgerAuditReports

/// `seal`: the earlier seals checked against the store as read now (SEAL_BROKEN is a finding of
/// the report, and nothing is appended), then a new seal of the events in scope appended.
enum SealAssembly {
    static func assemble(_ f: ReportFacts, sealsFile: String, leaves: SealLeafCollector, tsaURL: String?) throws(AuditFailure) -> Assembled {
        let existing = f.work.checkContext.seals ?? SealInput(path: sealsFile, records: [], chainProblems: [], publicKey: nil)
        let size = leaves.leaves.count
        let tree = MerkleTree(leaves.leaves)
        let asOfUs = f.scope.asOfUs
        if let last = existing.records.last, existing.chainProblems.isEmpty,
           size < last.treeSize || (asOfUs.map { Instant.floorDivMod($0, 1000).0 < last.asOfMs } ?? false) {
            throw .usage("seal \(last.number) already covers \(last.treeSize) events as of \(Instant.iso8601(ms: last.asOfMs)); seal as of that instant or later")
        }
        // The store must still hold every sealed event, unchanged, before a new seal extends it.
        let verification = SealVerification.check(records: existing.records, chainProblems: existing.chainProblems, sealsPath: sealsFile,
                                                  current: leaves, tree: tree, sealKey: existing.publicKey, tsaCAFile: existing.tsaCAFile)
        let extra = verification.findings
        // An earlier seal's missing or bad token is reported, but only broken history stops the new seal.
        let broken = verification.findings.filter { $0.code == .sealBroken }
        var figures: [(label: String, value: String)] = []
        var lines: [String] = []
        if broken.isEmpty {
            let leafBytes = SealFile.leavesBytes(ids: leaves.eventIds, leaves: leaves.leaves, count: size)
            let asOfMs = asOfUs.map { Instant.floorDivMod($0, 1000).0 } ?? (leaves.lastEvent?.hlcPhysicalMs ?? 0)
            var record = SealRecord(
                number: existing.records.count + 1, treeSize: size, rootHex: Hex.encode(tree.root(size: size)), asOfMs: asOfMs,
                lastEventId: leaves.lastEvent?.eventId, sealedAtUs: f.session.facts.clockUs(),
                previousSealSHA256: existing.records.last.map { SHA256Hex.of($0.rawLine ?? $0.line) },
                leavesSHA256: SHA256Hex.of(leafBytes), toolVersion: f.session.facts.toolVersion
            )
            do {
                if let key = f.work.signingKey { try record.sign(with: key) }
            } catch {
                throw .output("\(error)")
            }
            // Stamped before anything is written: an unreachable TSA leaves the seal file as it was.
            var stamped: (response: [UInt8], stamp: TrustedTime.Stamp)?
            if let tsaURL {
                do {
                    stamped = try TrustedTime.stamp(Array(record.line.utf8), url: tsaURL)
                } catch {
                    throw .source("trusted time: \(error.description); no seal was appended")
                }
            }
            let tokenPath = SealFile.timestampPath(sealsFile, number: record.number)
            do {
                if let stamped { try AtomicFile.writeWholeBytes(tokenPath, stamped.response) }
                try AtomicFile.writeWholeBytes(SealFile.leavesPath(sealsFile), leafBytes)
                try SealFile.append(record, to: sealsFile)
            } catch {
                throw .output("\(error)")
            }
            figures = [("Seal", String(record.number)), ("Events sealed", String(size)), ("As of", Instant.iso8601(ms: asOfMs)),
                       ("Root (SHA-256)", record.rootHex), ("Seal file", sealsFile), ("Leaves file", SealFile.leavesPath(sealsFile)),
                       ("Signed by", record.keyFingerprint ?? "not signed")]
            if let stamp = stamped?.stamp, let tsaURL {
                figures.append(("Trusted time", "\(stamp.time) (RFC 3161 token from \(tsaURL), serial \(stamp.serial), kept as \(tokenPath))"))
            }
            lines = [
                "sealed \(size) events as of \(Instant.iso8601(ms: asOfMs)) (\(f.result.population.rowsMalformed) unreadable rows are not in the seal): root \(record.rootHex)",
                "seal \(record.number) appended to \(sealsFile)" + (f.work.signingKey.map { ", signed by \($0.publicKey.fingerprint)" } ?? "") + "; leaves in \(SealFile.leavesPath(sealsFile))",
            ]
            if let stamp = stamped?.stamp, let tsaURL { lines.append("time-stamped by \(tsaURL): \(stamp.time), token \(tokenPath)") }
        } else {
            figures = [("Seal", "not appended: the store no longer extends the sealed history (SEAL_BROKEN)")]
            lines = ["SEAL_BROKEN: \(broken[0].message)", "the store no longer extends the sealed history; no new seal was appended"]
        }
        let findings = f.findings(adding: extra)
        var sections = [ReportSection(id: "seal", title: "New seal", figures: figures)]
        if !existing.records.isEmpty || !existing.chainProblems.isEmpty { sections.append(verification.section) }
        sections.append(FindingsTable.section(findings))
        let report = Report(kind: "seal", title: "Seal of the event store", header: f.header("seal", findings: findings), sections: sections)
        return Assembled(report: report, findings: findings, summaryLines: lines, failed: f.failed(findings) || !verification.findings.isEmpty,
                         extraFiles: existing.records.isEmpty ? [] : [ReportFile(name: "seal-proof.json", text: verification.proofJSON)])
    }
}
