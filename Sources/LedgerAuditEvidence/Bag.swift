import Crypto
import Foundation
import LedgerAuditCore
import LedgerAuditReports

/// BagIt (RFC 8493) bags: a payload under `data/`, a SHA-512 manifest of it, `bag-info.txt`,
/// and a tag manifest over the tag files. The tag manifest can be signed with Ed25519
/// (`tagmanifest-sha512.txt.sig`), which by the tag manifest's checksums covers everything.
public enum Bag {
    public static let signatureFile = "tagmanifest-sha512.txt.sig"
    public static let publicKeyFile = "ledger-audit-signing-key.pub"
    /// The RFC 3161 token over the tag manifest (DER TimeStampResp), when the pack was stamped.
    public static let timestampFile = "tagmanifest-sha512.txt.tsr"

    /// Completes a bag whose `data/` is in place: manifests, bagit.txt, bag-info.txt, signature.
    /// `tagFiles`: more tag files at the bag's root (the profile, index.html), in the tag manifest.
    /// `knownDigests`: SHA-512 (hex) of payload files already hashed, by path as `bag/data/…`.
    public static func finish(_ bag: String, info: [(String, String)], signingKey: SigningKey?, knownDigests: [String: String] = [:],
                              tagFiles: [(name: String, text: String)] = []) throws {
        let payload = try payloadFiles(bag)
        var manifest = ""
        var octets: Int64 = 0
        let paths = payload.map { bag + "/" + $0 }
        let unknown = paths.filter { knownDigests[$0] == nil }
        let computed = Dictionary(uniqueKeysWithValues: zip(unknown, sha512Hex(paths: unknown)))
        let digests = paths.map { knownDigests[$0] ?? computed[$0] ?? nil }
        for (file, digest) in zip(payload, digests) {
            guard let digest else { throw SealError("cannot read \(bag)/\(file)") }
            manifest += digest + "  " + encodePath(file) + "\n"
            octets += Int64(try FileManager.default.attributesOfItem(atPath: bag + "/" + file)[.size] as? NSNumber ?? 0)
        }
        try write(bag + "/manifest-sha512.txt", manifest)
        try write(bag + "/bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
        var lines = info
        lines.append(("Payload-Oxum", "\(octets).\(payload.count)"))
        if let key = signingKey {
            lines.append(("Ledger-Audit-Signing-Key-Fingerprint", key.publicKey.fingerprint))
            try write(bag + "/" + publicKeyFile, key.publicKey.fileText)
        }
        try write(bag + "/bag-info.txt", lines.map { "\($0.0): \(oneLine($0.1))\n" }.joined())
        var tags = ["bagit.txt", "bag-info.txt", "manifest-sha512.txt"]
        if signingKey != nil { tags.append(publicKeyFile) }
        for file in tagFiles {
            try write(bag + "/" + file.name, file.text)
            tags.append(file.name)
        }
        let tagManifest = try tags.map { try sha512Hex(bag + "/" + $0) + "  " + $0 + "\n" }.joined()
        try write(bag + "/tagmanifest-sha512.txt", tagManifest)
        if let key = signingKey {
            try write(bag + "/" + signatureFile, key.sign(Array(tagManifest.utf8)) + "\n")
        }
    }

    /// What is wrong with a bag: missing, extra and altered files, Payload-Oxum, the signature.
    /// Empty when the bag is complete and unaltered (and, with a key, signed by it).
    public static func verify(_ bag: String, publicKey: PublicKey?) -> [String] {
        var problems: [String] = []
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: bag, isDirectory: &isDir), isDir.boolValue else { return ["\(bag) is not a folder (a bag) or a .zip of one"] }
        let irregular = irregularEntries(bag)
        guard irregular.isEmpty else { return irregular + [nothingElseRead] }
        for required in ["bagit.txt", "bag-info.txt", "manifest-sha512.txt", "tagmanifest-sha512.txt"] where !fm.fileExists(atPath: bag + "/" + required) {
            problems.append("missing: \(required)")
        }
        if let bagit = TextFile.read(bag + "/bagit.txt"), !bagit.hasPrefix("BagIt-Version: 1.0\n") {
            problems.append("altered: bagit.txt (not a BagIt 1.0 declaration)")
        }
        // Tag files first: an altered bag-info.txt or manifest is named as such.
        let tagManifest = TextFile.read(bag + "/tagmanifest-sha512.txt") ?? ""
        for (digest, path) in parseManifest(tagManifest) {
            guard isInside(path) else { problems.append("altered: tagmanifest-sha512.txt lists \(path), outside the bag"); continue }
            guard fm.fileExists(atPath: bag + "/" + path) else { problems.append("missing: \(path) (listed in tagmanifest-sha512.txt)"); continue }
            if (try? sha512Hex(bag + "/" + path)) != digest { problems.append("altered: \(path) (its SHA-512 differs from tagmanifest-sha512.txt)") }
        }
        var manifest = parseManifest(TextFile.read(bag + "/manifest-sha512.txt") ?? "")
        for (_, path) in manifest where !isInside(path) || !path.hasPrefix("data/") {
            problems.append("altered: manifest-sha512.txt lists \(path), outside data/")
        }
        manifest = manifest.filter { isInside($0.1) && $0.1.hasPrefix("data/") }
        let listed = Dictionary(manifest.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
        let present = (try? payloadFiles(bag)) ?? []
        var octets: Int64 = 0
        let listedPresent = present.filter { listed[$0] != nil }
        let actual = Dictionary(uniqueKeysWithValues: zip(listedPresent, sha512Hex(paths: listedPresent.map { bag + "/" + $0 })))
        for file in present {
            octets += Int64((try? fm.attributesOfItem(atPath: bag + "/" + file)[.size] as? NSNumber)?.int64Value ?? 0)
            guard let digest = listed[file] else { problems.append("extra: \(file) (not in manifest-sha512.txt)"); continue }
            if actual[file] ?? nil != digest { problems.append("altered: \(file) (its SHA-512 differs from manifest-sha512.txt)") }
        }
        let presentSet = Set(present)
        for (_, path) in manifest where !presentSet.contains(path) { problems.append("missing: \(path) (listed in manifest-sha512.txt)") }
        let info = parseInfo(TextFile.read(bag + "/bag-info.txt") ?? "")
        if let oxum = info.first(where: { $0.0 == "Payload-Oxum" })?.1 {
            if oxum != "\(octets).\(present.count)" { problems.append("Payload-Oxum: bag-info.txt says \(oxum), data/ holds \(octets).\(present.count)") }
        } else {
            problems.append("bag-info.txt has no Payload-Oxum")
        }
        problems += verifySignature(bag, tagManifest: tagManifest, info: info, publicKey: publicKey)
        return problems
    }

    static func verifySignature(_ bag: String, tagManifest: String, info: [(String, String)], publicKey: PublicKey?) -> [String] {
        let fm = FileManager.default
        let signaturePath = bag + "/" + signatureFile
        guard fm.fileExists(atPath: signaturePath) else {
            return publicKey == nil ? [] : ["signature: the bag is not signed (no \(signatureFile)), but --public-key asks for one"]
        }
        let fingerprint = info.first { $0.0 == "Ledger-Audit-Signing-Key-Fingerprint" }?.1
        let key: PublicKey
        if let publicKey {
            key = publicKey
            if let fingerprint, fingerprint != publicKey.fingerprint {
                return ["signature: the bag was signed by key \(fingerprint), not by the key given (\(publicKey.fingerprint))"]
            }
        } else {
            // Without a key of one's own, the bag's copy proves integrity but not who signed.
            guard let text = TextFile.read(bag + "/" + publicKeyFile), let embedded = try? PublicKey(fileText: text) else {
                return ["signature: present, but no key to check it with: give --public-key"]
            }
            if let fingerprint, fingerprint != embedded.fingerprint { return ["signature: \(publicKeyFile) does not match the fingerprint in bag-info.txt"] }
            key = embedded
        }
        guard let text = TextFile.read(signaturePath), key.verify(text.trimmingCharacters(in: .whitespacesAndNewlines), over: Array(tagManifest.utf8)) else {
            return ["signature: \(signatureFile) does not verify over tagmanifest-sha512.txt with key \(key.fingerprint)"]
        }
        return []
    }

    /// Said after the entries `irregularEntries` names.
    public static let nothingElseRead = "nothing else in the bag was read: a pack from evidence holds only files and folders"

    /// What in a bag is neither a file nor a folder (a symbolic link, a pipe, a device, a
    /// socket), each as a problem, found without following a link: reading one could read
    /// outside the bag, wait forever on a pipe, or never end (a link to /dev/zero). A pack
    /// from `evidence` holds none, so a bag with one is reported and nothing in it is read.
    public static func irregularEntries(_ bag: String) -> [String] {
        var problems: [String] = []
        var folders = [""]
        while let relative = folders.popLast() {
            guard let dir = opendir(relative.isEmpty ? bag : bag + "/" + relative) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var status = stat()
                guard lstat(bag + "/" + path, &status) == 0 else { problems.append("unreadable: \(path)"); continue }
                switch status.st_mode & S_IFMT {
                case S_IFDIR: folders.append(path)
                case S_IFREG: break
                case S_IFLNK: problems.append("altered: \(path) is a symbolic link, not a file (not followed)")
                case S_IFIFO: problems.append("altered: \(path) is a pipe, not a file (not read)")
                default: problems.append("altered: \(path) is a device or socket, not a file (not read)")
                }
            }
        }
        return problems.sorted()
    }

