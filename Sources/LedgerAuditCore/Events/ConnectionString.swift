/// Connection strings as the report shows them: the password removed, in URI and key=value form.
public enum ConnectionString {
    public static func redacted(_ text: String) -> String {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            return redactedURI(text)
        }
        return redactedKeyValue(text)
    }

    static func redactedURI(_ uri: String) -> String {
        guard let schemeEnd = uri.range(of: "://") else { return uri }
        let scheme = uri[..<schemeEnd.upperBound]
        var rest = Substring(uri[schemeEnd.upperBound...])
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") {
            query = rest[q...]
            rest = rest[..<q]
        }
        // userinfo ends at the last '@' before the path.
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<pathStart]
        let path = rest[pathStart...]
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            let hosts = authority[authority.index(after: at)...]
            let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] + ":***" } ?? userinfo
            authority = Substring(String(user) + "@" + hosts)
        }
        var redactedQuery = ""
        if !query.isEmpty {
            let params = query.dropFirst().split(separator: "&", omittingEmptySubsequences: false).map { p -> String in
                let name = p.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                return name.lowercased() == "password" ? "password=***" : String(p)
            }
            redactedQuery = "?" + params.joined(separator: "&")
        }
        return String(scheme) + authority + path + redactedQuery
    }

    static func redactedKeyValue(_ text: String) -> String {
        // key = value pairs; values may be single-quoted with backslash escapes.
        var out = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i].isWhitespace { out.append(chars[i]); i += 1; continue }
            var key = ""
            while i < chars.count, chars[i] != "=", !chars[i].isWhitespace { key.append(chars[i]); i += 1 }
            var sep = ""
            while i < chars.count, chars[i].isWhitespace || chars[i] == "=" { sep.append(chars[i]); i += 1 }
            var value = ""
            if i < chars.count, chars[i] == "'" {
                value.append("'")
                i += 1
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count { value.append(chars[i]); value.append(chars[i + 1]); i += 2; continue }
                    value.append(chars[i])
                    i += 1
                    if chars[i - 1] == "'" { break }
                }
            } else {
                while i < chars.count, !chars[i].isWhitespace { value.append(chars[i]); i += 1 }
            }
            out += key + sep + (key.lowercased() == "password" ? "***" : value)
        }
        return out
    }

    /// `"name"` with inner quotes doubled: identifiers from config are never spliced raw.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }
}

extension String {
    func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            start = index(after: start)
        }
        return nil
    }

    /// Every occurrence of `target` replaced (the core stays free of Foundation).
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while !rest.isEmpty {
            if rest.hasPrefix(target) {
                out += replacement
                rest = rest.dropFirst(target.count)
            } else {
                out.append(rest.removeFirst())
            }
        }
        return out
    }
}
