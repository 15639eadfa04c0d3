import CLibPQ
#if canImport(Glibc)
import Glibc
#endif
import LedgerAuditCore

/// What `--source` names, decided without guessing: an existing path is a file; `postgresql://`,
/// `postgres://` or libpq `key=value` pairs are a connection; `file:` and `pg:` force either.
/// A name that is neither, but ends like an extract (.jsonl, .ndjson, .csv), is a file that
/// cannot be read (exit 3); anything else is refused with both readings explained (exit 2).
public enum LocatedSource: Sendable, Hashable {
    case file(String)
    case postgres(String)
}

public enum SourceLocator {
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func locate(_ text: String?) throws(Refusal) -> LocatedSource {
        guard let text, !text.isEmpty else { return .postgres("") }
        if text.hasPrefix("file:") { return .file(String(text.dropFirst(5))) }
        if text.hasPrefix("pg:") { return .postgres(String(text.dropFirst(3))) }
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") { return .postgres(text) }
        var info = stat()
        if stat(text, &info) == 0 { return .file(text) }
        if isKeyValueConnection(text) { return .postgres(text) }
        if looksLikeExtract(text) { return .file(text) }
        throw Refusal(description: "--source '\(ConnectionString.redacted(text))' is neither an existing file (no such path) nor a PostgreSQL connection (not postgresql://… and not libpq key=value pairs); write file:PATH or pg:CONNINFO to say which")
    }

    static func looksLikeExtract(_ text: String) -> Bool {
        text.hasSuffix(".jsonl") || text.hasSuffix(".ndjson") || text.hasSuffix(".csv")
    }

    /// Whether a connection string (URI or key=value pairs) carries a password, as libpq parses it.
    public static func carriesPassword(_ conninfo: String) -> Bool {
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            // Unparseable: libpq will refuse it when connecting; a crude look for the key meanwhile.
            return conninfo.contains("password")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if ConnectionString.isSecretKeyword(String(cString: keyword)), let value = option.pointee.val, value.pointee != 0 { return true }
            option += 1
        }
        return false
    }

    /// libpq's own parser decides: `host=… dbname=…` parses, `/data/dt=2024-03-01/x.jsonl` does not.
    static func isKeyValueConnection(_ text: String) -> Bool {
        guard text.contains("=") else { return false }
        var errmsg: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(text, &errmsg) else {
            if let errmsg { PQfreemem(errmsg) }
            return false
        }
        PQconninfoFree(options)
        return true
    }
}