    /// A relative path that stays inside the bag (no `..`, not absolute).
    public static func isInside(_ path: String) -> Bool {
        !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }

    /// Every regular file under data/, as `data/…` paths, sorted bytewise.
    static func payloadFiles(_ bag: String) throws -> [String] {
        let root = bag + "/data"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue { files.append("data/" + rel) }
        }
        return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Several files' SHA-512s on all cores, the largest first (a pack's payload is a few large
    /// files and many small ones); nil where a file cannot be read.
    public static func sha512Hex(paths: [String]) -> [String?] {
        let sizes = paths.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber)?.int64Value ?? 0 }
        let order = paths.indices.sorted { sizes[$0] > sizes[$1] }
        // Each iteration writes only its own slot.
        nonisolated(unsafe) let digests = UnsafeMutableBufferPointer<String?>.allocate(capacity: paths.count)
        digests.initialize(repeating: nil)
        defer { digests.deallocate() }
        DispatchQueue.concurrentPerform(iterations: paths.count) { k in
            let i = order[k]
            digests[i] = try? sha512Hex(paths[i])
        }
        let result = Array(digests)
        _ = digests.deinitialize()
        return result
    }

    public static func sha512Hex(_ path: String) throws -> String { try FileSHA512.hex(ofFileAt: path) }

    static func parseManifest(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line in
            guard let space = line.firstIndex(of: " ") else { return nil }
            let digest = String(line[..<space]).lowercased()
            let path = String(line[space...].drop { $0 == " " || $0 == "\t" })
            return (digest, decodePath(path))
        }
    }

    public static func parseInfo(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { (line: Substring) -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value: Substring = line[colon...].dropFirst()
            return (String(line[..<colon]), value.trimmingCharacters(in: .whitespaces))
        }
    }

    /// RFC 8493 §2.1.3: CR, LF and % in manifest paths are percent-encoded.
    static func encodePath(_ p: String) -> String { p.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D") }
    static func decodePath(_ p: String) -> String { p.replacingOccurrences(of: "%0A", with: "\n").replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%25", with: "%") }
    static func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }

    static func write(_ path: String, _ text: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw SealError("cannot write \(path)") }
    }
}

