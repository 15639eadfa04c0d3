/// A JSON document kept as its text and read only as far as a stage needs: the replay looks up
/// a payload's `amount` and `currency` without building a tree, and never parses metadata.
/// Sources check the text is valid JSON before making one (jsonb from PostgreSQL always is).
public struct JSONText: Sendable, Equatable {
    /// The text: a string, or a slice of the bytes one row's JSON columns share (`JSONRowBytes`).
    @usableFromInline let storage: Storage
    /// The text is in the form PostgreSQL's jsonb prints: keys already in jsonb order,
    /// duplicates gone, whitespace only as `", "` and `": "`, no escapes. The server's jsonb is;
    /// a file's text is when `checking` found it so. The digest then copies it as it is, and
    /// lookups stop past the longest key they want.
    public let isJSONBOutput: Bool

    @usableFromInline enum Storage: @unchecked Sendable {  // JSONRowBytes is immutable once made
        case string(String)
        /// Bytes `start ..< start + count` of a row's shared bytes (UTF-8, checked when made).
        case row(JSONRowBytes, start: Int32, count: Int32)
    }

    /// Text already known to be valid JSON (checked by `validating`, or PostgreSQL's jsonb output).
    public init(validated text: String, isJSONBOutput: Bool = false) {
        storage = .string(text)
        self.isJSONBOutput = isJSONBOutput
    }

    /// A slice of a row's bytes, already known to be valid JSON in UTF-8.
    init(row: JSONRowBytes, start: Int, count: Int, isJSONBOutput: Bool) {
        storage = .row(row, start: Int32(start), count: Int32(count))
        self.isJSONBOutput = isJSONBOutput
    }

    /// A row's three JSON texts (vector clock, payload, metadata), each valid JSON in UTF-8,
    /// copied into one shared allocation (`JSONRowBytes`), with whether each is in jsonb's form.
    public static func sharingOneBuffer(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ c: UnsafeBufferPointer<UInt8>,
                                        jsonbForm: (Bool, Bool, Bool)) -> (JSONText, JSONText, JSONText) {
        let row = JSONRowBytes.make(a, b, c)
        return (JSONText(row: row, start: 0, count: a.count, isJSONBOutput: jsonbForm.0),
                JSONText(row: row, start: a.count, count: b.count, isJSONBOutput: jsonbForm.1),
                JSONText(row: row, start: a.count + b.count, count: c.count, isJSONBOutput: jsonbForm.2))
    }

    /// The text as a String (made anew for a slice of a row's bytes: for reports, not the pass).
    public var text: String {
        switch storage {
        case .string(let s): return s
        case .row: return withBytes { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The text's UTF-8 bytes, read in place (no copy, no retain of the storage).
    @inlinable
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch storage {
        case .string(let s): return try s.withUTF8InPlace(body)
        case .row(let bytes, let start, let count): return try bytes.withSlice(start: Int(start), count: Int(count), body)
        }
    }

    /// The text's length in UTF-8 bytes.
    public var byteCount: Int {
        switch storage {
        case .string(let s): return s.utf8.count
        case .row(_, _, let count): return Int(count)
        }
    }

    /// Equal texts (and forms), however each is stored.
    public static func == (a: JSONText, b: JSONText) -> Bool {
        guard a.isJSONBOutput == b.isJSONBOutput, a.byteCount == b.byteCount else { return false }
        return a.withBytes { x in b.withBytes { y in x.elementsEqual(y) } }
    }

    public init(_ value: JSONValue) {
        storage = .string(JSONWriter.write(value))
        isJSONBOutput = false
    }

    public static func validating(_ text: String) throws(JSONParseError) -> JSONText {
        var copy = text
        let (error, isJSONBForm) = copy.withUTF8 { checking($0) }
        if let error { throw error }
        return JSONText(validated: text, isJSONBOutput: isJSONBForm)
    }

    /// Untrusted text checked: the error when it is not valid JSON, and whether it already is
    /// in jsonb's form. Most text is (what PostgreSQL printed), and one pass then says both.
    public static func checking(_ bytes: UnsafeBufferPointer<UInt8>) -> (error: JSONParseError?, isJSONBForm: Bool) {
        if JSONBCanonical.isValidCanonical(bytes) { return (nil, true) }
        return (JSONParser.validate(bytes), false)
    }

    public static let emptyObject = JSONText(validated: "{}")

    /// The whole document as a tree.
    public func parse() -> JSONValue {
        withBytes { (try? JSONParser.parse($0)) ?? .null }
    }

    /// The last top-level member with this key (jsonb keeps the last of duplicates).
    public func member(_ key: String) -> JSONValue? { memberAndCount(key).value }

    /// `member(key)?.scalarText`, with a string that holds no escape read straight from the
    /// bytes: no JSON value is made (a hold key read this way for every transit leg).
    public func memberScalarText(_ key: String) -> String? {
        return withBytes { bytes -> String? in
            guard let range = members(key, nil, in: bytes).first.range else { return nil }
            if range.count >= 2, bytes[range.lowerBound] == 0x22 {
                let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
                if !inner.contains(0x5C) { return String(decoding: inner, as: UTF8.self) }
            }
            return (try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[range])))?.scalarText
        }
    }

