import Foundation
import LedgerAuditTestSupport
import Testing

/// The AICPA Audit Data Standard general-ledger files, read as an auditor's script reads them:
/// by name, by the standard's column names, rolling every account forward.
@Suite("ADS general-ledger files", .removesTemporaryFolders)
struct AuditDataStandardTests {
    /// A CSV file as rows of fields (RFC 4180 quoting), header first.
    static func rows(_ path: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(TestPaths.read(path)).makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; if n == "," { row.append(field); field = "" } else if n == "\n" { row.append(field); rows.append(row); row = []; field = "" } else { field.append(n) } }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        return rows
    }

    /// "-12.50" → -1250 (exactly, by digits), for an exponent.
    static func minor(_ text: String, _ exponent: Int) -> Int64 {
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        while fraction.count < exponent { fraction += "0" }
        let v = Int64(String(parts[0]) + fraction)!
        return negative ? -v : v
    }

    @Test("GL_Detail, Trial_Balance, Chart_Of_Accounts and User_Listing by name and layout; every account rolls forward; each currency nets to zero")
    func rollForward() throws {
        let folder = TestPaths.temporaryDirectory("ads")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let catalog = TestPaths.read(TestPaths.sample + "/ledger-audit.yml") + "\nfiscal_year_start_month: 4\nbusiness_unit: US-EAST\n"
        FileManager.default.createFile(atPath: folder + "/c.yml", contents: Data(catalog.utf8))
        let r = try runTool(["balances", "--source", TestPaths.sample + "/events.jsonl", "--config", folder + "/c.yml", "--from", "2026-05-03T00:00:00Z",
                             "--as-of", "2026-05-10T23:59:59Z", "--ads", folder + "/ads", "--out", folder + "/out", "-q"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/ads").sorted()
        #expect(names == ["Chart_Of_Accounts_20260503_20260510.csv", "GL_Detail_20260503_20260510.csv", "Trial_Balance_20260503_20260510.csv", "User_Listing_20260503_20260510.csv"])
        let gl = Self.rows(folder + "/ads/GL_Detail_20260503_20260510.csv")
        #expect(Array(gl[0].prefix(17)) == ["Journal_ID", "Journal_ID_Line_Number", "JE_Line_Description", "Business_Unit_Code", "Effective_Date", "Fiscal_Year",
                                            "GL_Account_Number", "Amount", "Amount_Credit_Debit_Indicator", "Amount_Currency", "JE_Header_Description", "Source",
                                            "Entered_By", "Document_Date", "Entered_Date", "Entered_Time", "Period"])
        let tb = Self.rows(folder + "/ads/Trial_Balance_20260503_20260510.csv")
        #expect(Array(tb[0].prefix(8)) == ["GL_Account_Number", "Business_Unit_Code", "Fiscal_Year", "Period", "Balance_As_Of_Date", "Amount_Beginning", "Amount_Ending", "Amount_Currency"])
        let col = Dictionary(uniqueKeysWithValues: gl[0].enumerated().map { ($1, $0) })
        let exponents = ["USD": 2, "EUR": 2, "JPY": 0]
        var movement: [String: Int64] = [:], net: [String: Int64] = [:]
        for line in gl.dropFirst() {
            let currency = line[col["Amount_Currency"]!]
            let amount = Self.minor(line[col["Amount"]!], exponents[currency]!)
            #expect(amount >= 0)
            let signed = line[col["Amount_Credit_Debit_Indicator"]!] == "D" ? amount : -amount
            movement[line[col["GL_Account_Number"]!] + "|" + currency, default: 0] += signed
            net[currency, default: 0] += signed
            #expect(line[col["Business_Unit_Code"]!] == "US-EAST")
            // April start: May is period 2 of the fiscal year that ends in 2027.
            #expect(line[col["Fiscal_Year"]!] == "2027" && line[col["Period"]!] == "2")
            #expect(line[col["Effective_Date"]!] >= "2026-05-03" && line[col["Effective_Date"]!] <= "2026-05-10")
        }
        #expect(gl.count > 100)
        #expect(net.values.allSatisfy { $0 == 0 }, "\(net)")
        for line in tb.dropFirst() {
            let key = line[0] + "|" + line[7]
            let e = exponents[line[7]]!
            #expect(Self.minor(line[5], e) + (movement[key] ?? 0) == Self.minor(line[6], e), "\(key)")
            #expect(line[4] == "2026-05-10")
        }
        // The trial balance's ending amounts are balances.csv's balances.
        let balances = Self.rows(folder + "/out/balances.csv").dropFirst().map { $0[0] + "|" + $0[1] + "|" + $0[2] }
        let endings = tb.dropFirst().map { $0[0] + "|" + $0[7] + "|" + String(Self.minor($0[6], exponents[$0[7]]!)) }
        #expect(Set(balances) == Set(endings))
        let coa = Self.rows(folder + "/ads/Chart_Of_Accounts_20260503_20260510.csv")
        #expect(Set(coa.dropFirst().map { $0[0] }) == Set(tb.dropFirst().map { $0[0] }))
        let users = Self.rows(folder + "/ads/User_Listing_20260503_20260510.csv")
        #expect(users[0].prefix(2) == ["User_ID", "User_Name"] && users.count > 2)
    }

    @Test("an evidence pack carries the ADS files under data/ads")
    func inEvidencePack() throws {
        let folder = TestPaths.temporaryDirectory("ads-pack")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try runTool(["evidence", "--source", TestPaths.sample + "/events.jsonl", "--as-of", "2026-05-22T00:00:00Z", "--out", folder + "/pack", "-q"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/pack/data/ads").sorted()
        #expect(names.count == 4 && names.allSatisfy { $0.hasSuffix("_20260522.csv") }, "\(names)")
        #expect(try runTool(["verify-pack", folder + "/pack"]).status == 0)
    }
}
