import LedgerAuditCore

/// `APPEND_ONLY_GAP`: does the database itself refuse UPDATE, DELETE and TRUNCATE on the event
/// table? Read from PostgreSQL's catalogs in the run's snapshot, names bound as parameters.
/// A rule `DO INSTEAD NOTHING` or an enabled BEFORE trigger counts as blocking UPDATE / DELETE
/// (the trigger is taken to raise; its body is not inspected); only a BEFORE TRUNCATE trigger
/// blocks TRUNCATE, since rules never fire on it. Roles other than the owner holding UPDATE,
/// DELETE or TRUNCATE, and the application's role owning the table, are gaps too.
public final class AppendOnlyCheck: Check {
    public static let name = "append-only"
    public static let summary = "the database refuses UPDATE, DELETE and TRUNCATE on the event table (PostgreSQL only)"
    public static let codes: [FindingCode] = [.appendOnlyGap]
    public static var input: CheckInput { .storeCatalog }

    public static func notApplicable(_ context: CheckContext) -> String? {
        context.sourceHasStoreCatalog ? nil : "needs a PostgreSQL source"
    }

    let location: StoreLocation

    public init(context: CheckContext) { location = context.catalog.store }

    public func finish(_ end: CheckEnd, findings: inout FindingLog) throws -> CheckReport {
        guard let store = end.store else { return CheckReport(note: "needs a PostgreSQL source") }
        for f in try AppendOnlyCheck.run(store: store, location: location, applicationRole: location.applicationRole) { findings.append(f) }
        return CheckReport(note: "from the PostgreSQL catalogs")
    }

    public static func run(store session: any StoreCatalog, location store: StoreLocation, applicationRole: String?) throws -> [Finding] {
        let table = "\(store.schema).\(store.table)"
        let rows = try session.query("""
            SELECT c.oid::text, pg_get_userbyid(c.relowner)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """, [store.schema, store.table])
        guard let row = rows.first, let oid = row[0], let owner = row[1] else {
            return [gap("the event table \(table) was not found in the catalogs: nothing can be said about append-only enforcement", evidence: [])]
        }
        var blocks: [String: [String]] = ["UPDATE": [], "DELETE": [], "TRUNCATE": []]
        for r in try session.query("""
            SELECT rulename::text, ev_type::text, is_instead::text, pg_get_ruledef(oid)
            FROM pg_rewrite WHERE ev_class = $1::oid AND rulename <> '_RETURN'
            """, [oid]) {
            let definition = r[3] ?? ""
            guard r[2] == "true", definition.contains("DO INSTEAD NOTHING") else { continue }
            if r[1] == "2" { blocks["UPDATE"]!.append("rule \(r[0] ?? "")") }
            if r[1] == "4" { blocks["DELETE"]!.append("rule \(r[0] ?? "")") }
        }
        for r in try session.query("""
            SELECT tgname::text, tgtype::int::text, tgenabled::text
            FROM pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal
            """, [oid]) {
            guard let t = r[1].flatMap({ Int($0) }), r[2] != "D", t & 2 != 0 else { continue }  // enabled BEFORE triggers
            let name = "trigger \(r[0] ?? "")"
            if t & 16 != 0 { blocks["UPDATE"]!.append(name) }
            if t & 8 != 0 { blocks["DELETE"]!.append(name) }
            if t & 32 != 0 { blocks["TRUNCATE"]!.append(name) }
        }
        var findings: [Finding] = []
        for verb in ["UPDATE", "DELETE"] where blocks[verb]!.isEmpty {
            findings.append(gap("nothing on \(table) blocks \(verb): an event can be \(verb == "UPDATE" ? "rewritten" : "deleted") in place. Add a BEFORE \(verb) trigger that raises (rules alone can be dropped by the owner), and revoke \(verb) from every role",
                                evidence: [("verb", verb), ("owner", owner)]))
        }
        if blocks["TRUNCATE"]!.isEmpty {
            findings.append(gap("nothing on \(table) blocks TRUNCATE (rules never fire on it): the whole history can be erased in one statement. Add CREATE TRIGGER … BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT EXECUTE FUNCTION a function that raises, and REVOKE TRUNCATE from every role",
                                evidence: [("verb", "TRUNCATE"), ("owner", owner)]))
        }
        for r in try session.query("""
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type
            FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
            WHERE c.oid = $1::oid AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND a.grantee <> c.relowner
            ORDER BY 1, 2
            """, [oid]) {
            let grantee = r[0] ?? "?", privilege = r[1] ?? "?"
            findings.append(gap("role \(grantee) holds \(privilege) on \(table): REVOKE \(privilege) ON \(table) FROM \(grantee)",
                                evidence: [("grantee", grantee), ("privilege", privilege)]))
        }
        if let applicationRole, applicationRole == owner {
            findings.append(gap("the application's role \(owner) owns \(table): an owner can drop rules and triggers and rewrite history. Make a separate role own the table and grant the application INSERT and SELECT only",
                                evidence: [("owner", owner)]))
        }
        return findings
    }

    static func gap(_ message: String, evidence: [(String, String)]) -> Finding {
        Finding(code: .appendOnlyGap, message: message, evidence: evidence, location: "database catalogs")
    }
}