    /// `memberScalarText(key)` handed to `body` as its UTF-8 bytes (nil when there is none): a
    /// string without escapes straight from the text, no String made (a hold key, every transit leg).
    public func withMemberScalarText<R>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        return withBytes { bytes -> R in
            guard let range = members(key, nil, in: bytes).first.range else { return body(nil) }
            if range.count >= 2, bytes[range.lowerBound] == 0x22 {
                let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
                if !inner.contains(0x5C) { return body(inner) }
            }
            guard let text = (try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[range])))?.scalarText else { return body(nil) }
            return text.withUTF8InPlace { body($0) }
        }
    }

    public func memberCount(_ key: String) -> Int { memberAndCount(key).count }

    /// One scan: the last member with this key, and how many members have it.
    public func memberAndCount(_ key: String) -> (value: JSONValue?, count: Int) {
        return withBytes { bytes -> (JSONValue?, Int) in
            let found = members(key, nil, in: bytes).first
            return (found.range.flatMap { try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[$0])) }, found.count)
        }
    }

    /// Where the last top-level member with each key sits, and how many members have it: the
    /// one scan behind every lookup by name. jsonb text (keys shorter first, each once) is
    /// read only until every key is found or a longer key comes (`JSONKeySlice.isPast`).
    func members(_ first: String, _ second: String?, in bytes: UnsafeBufferPointer<UInt8>) -> (first: (range: Range<Int>?, count: Int), second: (range: Range<Int>?, count: Int)) {
        var found: (Range<Int>?, Range<Int>?) = (nil, nil)
        var counts = (0, 0)
        // A copy of the flag: the closure reading `self.isJSONBOutput` captured `self`, which
        // retained the text, a string the reader's thread made (~3% of the fold's thread on a
        // read-ahead JSONL extract, that count's cache line moving between the cores).
        let jsonb = isJSONBOutput
        let longest = jsonb ? max(first.utf8.count, second?.utf8.count ?? 0) : Int.max
        _ = JSONParser.walkTopLevelMembers(bytes, until: { k, value in
            if k.isPast(longest) { return false }
            if k.matches(first, in: bytes) { found.0 = value; counts.0 += 1 }
            else if let second, k.matches(second, in: bytes) { found.1 = value; counts.1 += 1 }
            return !(jsonb && found.0 != nil && (second == nil || found.1 != nil))
        })
        return ((found.0, counts.0), (found.1, counts.1))
    }
}

