import Foundation
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditEvidence

/// `index.html` at a pack's root (a tag file, in the tag manifest): the one page to open. It
/// lists every report with its summary and findings, the population, the events digest, the
/// signing key and the time, with relative links that work offline, in the folder and once the
/// zip is unpacked. Self-contained: no script, no external style, no image.
enum PackIndex {
    static func esc(_ s: String) -> String { BalanceChart.escape(LedgerText.forOutput(s)) }

    static func html(_ r: EvidenceRequest, run: AuditOutcome, session: AuditSession, info: [(String, String)], signedBy: String?, bag: String) -> String {
        let catalog = session.catalog.catalog
        let title = "Evidence pack — \(catalog.organization ?? catalog.name) — as of \(Instant.iso8601(us: r.asOfUs))"
        var rows = ""
        for report in run.reports {
            let links = report.files.map { path -> String in
                let relative = path.hasPrefix(bag + "/") ? String(path.dropFirst(bag.count + 1)) : path
                let name = relative.split(separator: "/").last.map(String.init) ?? relative
                return "<a href=\"\(esc(relative))\">\(esc(name))</a>"
            }.joined(separator: " ")
            let counts = Severity.allCases.compactMap { s -> String? in
                let n = report.findings.countBySeverity[s] ?? 0
                return n == 0 ? nil : "\(n) \(s.rawValue)"
            }
            rows += "<tr><td>\(esc(report.kind))</td><td>\(report.failed ? "<strong>findings</strong>" : "clean")</td><td>\(esc(counts.isEmpty ? "none" : counts.joined(separator: ", ")))</td>"
                + "<td>\(report.summaryLines.map { esc($0.replacingOccurrences(of: bag + "/", with: "")) }.joined(separator: "<br>"))</td><td>\(links)</td></tr>\n"
        }
        let balances = run.reports.first { $0.kind == "balances" } ?? run.reports.first
        let p = balances?.result.population ?? Population()
        let digest = balances?.header.eventsDigestSHA256 ?? "not computed"
        var ads = ""
        if let names = (try? FileManager.default.contentsOfDirectory(atPath: bag + "/data/ads"))?.filter({ !$0.hasPrefix(".") }).sorted() {
            ads = names.map { "<a href=\"data/ads/\(esc($0))\">\(esc($0))</a>" }.joined(separator: " ")
        }
        let facts: [(String, String)] = [
            ("As of", Instant.iso8601(us: r.asOfUs) + " (time basis \(r.basis.rawValue))"),
            ("Source", session.source.redactedDescription),
            ("Population", "\(p.eventsRead) events read, \(p.eventsInScope) in scope, \(p.eventsQuarantined) quarantined, \(p.rowsMalformed) malformed rows"),
            ("Events digest (SHA-256, \(CanonicalEvent.name))", digest),
            ("Signature", signedBy.map { "Ed25519 over tagmanifest-sha512.txt, key \($0)" } ?? "not signed"),
            ("Time", "packed \(Instant.iso8601(us: session.facts.clockUs())) by the packing machine's clock; "
                + (r.tsaURL.map { "an RFC 3161 token over the tag manifest (which covers this page) is requested from \($0) and kept as \(Bag.timestampFile): verify-pack --tsa-ca states the TSA's time" }
                    ?? "no trusted timestamp (RFC 3161) in this pack")),
            ("BagIt profile", EvidenceProfile.identifier + " (bagit-profile.json)"),
            ("Tool", "ledger-audit \(session.facts.toolVersion), revision \(session.facts.gitRevision)"),
        ]
        let factRows = facts.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined(separator: "\n")
        let infoRows = info.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}table{border-collapse:collapse;margin:0 0 1.5em}
            th,td{border:1px solid #c9ced6;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f1f3f6}
            code,td:nth-child(2){font-variant-numeric:tabular-nums}a{color:#0b57d0}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}</style></head>
            <body><h1>\(esc(title))</h1>
            <h2>The pack</h2><table>\(factRows)</table>
            <h2>Reports</h2><table><tr><th>report</th><th>verdict</th><th>findings</th><th>summary</th><th>files</th></tr>
            \(rows)</table>
            <h2>Auditor files</h2><table>
            <tr><th>ADS general ledger</th><td>\(ads.isEmpty ? "none" : ads)</td></tr>
            <tr><th>Population extract</th><td><a href="data/events.jsonl">data/events.jsonl</a> (the events in scope, global order, card numbers masked)</td></tr>
            <tr><th>Catalog</th><td><a href="data/catalog.yml">data/catalog.yml</a></td></tr>
            <tr><th>Run</th><td><a href="data/run.json">data/run.json</a></td></tr></table>
            <h2>bag-info.txt</h2><table>\(infoRows)</table>
            <p>Check the pack with <code>ledger-audit verify-pack PACK --public-key KEY.pub</code> or <code>bagit.py --validate PACK</code>.</p>
            </body></html>

            """
    }
}
