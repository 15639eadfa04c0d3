import Foundation
import LedgerAuditCore
import LedgerAuditReports

/// The BagIt profile (BagIt Profiles 1.3.0) every evidence pack declares in `bag-info.txt`
/// (`BagIt-Profile-Identifier`) and carries as `bagit-profile.json`; the same text is
/// `profiles/ledger-audit-evidence-pack-v1.json` in the repository (a test keeps them equal).
/// `check` applies its requirements, so `verify-pack` enforces what the profile declares.
public enum EvidenceProfile {
    public static let identifier = "urn:x-ledger-audit:bagit-profile:evidence-pack:v1"
    public static let fileName = "bagit-profile.json"

    public static let json = #"""
{
  "BagIt-Profile-Info": {
    "BagIt-Profile-Identifier": "urn:x-ledger-audit:bagit-profile:evidence-pack:v1",
    "BagIt-Profile-Version": "1.3.0",
    "Source-Organization": "ledger-audit",
    "External-Description": "Evidence packs written by ledger-audit evidence: the reports of one audit run (balances and trial balance, ADS general-ledger files, verify, reconcile, statements), the population extract, the catalog and the seals, from one snapshot; optionally signed with Ed25519 over the tag manifest.",
    "Version": "1.0"
  },
  "Bag-Info": {
    "BagIt-Profile-Identifier": {"required": true, "repeatable": false, "values": ["urn:x-ledger-audit:bagit-profile:evidence-pack:v1"]},
    "Source-Organization": {"required": true, "repeatable": false},
    "External-Description": {"required": true, "repeatable": false},
    "Bagging-Date": {"required": true, "repeatable": false},
    "Bag-Software-Agent": {"required": true, "repeatable": false},
    "Payload-Oxum": {"required": true, "repeatable": false},
    "Ledger-Audit-As-Of": {"required": true, "repeatable": false},
    "Ledger-Audit-Time-Basis": {"required": true, "repeatable": false, "values": ["hlc", "recorded"]},
    "Ledger-Audit-Source": {"required": true, "repeatable": false},
    "Ledger-Audit-Git-Revision": {"required": true, "repeatable": false},
    "Ledger-Audit-Runs": {"required": true, "repeatable": false},
    "Ledger-Audit-Seals": {"required": false, "repeatable": false},
    "Ledger-Audit-Signing-Key-Fingerprint": {"required": false, "repeatable": false}
  },
  "Manifests-Required": ["sha512"],
  "Manifests-Allowed": ["sha512"],
  "Tag-Manifests-Required": ["sha512"],
  "Tag-Manifests-Allowed": ["sha512"],
  "Tag-Files-Required": ["index.html", "bagit-profile.json"],
  "Tag-Files-Allowed": ["index.html", "bagit-profile.json", "ledger-audit-signing-key.pub", "tagmanifest-sha512.txt.sig", "tagmanifest-sha512.txt.tsr"],
  "Payload-Files-Required": ["data/run.json", "data/catalog.yml", "data/events.jsonl", "data/balances/balances.csv", "data/balances/run.json", "data/verify/findings.csv", "data/verify/run.json"],
  "Payload-Files-Allowed": ["data/*"],
  "Allow-Fetch.txt": false,
  "Fetch.txt-Required": false,
  "Data-Empty": false,
  "Serialization": "optional",
  "Accept-Serialization": ["application/zip"],
  "Accept-BagIt-Version": ["1.0"]
}
"""#

    /// What the bag lacks or holds against the profile; empty when it conforms.
    public static func check(_ bag: String) -> [String] {
        guard let profile = try? JSONParser.parse(json) else { return ["profile: the built-in profile is not JSON"] }
        var problems: [String] = []
        let fm = FileManager.default
        let info = Bag.parseInfo(TextFile.read(bag + "/bag-info.txt") ?? "")
        if case .object(let tags)? = profile.member("Bag-Info") {
            for (tag, rule) in tags {
                let values = info.filter { $0.0 == tag }.map(\.1)
                if rule.member("required") == .bool(true), values.isEmpty { problems.append("profile: bag-info.txt lacks \(tag)") }
                if rule.member("repeatable") == .bool(false), values.count > 1 { problems.append("profile: bag-info.txt repeats \(tag)") }
                if case .array(let allowed)? = rule.member("values") {
                    for v in values where !allowed.contains(.string(v)) { problems.append("profile: \(tag) is '\(v)', not one the profile allows") }
                }
            }
        }
        let root = (try? fm.contentsOfDirectory(atPath: bag)) ?? []
        func strings(_ key: String) -> [String] {
            guard case .array(let items)? = profile.member(key) else { return [] }
            return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        for (kind, prefix, allowedKey) in [("payload", "manifest-", "Manifests-Allowed"), ("tag", "tagmanifest-", "Tag-Manifests-Allowed")] {
            let present = root.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".txt") }.map { String($0.dropFirst(prefix.count).dropLast(4)) }
            for algorithm in present where !strings(allowedKey).contains(algorithm) { problems.append("profile: a \(kind) manifest in \(algorithm), which the profile does not allow") }
        }
        for required in strings("Tag-Files-Required") where !fm.fileExists(atPath: bag + "/" + required) { problems.append("profile: tag file \(required) is missing") }
        // Tag files as the profile means them: every root file but the bag's own declarations.
        let bagFiles: Set<String> = ["bagit.txt", "bag-info.txt", "fetch.txt"]
        for name in root where name != "data" && !bagFiles.contains(name) && !name.hasPrefix("manifest-") && !name.hasPrefix("tagmanifest-") {
            if !strings("Tag-Files-Allowed").contains(where: { fnmatch($0, name, 0) == 0 }) { problems.append("profile: tag file \(name) is not one the profile allows") }
        }
        for required in strings("Payload-Files-Required") where !fm.fileExists(atPath: bag + "/" + required) { problems.append("profile: payload file \(required) is missing") }
        if profile.member("Allow-Fetch.txt") == .bool(false), root.contains("fetch.txt") { problems.append("profile: fetch.txt is not allowed") }
        if let bagit = TextFile.read(bag + "/bagit.txt"), let version = bagit.split(separator: "\n").first?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces),
           !strings("Accept-BagIt-Version").contains(version) {
            problems.append("profile: BagIt version \(version) is not one the profile accepts")
        }
        return problems
    }
}