extension JSONText {
    /// Two top-level members in one scan (a posting's amount and currency): each the last
    /// member with its key, and how many members have it.
    public func membersAndCounts(_ first: String, _ second: String) -> (first: (value: JSONValue?, count: Int), second: (value: JSONValue?, count: Int)) {
        return withBytes { bytes in
            let found = members(first, second, in: bytes)
            func parsed(_ r: Range<Int>?) -> JSONValue? { r.flatMap { try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[$0])) } }
            return ((parsed(found.first.range), found.first.count), (parsed(found.second.range), found.second.count))
        }
    }

    /// A posting's amount and currency in their plainest form, read from the bytes without
    /// making JSON values: the amount exactly once, a JSON integer or a string of digits, 1–18
    /// digits (no overflow possible); the currency at most once, absent or a string without
    /// escapes. nil for anything else: the caller then reads the fields the general way, which
    /// words any finding. What this returns is what that way would give.
    public func plainAmountAndCurrency(_ amountKey: String, _ currencyKey: String) -> (amountMinor: Int64, currency: String?)? {
        return withBytes { bytes -> (amountMinor: Int64, currency: String?)? in
            let found = members(amountKey, currencyKey, in: bytes)
            guard found.first.count == 1, found.second.count <= 1, let amount = found.first.range, !amount.isEmpty else { return nil }
            let currency = found.second.range
            var digits = amount
            if bytes[amount.lowerBound] == 0x22 {
                guard amount.count >= 2 else { return nil }
                digits = (amount.lowerBound + 1)..<(amount.upperBound - 1)
            }
            guard !digits.isEmpty, digits.count <= 18 else { return nil }
            var value: Int64 = 0
            for i in digits {
                let b = bytes[i]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                value = value &* 10 &+ Int64(b &- 0x30)
            }
            var code: String?
            if let currency {
                guard currency.count >= 2, bytes[currency.lowerBound] == 0x22 else { return nil }
                let inner = (currency.lowerBound + 1)..<(currency.upperBound - 1)
                guard inner.count <= 15, !inner.contains(where: { bytes[$0] == 0x5C }) else { return nil }
                code = String(decoding: UnsafeBufferPointer(rebasing: bytes[inner]), as: UTF8.self)
            }
            return (value, code)
        }
    }

    /// The value at a path of member names (`["amount"]`, `["money", "amount"]`), and how many
    /// members carry the last name in its object (more than one is never guessed between).
    public func value(at path: [String]) -> (value: JSONValue?, count: Int) {
        guard let first = path.first else { return (parse(), 1) }
        var (value, count) = memberAndCount(first)
        for key in path.dropFirst() {
            guard let v = value else { return (nil, 0) }
            count = v.memberCount(key)
            value = v.member(key)
        }
        return (value, count)
    }
}

/// A member name as it sits in the text: a byte range, with escapes decoded only when present.
struct JSONKeySlice {
    var range: Range<Int>
    var hasEscape: Bool

    /// jsonb prints an object's keys shorter first (by bytes, after unescaping), each once: in
    /// its text, past a key longer than every name looked for, no later key can match, and a
    /// name found is found for good. Readers of such text stop there (payloads carry ids and
    /// notes after `amount` and `currency`). A key with an escape is never taken as past.
    @inline(__always) func isPast(_ longestWanted: Int) -> Bool {
        !hasEscape && range.count > longestWanted
    }

    func matches(_ key: String, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if hasEscape {
            let quoted = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound - 1)..<(range.upperBound + 1)])
            return (try? JSONParser.parse(quoted)) == .string(key)
        }
        var k = key
        return k.withUTF8 { kb in
            bytesEqual(kb, UnsafeBufferPointer(rebasing: bytes[range]))
        }
    }
}

/// Equal byte runs (no allocation).
@inline(__always) public func bytesEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}

extension JSONParser {
    /// Checks a document is valid JSON without building anything. nil when valid.
    public static func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONParseError? {
        var parser = JSONParser(bytes: bytes)
        do throws(JSONParseError) {
            parser.skipWhitespace()
            try parser.skipValue(depth: 0)
            parser.skipWhitespace()
            if parser.index != bytes.count { throw parser.error("unexpected text after the JSON value") }
            return nil
        } catch {
            return error
        }
    }

