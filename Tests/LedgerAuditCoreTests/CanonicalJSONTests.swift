@testable import LedgerAuditCore
import Testing

/// The digest's fast path (jsonb text written straight from JSON text) must give the bytes the
/// tree path gives, on every document it accepts, and decline the ones it does not cover.
@Suite(.removesTemporaryFolders) struct CanonicalJSONTests {
    static func treePath(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.jsonbBytes(try! JSONParser.parse(text), into: &out)
        return out
    }

    static func fastPath(_ text: String) -> [UInt8]? {
        var out: [UInt8] = [0x41]  // something already there must stay
        var t = text
        let ok = t.withUTF8 { JSONBCanonical.write($0, into: &out) }
        if !ok { #expect(out == [0x41]); return nil }
        return Array(out.dropFirst())
    }

    @Test func agreesWithTheTreePath() {
        let docs = [
            #"{}"#, #"[]"#, #" { } "#, #"{"a":1}"#, #"{"b":1,"a":2}"#, #"{"bb":1,"a":2,"c":[1, 2 ,{"z":null,"y":true}]}"#,
            #"{"a":1,"a":2}"#, #"{"a":1,"b":0,"a":{"x":1,"x":[]}}"#, #"{"k":-1.50e+3,"s":"é ü 中","t":false}"#,
            #"[1,"a",{"b":[[]]},null]"#, "{\n\t\"amount\" :\r\n 5 , \"currency\":\"USD\"}\n", #""plain""#, #"12"#,
            #"{"abc":1,"abd":2,"ab":3,"b":4,"":5}"#,
            #"{"m":{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":33}}"#,
        ]
        for doc in docs {
            #expect(CanonicalJSONTests.fastPath(doc) == CanonicalJSONTests.treePath(doc), "\(doc)")
        }
    }

    @Test func declinesEscapes() {
        for doc in [#"{"a":"x\"y"}"#, #"{"a\u0062":1}"#, #"["\/"]"#, #"{"n":{"deep":"\n"}}"#] {
            #expect(CanonicalJSONTests.fastPath(doc) == nil, "\(doc)")
        }
    }

    @Test func randomDocumentsAgree() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<2000 {
            let doc = CanonicalJSONTests.randomValue(&rng, depth: 0)
            #expect(CanonicalJSONTests.fastPath(doc) == CanonicalJSONTests.treePath(doc), "\(doc)")
        }
    }

    /// The digest copies text that `isCanonical` accepts: it must accept exactly the texts that
    /// are their own jsonb form (random documents, and the jsonb form of each), never another.
    @Test func canonicalCheckAcceptsOnlyTextsThatAreTheirOwnJSONBForm() {
        func check(_ doc: String) {
            let tree = CanonicalJSONTests.treePath(doc)
            var t = doc
            let accepted = t.withUTF8 { JSONBCanonical.isCanonical($0) }
            let isOwnForm = Array(doc.utf8) == tree
            let hasEscape = doc.contains("\\")
            #expect(accepted == (isOwnForm && !hasEscape), "\(doc)")
        }
        var rng = SplitMix(seed: 11)
        var acceptedCount = 0
        for _ in 0..<2000 {
            let doc = CanonicalJSONTests.randomValue(&rng, depth: 0)
            check(doc)
            let canonical = String(decoding: CanonicalJSONTests.treePath(doc), as: UTF8.self)
            check(canonical)
            var c = canonical
            if c.withUTF8({ JSONBCanonical.isCanonical($0) }) { acceptedCount += 1 }
        }
        #expect(acceptedCount > 1900)
        for doc in [#"{"a": 1, "a": 2}"#, #"{"b": 1, "a": 2}"#, #"{"a": 1,"b": 2}"#, #"{"a":1}"#, #" {}"#, #"{} "#, #"[1,2]"#,
                    #"{"aa": 1, "b": 2}"#, #"{"a": "x\"y"}"#, #"[1, 2 ]"#] {
            check(doc)
        }
        for doc in [#"{}"#, #"[]"#, #"{"b": 2, "aa": 1}"#, #"[1, {"x": [null, true]}, "s"]"#, #"{"": 0, "a": {"k": -1.5e3}}"#] {
            var t = doc
            #expect(t.withUTF8 { JSONBCanonical.isCanonical($0) }, "\(doc)")
        }
    }

