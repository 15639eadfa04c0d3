import Foundation
@testable import LedgerAuditEngine
import LedgerAuditEvidence
import LedgerAuditTestSupport
import Testing

/// Zips made by Python's zipfile (then edited where a zip must lie), as a hostile sender would.
@Suite("verify-pack on a zip: what it unpacks, and what it refuses to", .removesTemporaryFolders)
struct PackZipTests {
    /// Runs a Python snippet with `out` (the zip's path) defined.
    func makeZip(_ dir: String, _ name: String, _ body: String) throws -> String {
        let out = dir + "/" + name
        let script = "import zipfile, sys\nout = sys.argv[1]\n" + body
        let r = try runProgram(["python3", "-c", script, out])
        #expect(r.status == 0, "\(r.output)")
        return out
    }

    func unpack(_ zip: String, freeBytes: UInt64? = nil) -> Result<[String], any Error> {
        let folder = TestPaths.temporaryDirectory("unzip")
        return Result { try PackVerification.unzip(zip, into: folder, freeBytes: freeBytes) }
    }

    @Test("a plain zip unpacks whole; a link in it is named, not made, and verify-pack says NOT OK (exit 1) without reading further")
    func linksNamed() throws {
        let dir = TestPaths.temporaryDirectory("zips")
        let plain = try makeZip(dir, "plain.zip", "z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)\nz.writestr('bag/data/a.csv', 'x' * 100000)\nz.writestr('bag/bagit.txt', 'BagIt-Version: 1.0\\n')\nz.close()")
        #expect(try unpack(plain).get() == [])
        let linked = try makeZip(dir, "linked.zip", """
            z = zipfile.ZipFile(out, 'w')
            z.writestr('bag/bagit.txt', 'BagIt-Version: 1.0\\n')
            link = zipfile.ZipInfo('bag/data/catalog.yml')
            link.create_system = 3
            link.external_attr = (0o120777 << 16)
            z.writestr(link, 'bagit.txt')
            z.close()
            """)
        #expect(try unpack(linked).get() == ["bag/data/catalog.yml"])
        let verdict = try PackVerification.verify(linked, publicKeyFile: nil)
        #expect(!verdict.ok)
        #expect(verdict.lines.first == "altered: bag/data/catalog.yml is a symbolic link in the zip, not a file (not unpacked)")
        let r = try runTool(["verify-pack", linked], timeLimitSeconds: 60)
        #expect(r.status == 1 && r.stdout.contains("pack NOT OK: 1 problem"), "\(r.stdout) \(r.stderr)")
    }

    @Test("a zip whose entries declare more than the free space, or whose entry inflates past the size it declares (a zip bomb that lies), is refused before the disk fills: exit 2 naming why")
    func bombsRefused() throws {
        let dir = TestPaths.temporaryDirectory("zips")
        let big = try makeZip(dir, "big.zip", "z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)\nz.writestr('bag/data/zeros.bin', bytes(4 << 20))\nz.close()")
        if case .failure(let error) = unpack(big, freeBytes: 1 << 20) {
            #expect("\(error)".contains("declares 4194304 bytes unpacked, more than the 1048576 free"), "\(error)")
        } else {
            Issue.record("a zip larger than the free space was unpacked")
        }
        // The central directory's uncompressed size (offset 24 of its header) rewritten to 1000.
        let lying = try makeZip(dir, "lying.zip", """
            z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)
            z.writestr('bag/data/zeros.bin', bytes(4 << 20))
            z.close()
            data = bytearray(open(out, 'rb').read())
            at = data.rfind(b'PK\\x01\\x02')
            data[at + 24:at + 28] = (1000).to_bytes(4, 'little')
            at = data.find(b'PK\\x03\\x04')
            data[at + 22:at + 26] = (1000).to_bytes(4, 'little')
            open(out, 'wb').write(data)
            """)
        if case .failure(let error) = unpack(lying) {
            #expect("\(error)".contains("inflates past the 1000 bytes it declares"), "\(error)")
        } else {
            Issue.record("a zip that inflates past its declared size was unpacked")
        }
        let r = try runTool(["verify-pack", lying], timeLimitSeconds: 60)
        #expect(r.status == 2 && r.stderr.contains("is not a readable zip"), "\(r.stderr)")
    }
}