    /// The top-level members of a JSON object: key and the value's byte range (stops at the first
    /// grammar error; validate first when the text is untrusted).
    public static func topLevelMembers(_ bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, value: Range<Int>)] {
        var out: [(key: String, value: Range<Int>)] = []
        forEachTopLevelMember(bytes) { key, value in
            let quoted = UnsafeBufferPointer(rebasing: bytes[(key.range.lowerBound - 1)..<(key.range.upperBound + 1)])
            let name = key.hasEscape ? ((try? JSONParser.parse(quoted))?.scalarText ?? "") : String(decoding: UnsafeBufferPointer(rebasing: bytes[key.range]), as: UTF8.self)
            out.append((name, value))
        }
        return out
    }

    /// Visits each top-level member: its raw key bytes (nil when the key holds an escape) and the
    /// value's range. No allocation: for readers matching known names.
    public static func forEachTopLevelMember(_ bytes: UnsafeBufferPointer<UInt8>, rawKeys visit: (UnsafeBufferPointer<UInt8>?, Range<Int>) -> Void) {
        forEachTopLevelMember(bytes) { key, value in
            visit(key.hasEscape ? nil : UnsafeBufferPointer(rebasing: bytes[key.range]), value)
        }
    }

    /// Visits each top-level member of a valid JSON object: its key slice and its value's range.
    static func forEachTopLevelMember(_ bytes: UnsafeBufferPointer<UInt8>, _ visit: (JSONKeySlice, Range<Int>) -> Void) {
        _ = walkTopLevelMembers(bytes, visit)
    }

    /// Validates a whole document while visiting a top-level object's members in the same pass.
    /// nil when the text is one valid JSON object.
    public static func validateObject(_ bytes: UnsafeBufferPointer<UInt8>, rawKeys visit: (UnsafeBufferPointer<UInt8>?, Range<Int>) -> Void) -> JSONParseError? {
        walkTopLevelMembers(bytes) { key, value in
            visit(key.hasEscape ? nil : UnsafeBufferPointer(rebasing: bytes[key.range]), value)
        }
    }

    /// Visits top-level members until `visit` returns false (the rest is neither read nor
    /// validated): for the order pass, which wants three members of a line it decodes later.
    public static func forEachTopLevelMember(_ bytes: UnsafeBufferPointer<UInt8>, rawKeysUntil visit: (UnsafeBufferPointer<UInt8>?, Range<Int>) -> Bool) {
        _ = walkTopLevelMembers(bytes, until: { key, value in
            visit(key.hasEscape ? nil : UnsafeBufferPointer(rebasing: bytes[key.range]), value)
        })
    }

    static func walkTopLevelMembers(_ bytes: UnsafeBufferPointer<UInt8>, _ visit: (JSONKeySlice, Range<Int>) -> Void) -> JSONParseError? {
        walkTopLevelMembers(bytes, until: { key, value in
            visit(key, value)
            return true
        })
    }

    static func walkTopLevelMembers(_ bytes: UnsafeBufferPointer<UInt8>, until visit: (JSONKeySlice, Range<Int>) -> Bool) -> JSONParseError? {
        var parser = JSONParser(bytes: bytes)
        do throws(JSONParseError) {
            parser.skipWhitespace()
            guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else { throw parser.error("not a JSON object") }
            parser.index += 1
            parser.skipWhitespace()
            if parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "}") {
                parser.index += 1
            } else {
                while true {
                    parser.skipWhitespace()
                    guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "\"") else { throw parser.error("expected a member name") }
                    let keyStart = parser.index + 1
                    let hasEscape = try parser.skipString()
                    let key = JSONKeySlice(range: keyStart..<(parser.index - 1), hasEscape: hasEscape)
                    parser.skipWhitespace()
                    guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: ":") else { throw parser.error("expected ':'") }
                    parser.index += 1
                    parser.skipWhitespace()
                    let valueStart = parser.index
                    try parser.skipValue(depth: 1)
                    guard visit(key, valueStart..<parser.index) else { return nil }
                    parser.skipWhitespace()
                    guard parser.index < bytes.count else { throw parser.error("unexpected end of JSON object") }
                    if bytes[parser.index] == UInt8(ascii: ",") { parser.index += 1; continue }
                    if bytes[parser.index] == UInt8(ascii: "}") { parser.index += 1; break }
                    throw parser.error("expected ',' or '}'")
                }
            }
            parser.skipWhitespace()
            if parser.index != bytes.count { throw parser.error("unexpected text after the JSON value") }
            return nil
        } catch {
            return error
        }
    }

    /// Skips one value, checking its grammar, allocating nothing.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        guard depth < Limits.jsonDepthMax else { throw error("JSON nested deeper than \(Limits.jsonDepthMax)") }
        guard index < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                _ = try skipString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of JSON object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return }
                throw error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of JSON array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return }
                throw error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), 0x30...0x39: _ = try parseNumberRange()
        default: throw error("unexpected character")
        }
    }

    /// Skips a string, checking escapes and UTF-8; returns whether it held an escape.
    mutating func skipString() throws(JSONParseError) -> Bool {
        index += 1
        let start = index
        var escaped = false
        var ascii = true
        guard let base = bytes.baseAddress else { throw error("unterminated string") }
        while true {
            // Plain ASCII (or, once the string is known not to be ASCII, any plain byte): the common case.
            index = JSONStringScan.plainEnd(base, from: index, to: bytes.count, asciiOnly: ascii)
            guard index < bytes.count else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                if !ascii, !ByteScan.isUTF8(UnsafeBufferPointer(rebasing: bytes[start..<index])) {
                    throw error("invalid UTF-8 in string")
                }
                index += 1
                return escaped
            }
            if b < 0x20 { throw error("control character in string") }
            if b >= 0x80 { ascii = false; index += 1; continue }
            if b == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < bytes.count else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    let unit = try parseHex4()
                    if unit >= 0xD800 && unit < 0xDC00 {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                        index += 2
                        let low = try parseHex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate") }
                    } else if unit >= 0xDC00 && unit < 0xE000 {
                        throw error("unpaired surrogate")
                    }
                default: throw error("invalid escape")
                }
            }
        }
        throw error("unterminated string")
    }
}