    /// Text from a file is checked in one pass when it is in jsonb's form: that pass must accept
    /// exactly what validating and then checking the form accept (random documents, their jsonb
    /// forms, byte-level mutations of both, and text in jsonb's shape that is not JSON).
    @Test func strictCheckAcceptsExactlyValidTextInJSONBForm() {
        func agree(_ bytes: [UInt8]) {
            let strict = bytes.withUnsafeBufferPointer { JSONBCanonical.isValidCanonical($0) }
            let twoPasses = bytes.withUnsafeBufferPointer { JSONParser.validate($0) == nil && JSONBCanonical.isCanonical($0) }
            #expect(strict == twoPasses, "\(String(decoding: bytes, as: UTF8.self)) \(bytes)")
        }
        var rng = SplitMix(seed: 23)
        var acceptedCount = 0
        for _ in 0..<2000 {
            let doc = CanonicalJSONTests.randomValue(&rng, depth: 0)
            let canonical = CanonicalJSONTests.treePath(doc)
            for var bytes in [Array(doc.utf8), canonical] {
                agree(bytes)
                guard !bytes.isEmpty else { continue }
                let at = rng.next(bytes.count)
                switch rng.next(3) {
                case 0: bytes[at] = [0x30, 0x2D, 0x2E, 0x65, 0x22, 0x5C, 0x01, 0xC3, 0xFF, 0x20, 0x7D, 0x6E][rng.next(12)]
                case 1: bytes.remove(at: at)
                default: bytes.insert([0x30, 0x2E, 0x2B, 0x80, 0x22, 0x2C][rng.next(6)], at: at)
                }
                agree(bytes)
            }
            if canonical.withUnsafeBufferPointer({ JSONBCanonical.isValidCanonical($0) }) { acceptedCount += 1 }
        }
        #expect(acceptedCount > 1900)
        let shapedButNotJSON: [[UInt8]] = [
            #"{"a": 01}"#, #"{"a": 1.}"#, #"{"a": -}"#, #"{"a": tru}"#, #"{"a": nulll}"#, #"{"a": 1e}"#, #"{"a": +1}"#,
            #"[NaN]"#, #"[1, 2"#, #"{"a": 1}x"#, #"["a"x]"#, #"{"a": .5}"#, #"[-01]"#, #"[1e+]"#, #"[truefalse]"#, "",
        ].map { Array($0.utf8) } + [
            [0x5B, 0x22, 0x01, 0x22, 0x5D],  // a control character in a string
            [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D],  // not UTF-8
            [0x7B, 0x22, 0xC0, 0xAF, 0x22, 0x3A, 0x20, 0x31, 0x7D],  // an overlong key
            [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],  // a surrogate's bytes
            [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D],  // cut short
        ]
        for bytes in shapedButNotJSON {
            agree(bytes)
            #expect(!bytes.withUnsafeBufferPointer { JSONBCanonical.isValidCanonical($0) }, "\(bytes)")
        }
        for doc in [#"{"é": "中", "amount": -1.5E+3}"#, #"[true, false, null, 0, -0.0, 1e9]"#, #"{"": {}, "a": []}"#] {
            #expect(Array(doc.utf8).withUnsafeBufferPointer { JSONBCanonical.isValidCanonical($0) }, "\(doc)")
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    static func randomValue(_ rng: inout SplitMix, depth: Int) -> String {
        let space = [" ", "", "\n", ""][rng.next(4)]
        switch depth > 3 ? rng.next(4) : rng.next(6) {
        case 0: return ["1", "-0", "2.50", "1e9", "123456789012345678901234567890"][rng.next(5)]
        case 1: return ["\"\"", "\"a\"", "\"USD\"", "\"é\""][rng.next(4)]
        case 2: return ["true", "false", "null"][rng.next(3)]
        case 3: return "\"k\(rng.next(3))\""
        case 4:
            let n = rng.next(5)
            return "[" + (0..<n).map { _ in space + randomValue(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let n = rng.next(6)
            let keys = ["a", "b", "aa", "ab", "ba", "amount", "currency", "é", ""]
            return "{" + (0..<n).map { _ in "\"\(keys[rng.next(keys.count)])\"" + space + ":" + randomValue(&rng, depth: depth + 1) }.joined(separator: ",") + space + "}"
        }
    }
}
