/// jsonb's text form written straight from JSON text, without building a tree: the digest's
/// hot path for extracts and stores whose JSON columns are not jsonb. It covers documents whose
/// strings carry no escape (as good as all real payloads); for the rest it declines and the
/// caller goes through `JSONValue`, so both paths give the same bytes.
enum JSONBCanonical {
    /// Appends the jsonb text of a valid JSON document; false (with `out` as it was) when a
    /// string holds an escape or the text is not valid JSON.
    static func write(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        if isCanonical(bytes) {
            out.appendBytes(bytes)
            return true
        }
        let mark = out.count
        var writer = Writer(bytes: bytes)
        writer.skipWhitespace()
        guard writer.value(into: &out, depth: 0) else {
            out.removeSubrange(mark...)
            return false
        }
        return true
    }

    /// True when the text already is its own jsonb text (what PostgreSQL prints, and what most
    /// extracts carry): keys in jsonb order without duplicates, `", "` and `": "` the only
    /// whitespace, strings without escapes. Re-writing it would give the same bytes, so `write`
    /// copies it. One pass, no allocation; false says nothing but "rewrite it".
    static func isCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var checker = Writer(bytes: bytes)
        return checker.canonicalValue(depth: 0, strict: false) && checker.index == bytes.count
    }

    /// `isCanonical` for text nobody has validated (a file's JSON column): numbers and literals
    /// are held to JSON's grammar and non-ASCII strings to UTF-8 too, so true also says the text
    /// is valid JSON. One pass where validating and then checking the form were two; false says
    /// nothing but "validate it the general way".
    public static func isValidCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var checker = Writer(bytes: bytes)
        return checker.canonicalValue(depth: 0, strict: true) && checker.index == bytes.count
    }

    struct Writer {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        @inline(__always) mutating func skipWhitespace() {
            while index < bytes.count {
                let b = bytes[index]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                index += 1
            }
        }

        /// A number or literal up to the next delimiter; false when there is none.
        @inline(__always) mutating func skipScalar() -> Bool {
            let start = index
            while index < bytes.count {
                let b = bytes[index]
                if b == 0x2C || b == 0x7D || b == 0x5D || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                index += 1
            }
            return index > start
        }

        /// The string at `index` (opening quote), its content's range; nil when it holds an escape.
        @inline(__always) mutating func plainString() -> Range<Int>? {
            index += 1
            let start = index
            guard let base = bytes.baseAddress else { return nil }
            index = JSONStringScan.plainEnd(base, from: index, to: bytes.count, asciiOnly: false)
            guard index < bytes.count, bytes[index] == 0x22 else { return nil }
            index += 1
            return start..<(index - 1)
        }

        mutating func value(into out: inout [UInt8], depth: Int) -> Bool {
            guard depth < Limits.jsonDepthMax, index < bytes.count else { return false }
            switch bytes[index] {
            case 0x7B: return object(into: &out, depth: depth)
            case 0x5B:
                index += 1
                out.append(0x5B)
                skipWhitespace()
                if index < bytes.count, bytes[index] == 0x5D { index += 1; out.append(0x5D); return true }
                var first = true
                while true {
                    skipWhitespace()
                    if !first { out.append(0x2C); out.append(0x20) }
                    first = false
                    guard value(into: &out, depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == 0x2C { index += 1; continue }
                    if bytes[index] == 0x5D { index += 1; out.append(0x5D); return true }
                    return false
                }
            case 0x22:
                let start = index
                guard plainString() != nil else { return false }
                out.appendBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                return true
            default:
                // Numbers and literals, copied as written (validated by the source).
                let start = index
                guard skipScalar() else { return false }
                out.appendBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                return true
            }
        }

        typealias Member = (key: Range<Int>, value: Range<Int>)
        /// Members an object gathers on the stack before it moves them to the heap: an array grown
        /// member by member was eight allocations an event on a JSONL extract.
        static let stackMembers = 8

        /// Members ordered as jsonb orders keys (length, then bytes), the last of duplicates kept.
        mutating func object(into out: inout [UInt8], depth: Int) -> Bool {
            index += 1
            return withUnsafeTemporaryAllocation(of: Member.self, capacity: Self.stackMembers) { stack -> Bool in
                var heap: [Member] = []
                var count = 0
                skipWhitespace()
                if index < bytes.count, bytes[index] == 0x7D {
                    index += 1
                } else {
                    while true {
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == 0x22, let key = plainString() else { return false }
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == 0x3A else { return false }
                        index += 1
                        skipWhitespace()
                        let valueStart = index
                        guard skipValue(depth: depth + 1) else { return false }
                        let member = (key: key, value: valueStart..<index)
                        if count < Self.stackMembers {
                            stack.initializeElement(at: count, to: member)
                        } else {
                            if heap.isEmpty { heap = Array(stack) }
                            heap.append(member)
                        }
                        count += 1
                        skipWhitespace()
                        guard index < bytes.count else { return false }
                        if bytes[index] == 0x2C { index += 1; continue }
                        if bytes[index] == 0x7D { index += 1; break }
                        return false
                    }
                }
                if count <= Self.stackMembers {
                    return writeMembers(UnsafeMutableBufferPointer(rebasing: stack[0..<count]), into: &out, depth: depth)
                }
                return heap.withUnsafeMutableBufferPointer { writeMembers($0, into: &out, depth: depth) }
            }
        }

        /// `members` sorted in place and written as one object.
        private func writeMembers(_ members: UnsafeMutableBufferPointer<Member>, into out: inout [UInt8], depth: Int) -> Bool {
            // Insertion sort: stable, so among equal keys the last written stays last.
            if members.count > 1 {
                for i in 1..<members.count {
                    let m = members[i]
                    var j = i
                    while j > 0, keyOrder(m.key, members[j - 1].key) < 0 {
                        members[j] = members[j - 1]
                        j -= 1
                    }
                    members[j] = m
                }
            }
            out.append(0x7B)
            var written = 0
            for n in members.indices {
                let m = members[n]
                if n + 1 < members.count, keyOrder(m.key, members[n + 1].key) == 0 { continue }
                if written > 0 { out.append(0x2C); out.append(0x20) }
                written += 1
                out.append(0x22)
                out.appendBytes(UnsafeBufferPointer(rebasing: bytes[m.key]))
                out.append(0x22); out.append(0x3A); out.append(0x20)
                var inner = Writer(bytes: bytes)
                inner.index = m.value.lowerBound
                guard inner.value(into: &out, depth: depth + 1) else { return false }
            }
            out.append(0x7D)
            return true
        }

        /// Moves past one value (its text, for later writing); false on an escape or bad grammar.
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < Limits.jsonDepthMax, index < bytes.count else { return false }
            switch bytes[index] {
            case 0x7B, 0x5B:
                let close: UInt8 = bytes[index] == 0x7B ? 0x7D : 0x5D
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == close { index += 1; return true }
                while true {
                    skipWhitespace()
                    if close == 0x7D {
                        guard index < bytes.count, bytes[index] == 0x22, plainString() != nil else { return false }
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == 0x3A else { return false }
                        index += 1
                        skipWhitespace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == 0x2C { index += 1; continue }
                    if bytes[index] == close { index += 1; return true }
                    return false
                }
            case 0x22: return plainString() != nil
            default: return skipScalar()
            }
        }

        /// A string at `index` without escapes whose bytes are UTF-8: ASCII is scanned eight
        /// bytes at a time, and only a string holding other bytes is decoded.
        @inline(__always) mutating func validPlainString() -> Bool {
            guard let base = bytes.baseAddress else { return false }
            index += 1
            let start = index
            index = JSONStringScan.plainEnd(base, from: index, to: bytes.count, asciiOnly: true)
            if index < bytes.count, bytes[index] >= 0x80 {
                index = JSONStringScan.plainEnd(base, from: index, to: bytes.count, asciiOnly: false)
                guard index < bytes.count, bytes[index] == 0x22, ByteScan.isUTF8(UnsafeBufferPointer(rebasing: bytes[start..<index])) else { return false }
            }
            guard index < bytes.count, bytes[index] == 0x22 else { return false }
            index += 1
            return true
        }

        /// A number (JSON's grammar) or `true`, `false`, `null` at `index`.
        @inline(__always) mutating func validScalar() -> Bool {
            switch bytes[index] {
            case 0x74: return literal("true")
            case 0x66: return literal("false")
            case 0x6E: return literal("null")
            default:
                var parser = JSONParser(bytes: bytes)
                parser.index = index
                guard (try? parser.parseNumberRange()) != nil else { return false }
                index = parser.index
                return true
            }
        }

        @inline(__always) mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for i in 0..<count where bytes[index + i] != word.utf8Start[i] { return false }
            index += count
            return true
        }

        /// One value at `index` in its jsonb text form, with nothing around it. `strict` also
        /// holds scalars and strings to JSON's grammar and UTF-8 (text not validated before).
        mutating func canonicalValue(depth: Int, strict: Bool) -> Bool {
            guard depth < Limits.jsonDepthMax, index < bytes.count else { return false }
            switch bytes[index] {
            case 0x7B:
                index += 1
                if index < bytes.count, bytes[index] == 0x7D { index += 1; return true }
                var previousKey: Range<Int>?
                while true {
                    guard index < bytes.count, bytes[index] == 0x22 else { return false }
                    let keyStart = index + 1
                    guard strict ? validPlainString() : plainString() != nil else { return false }
                    let key = keyStart..<(index - 1)
                    if let previousKey, keyOrder(previousKey, key) >= 0 { return false }
                    previousKey = key
                    guard index + 1 < bytes.count, bytes[index] == 0x3A, bytes[index + 1] == 0x20 else { return false }
                    index += 2
                    guard canonicalValue(depth: depth + 1, strict: strict), index < bytes.count else { return false }
                    if bytes[index] == 0x7D { index += 1; return true }
                    guard index + 1 < bytes.count, bytes[index] == 0x2C, bytes[index + 1] == 0x20 else { return false }
                    index += 2
                }
            case 0x5B:
                index += 1
                if index < bytes.count, bytes[index] == 0x5D { index += 1; return true }
                while true {
                    guard canonicalValue(depth: depth + 1, strict: strict), index < bytes.count else { return false }
                    if bytes[index] == 0x5D { index += 1; return true }
                    guard index + 1 < bytes.count, bytes[index] == 0x2C, bytes[index + 1] == 0x20 else { return false }
                    index += 2
                }
            case 0x22: return strict ? validPlainString() : plainString() != nil
            case 0x20, 0x0A, 0x0D, 0x09, 0x2C, 0x3A, 0x7D, 0x5D: return false
            default: return strict ? validScalar() : skipScalar()
            }
        }

        /// jsonb's key order: shorter first, then bytewise.
        @inline(__always) func keyOrder(_ a: Range<Int>, _ b: Range<Int>) -> Int {
            if a.count != b.count { return a.count < b.count ? -1 : 1 }
            var i = a.lowerBound, j = b.lowerBound
            while i < a.upperBound {
                let x = bytes[i], y = bytes[j]
                if x != y { return x < y ? -1 : 1 }
                i += 1; j += 1
            }
            return 0
        }
    }
}