/// The bytes of one row's JSON columns in one allocation (PostgreSQL's binary COPY): an event's
/// three texts were three strings, each a malloc and a free and a reference count. Immutable
/// once made, so a `JSONText` holding one crosses threads (`ManagedBuffer` itself cannot be
/// declared `Sendable`; `JSONText.Storage` says it for it).
public final class JSONRowBytes: ManagedBuffer<Int, UInt8> {
    /// A buffer holding three texts one after another (an event's vector clock, payload and
    /// metadata): they start at 0, `a.count` and `a.count + b.count`.
    static func make(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ c: UnsafeBufferPointer<UInt8>) -> JSONRowBytes {
        let total = a.count + b.count + c.count
        let made = unsafeDowncast(JSONRowBytes.create(minimumCapacity: max(total, 1)) { _ in total }, to: JSONRowBytes.self)
        made.withUnsafeMutablePointerToElements { base in
            var at = 0
            func put(_ p: UnsafeBufferPointer<UInt8>) {
                guard let from = p.baseAddress, p.count > 0 else { return }
                (base + at).update(from: from, count: p.count)
                at += p.count
            }
            put(a)
            put(b)
            put(c)
        }
        return made
    }

    @inlinable
    func withSlice<R>(start: Int, count: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointerToElements { try body(UnsafeBufferPointer(start: $0 + start, count: count)) }
    }
}
