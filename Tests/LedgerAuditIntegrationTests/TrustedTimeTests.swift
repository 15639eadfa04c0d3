import Foundation
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// RFC 3161 trusted time against a local time-stamping authority made with `openssl ts`
/// (scripts/tsa-server.py on 127.0.0.1): the pack's token is verified by verify-pack, by
/// `openssl ts -verify` and by rfc3161-client; a token for other data and an unreachable TSA
/// are refused.
@Suite("trusted time (RFC 3161)", .serialized, .removesTemporaryFolders)
struct TrustedTimeTests {
    /// A running local TSA: its URL and CA certificate; stop() ends it.
    final class LocalTSA {
        let process = Process()
        let url: String
        let caFile: String
        init(folder: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", TestPaths.packageRoot + "/scripts/tsa-server.py", folder]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Two lines, read byte by byte from the pipe (FileHandle may wait for more).
            var bytes: [UInt8] = []
            var byte: UInt8 = 0
            let fd = out.fileHandleForReading.fileDescriptor
            while bytes.filter({ $0 == 10 }).count < 2, read(fd, &byte, 1) == 1 { bytes.append(byte) }
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.split(separator: "\n")
            url = "http://127.0.0.1:" + (lines.first { $0.hasPrefix("port ") }?.dropFirst(5) ?? "0") + "/"
            caFile = String(lines.first { $0.hasPrefix("ca ") }?.dropFirst(3) ?? "")
        }
        // SIGKILL: a child of the test process may start with SIGTERM blocked (the mask is inherited).
        func stop() { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// rfc3161-client's verdict on a kept token for a file's bytes ("verified True" when it holds).
    func rfc3161Client(ca: String, token: String, data: String) throws -> (status: Int32, output: String) {
        try runProgram(["python3", "-c", """
            import hashlib, sys, rfc3161_client
            from cryptography import x509
            root = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
            resp = rfc3161_client.decode_timestamp_response(open(sys.argv[2], 'rb').read())
            digest = hashlib.sha256(open(sys.argv[3], 'rb').read()).digest()
            print('verified', rfc3161_client.VerifierBuilder().add_root_certificate(root).build().verify(resp, digest))
            """, ca, token, data])
    }

    @Test("evidence --tsa-url stamps the tag manifest; verify-pack, openssl ts -verify and rfc3161-client accept the token; a token for other data is refused")
    func stampedPack() throws {
        let folder = TestPaths.temporaryDirectory("tsa")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tsa = try LocalTSA(folder: folder + "/tsa")
        defer { tsa.stop() }
        try #require(!tsa.caFile.isEmpty, "the local TSA did not start")
        func pack(_ name: String, asOf: String) throws -> String {
            let out = folder + "/" + name
            let r = try runTool(["evidence", "--source", TestPaths.sample + "/events.jsonl", "--as-of", asOf, "--out", out, "--tsa-url", tsa.url])
            #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
            #expect(r.stdout.contains("time-stamped"), "\(r.stdout)")
            return out
        }
        let a = try pack("a", asOf: "2026-05-22T00:00:00Z")
        let token = a + "/tagmanifest-sha512.txt.tsr"
        #expect(FileManager.default.fileExists(atPath: token))
        let v = try runTool(["verify-pack", a, "--tsa-ca", tsa.caFile])
        #expect(v.status == 0 && v.stdout.contains("trusted time: the tag manifest existed at "), "\(v.stdout)")
        let openssl = try runProgram(["openssl", "ts", "-verify", "-data", a + "/tagmanifest-sha512.txt", "-in", token, "-CAfile", tsa.caFile])
        #expect(openssl.output.contains("Verification: OK"), "\(openssl.output)")
        let python = try rfc3161Client(ca: tsa.caFile, token: token, data: a + "/tagmanifest-sha512.txt")
        #expect(python.output.contains("verified True"), "rfc3161-client (pip install rfc3161-client; .ci/run does): \(python.output)")
        // Another pack's token in this pack: a token for other data.
        let b = try pack("b", asOf: "2026-05-10T00:00:00Z")
        try FileManager.default.removeItem(atPath: token)
        try FileManager.default.copyItem(atPath: b + "/tagmanifest-sha512.txt.tsr", toPath: token)
        let swapped = try runTool(["verify-pack", a, "--tsa-ca", tsa.caFile])
        #expect(swapped.status == 1 && swapped.stdout.contains("for other data"), "\(swapped.stdout)")
        // The right data, but a CA that did not issue the TSA's certificate.
        let other = try runTool(["verify-pack", b, "--tsa-ca", TestPaths.packageRoot + "/Tests/ThirdParty/README.md"])
        #expect(other.status == 1 && other.stdout.contains("timestamp:"), "\(other.stdout)")
    }

    @Test("seal --tsa-url keeps a token per seal line; verify --tsa-ca states each TSA time; a swapped or missing token is SEAL_TIMESTAMP_INVALID; an unreachable TSA appends nothing")
    func stampedSeals() throws {
        let folder = TestPaths.temporaryDirectory("tsa-seals")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tsa = try LocalTSA(folder: folder + "/tsa")
        defer { tsa.stop() }
        try #require(!tsa.caFile.isEmpty, "the local TSA did not start")
        let source = TestPaths.sample + "/events.jsonl"
        let seals = folder + "/seals.jsonl"
        for (i, asOf) in ["2026-05-10T00:00:00Z", "2026-05-22T00:00:00Z"].enumerated() {
            let r = try runTool(["seal", "--source", source, "--as-of", asOf, "--seals", seals, "--out", folder + "/seal\(i)", "--tsa-url", tsa.url])
            #expect(r.status == 0 && r.stdout.contains("time-stamped by"), "\(r.stdout) \(r.stderr)")
            #expect(TestPaths.read(folder + "/seal\(i)/seal.xml").contains("Trusted time"))
        }
        let token1 = seals + ".seal-1.tsr", token2 = seals + ".seal-2.tsr"
        #expect(FileManager.default.fileExists(atPath: token1) && FileManager.default.fileExists(atPath: token2))
        // The token covers the seal's line as written (without its newline): openssl agrees.
        let line1 = folder + "/line1"
        try #require(FileManager.default.createFile(atPath: line1, contents: Data(TestPaths.read(seals).split(separator: "\n")[0].utf8)))
        let openssl = try runProgram(["openssl", "ts", "-verify", "-data", line1, "-in", token1, "-CAfile", tsa.caFile])
        #expect(openssl.output.contains("Verification: OK"), "\(openssl.output)")
        let python = try rfc3161Client(ca: tsa.caFile, token: token1, data: line1)
        #expect(python.output.contains("verified True"), "\(python.output)")

        func verify(_ name: String, _ extra: [String] = ["--tsa-ca", tsa.caFile]) throws -> (status: Int32, findings: String, xml: String) {
            let out = folder + "/" + name
            let r = try runTool(["verify", "--source", source, "--check", "seals", "--seals", seals, "--out", out] + extra)
            return (r.status, TestPaths.read(out + "/findings.csv"), TestPaths.read(out + "/verify.xml"))
        }
        let good = try verify("v-good")
        #expect(good.status == 0 && !good.findings.contains("SEAL_TIMESTAMP_INVALID"), "\(good.findings)")
        // Each seal's row names the TSA's time (GeneralizedTime, UTC), and the figure says against what.
        #expect(good.xml.components(separatedBy: "trustedTime=\"20").count - 1 == 2 && good.xml.contains("verified against"), "\(good.xml)")
        #expect(!good.xml.contains(">INVALID<") && !good.xml.contains("no token"))

        // Seal 1's token beside seal 2: a token for other data.
        let kept = try Data(contentsOf: URL(fileURLWithPath: token2))
        try FileManager.default.removeItem(atPath: token2)
        try FileManager.default.copyItem(atPath: token1, toPath: token2)
        let swapped = try verify("v-swapped")
        #expect(swapped.status == 1 && swapped.findings.contains("SEAL_TIMESTAMP_INVALID") && swapped.findings.contains("seal 2") && swapped.findings.contains("other data"), "\(swapped.findings)")
        #expect(!swapped.findings.contains("SEAL_BROKEN"), "a bad token is not broken history")
        // No token at all.
        try FileManager.default.removeItem(atPath: token2)
        let missing = try verify("v-missing")
        #expect(missing.status == 1 && missing.findings.contains("has no RFC 3161 token"), "\(missing.findings)")
        // A CA that did not issue the TSA's certificate.
        try kept.write(to: URL(fileURLWithPath: token2))
        let wrongCA = try verify("v-wrong-ca", ["--tsa-ca", TestPaths.packageRoot + "/Tests/ThirdParty/README.md"])
        #expect(wrongCA.status == 1 && wrongCA.findings.contains("SEAL_TIMESTAMP_INVALID"), "\(wrongCA.findings)")
        // Without --tsa-ca the tokens are not looked at; --tsa-ca without --seals is a usage error.
        #expect(try verify("v-plain", []).status == 0)
        #expect(try runTool(["verify", "--source", source, "--tsa-ca", tsa.caFile, "--out", folder + "/v-usage"]).status == 2)

        // An unreachable TSA: exit 3, the seal file, its leaves and tokens as they were.
        let before = try Data(contentsOf: URL(fileURLWithPath: seals)), leavesBefore = try Data(contentsOf: URL(fileURLWithPath: seals + ".leaves"))
        let down = try runTool(["seal", "--source", source, "--seals", seals, "--out", folder + "/seal-down", "--tsa-url", "http://127.0.0.1:1/"])
        #expect(down.status == 3 && down.stderr.contains("trusted time"), "\(down.status) \(down.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: seals)) == before && (try Data(contentsOf: URL(fileURLWithPath: seals + ".leaves"))) == leavesBefore)
        #expect(!FileManager.default.fileExists(atPath: seals + ".seal-3.tsr"))

        // An evidence pack carries the tokens beside its seal file, and checks them with --tsa-ca.
        let pack = folder + "/pack"
        let e = try runTool(["evidence", "--source", source, "--as-of", "2026-05-22T00:00:00Z", "--out", pack, "--seals", seals, "--tsa-ca", tsa.caFile])
        #expect(e.status == 0 || e.status == 1, "\(e.stderr)")
        #expect(FileManager.default.fileExists(atPath: pack + "/data/seals/seals.jsonl.seal-2.tsr"))
        #expect(!TestPaths.read(pack + "/data/verify/findings.csv").contains("SEAL_TIMESTAMP_INVALID"))
    }

    @Test("an unreachable TSA is exit 3 and no pack is left, under its name or a temporary one")
    func unreachable() throws {
        let folder = TestPaths.temporaryDirectory("tsa-down")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try runTool(["evidence", "--source", TestPaths.sample + "/events.jsonl", "--as-of", "2026-05-22T00:00:00Z", "--out", folder + "/pack", "--tsa-url", "http://127.0.0.1:1/"])
        #expect(r.status == 3 && r.stderr.contains("trusted time"), "\(r.status) \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let https = try runTool(["evidence", "--source", TestPaths.sample + "/events.jsonl", "--as-of", "2026-05-22T00:00:00Z", "--out", folder + "/pack", "--tsa-url", "https://tsa.example/"])
        #expect(https.status == 2)
    }
}