/// A key file: a header line naming what it is, then the raw key in base64.
func keyFileBytes(_ text: String, header: String, kind: String) throws -> Data {
    let lines = text.split(separator: "\n").map(String.init)
    guard lines.count >= 2, lines[0] == header, let raw = Data(base64Encoded: lines[1]) else {
        throw SealError("not a ledger-audit \(kind) key file (expected '\(header)' and a base64 line)")
    }
    return raw
}

/// An Ed25519 key pair for signing packs, in small text files (`keygen`). Held as its raw
/// 32 bytes (a value, Sendable); the CryptoKit key is made where it is used.
public struct SigningKey: Sendable {
    let raw: [UInt8]
    public static let header = "ledger-audit ed25519 private key"

    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }  // raw came from a valid key

    public init() { raw = Array(Curve25519.Signing.PrivateKey().rawRepresentation) }

    public init(fileText: String) throws {
        raw = Array(try Curve25519.Signing.PrivateKey(rawRepresentation: try keyFileBytes(fileText, header: SigningKey.header, kind: "private")).rawRepresentation)
    }

    public var fileText: String { SigningKey.header + "\n" + Data(raw).base64EncodedString() + "\n" }
    public var publicKey: PublicKey { PublicKey(key: key.publicKey) }

    public func sign(_ bytes: [UInt8]) throws -> String { try key.signature(for: bytes).base64EncodedString() }
}

public struct PublicKey: Sendable {
    let raw: [UInt8]
    public static let header = "ledger-audit ed25519 public key"

    var key: Curve25519.Signing.PublicKey { try! Curve25519.Signing.PublicKey(rawRepresentation: raw) }  // raw came from a valid key

    init(key: Curve25519.Signing.PublicKey) { raw = Array(key.rawRepresentation) }

    public init(fileText: String) throws {
        raw = Array(try Curve25519.Signing.PublicKey(rawRepresentation: try keyFileBytes(fileText, header: PublicKey.header, kind: "public")).rawRepresentation)
    }

    public var fileText: String { PublicKey.header + "\n" + Data(raw).base64EncodedString() + "\n" }
    /// `SHA256:` and the hex SHA-256 of the raw 32-byte public key.
    public var fingerprint: String { "SHA256:" + Hex.encode(SHA256.hash(data: raw)) }

    public func verify(_ base64Signature: String, over bytes: [UInt8]) -> Bool {
        guard let signature = Data(base64Encoded: base64Signature) else { return false }
        return key.isValidSignature(signature, for: bytes)
    }
}
