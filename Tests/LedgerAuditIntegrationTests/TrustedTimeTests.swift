import Foundation
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// RFC 3161 trusted time against a local time-stamping authority made with `openssl ts`
/// (scripts/tsa-server.py on 127.0.0.1): the pack's token is verified by verify-pack, by
/// `openssl ts -verify` and by rfc3161-client; a token for other data and an unreachable TSA
/// are refused.
@Suite("trusted time (RFC 3161)", .serialized)
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
        let python = try runProgram(["python3", "-c", """
            import hashlib, sys, rfc3161_client
            from cryptography import x509
            root = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
            resp = rfc3161_client.decode_timestamp_response(open(sys.argv[2], 'rb').read())
            digest = hashlib.sha256(open(sys.argv[3], 'rb').read()).digest()
            print('verified', rfc3161_client.VerifierBuilder().add_root_certificate(root).build().verify(resp, digest))
            """, tsa.caFile, token, a + "/tagmanifest-sha512.txt"])
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
