#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
/// Connection strings as the report shows them: the password removed, in URI and key=value form.
public enum ConnectionString {
    /// libpq's keywords whose values are secrets: the server password and the passphrase of
    /// the client's TLS key. A URI's parameter names are percent-decoded first, as libpq
    /// decodes them (`pass%77ord=` is a password).
    public static func isSecretKeyword(_ name: some StringProtocol) -> Bool {
        let key = percentDecoded(name).lowercased()
        return key == "password" || key == "sslpassword"
    }

    static func percentDecoded(_ text: some StringProtocol) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: return b - 0x30
            case 0x41...0x46: return b - 0x37
            case 0x61...0x66: return b - 0x57
            default: return nil
            }
        }
        while let b = utf8.popFirst() {
            if b == 0x25, utf8.count >= 2, let h = hex(utf8[utf8.startIndex]), let l = hex(utf8[utf8.startIndex + 1]) {
                bytes.append(h << 4 | l)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

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
                return isSecretKeyword(name) ? name + "=***" : String(p)
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
            out += key + sep + (isSecretKeyword(key) ? "***" : value)
        }
        return out
    }

    /// `"name"` with inner quotes doubled: identifiers from config are never spliced raw.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }
}

/// memcmp order of the UTF-8 bytes (C collation): -1, 0 or 1.
public func bytewiseCompare(_ a: String, _ b: String) -> Int {
    a.withUTF8InPlace { x in b.withUTF8InPlace { y in bytewiseCompare(x, y) } }
}

/// `bytewiseCompare` on the bytes themselves.
public func bytewiseCompare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
    let n = min(x.count, y.count)
    if n > 0 {
        let c = memcmp(x.baseAddress!, y.baseAddress!, n)
        if c != 0 { return c < 0 ? -1 : 1 }
    }
    return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
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

    /// Without the given characters at either end (the core stays free of Foundation).
    public func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }

    /// Every occurrence of `target` replaced (the core stays free of Foundation). Works on UTF-8
    /// bytes: a valid UTF-8 needle only matches at character boundaries.
    public func replacingAll(_ target: String, with replacement: String) -> String {
        let needle = Array(target.utf8)
        guard let first = needle.first else { return self }
        var haystack = self
        return haystack.withUTF8 { bytes -> String in
            guard bytes.contains(first) else { return self }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            let with = Array(replacement.utf8)
            var i = 0
            while i < bytes.count {
                if bytes[i] == first, i + needle.count <= bytes.count,
                   needle.indices.allSatisfy({ bytes[i + $0] == needle[$0] }) {
                    out.append(contentsOf: with)
                    i += needle.count
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
