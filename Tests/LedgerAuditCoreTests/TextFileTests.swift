import Foundation
import LedgerAuditCore
import LedgerAuditReports
import LedgerAuditTestSupport
import Testing

@Suite("Whole text files the user names (catalogs, registries, keys, seal files, templates)", .removesTemporaryFolders)
struct TextFileTests {
    func reason(_ result: Result<String, TextFile.Unreadable>) -> String? {
        if case .failure(let why) = result { return why.reason }
        return nil
    }

    @Test("a missing file, a directory, bytes that are not UTF-8 (named by offset, never shown) and a file past the bound are each refused with the reason; a device that never ends (/dev/zero) stops at the bound")
    func refusals() throws {
        let dir = TestPaths.temporaryDirectory("textfile")
        #expect(reason(TextFile.contents(dir + "/none.yml")) == "No such file or directory")
        #expect(reason(TextFile.contents(dir)) == "it is a directory, not a file")
        try Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xC3, 0x28, 0x0A]).write(to: URL(fileURLWithPath: dir + "/latin.yml"))
        #expect(reason(TextFile.contents(dir + "/latin.yml")) == "it is not UTF-8 text (a bad byte at offset 6)")
        try Data(repeating: 0x61, count: 4097).write(to: URL(fileURLWithPath: dir + "/long.txt"))
        #expect(reason(TextFile.contents(dir + "/long.txt", bytesMax: 4096))?.hasPrefix("it is longer than 4096 bytes") == true)
        #expect(try TextFile.contents(dir + "/long.txt", bytesMax: 4097).get().count == 4097)
        #expect(reason(TextFile.contents("/dev/zero", bytesMax: 1 << 20))?.hasPrefix("it is longer than 1048576 bytes") == true)
        #expect(Limits.textFileBytesMax == 1 << 30)
    }

    @Test("a pipe is read whole, as `--config <(…)` gives it")
    func pipe() throws {
        let dir = TestPaths.temporaryDirectory("textfile")
        let fifo = dir + "/catalog.yml"
        #expect(mkfifo(fifo, 0o600) == 0)
        let text = String(repeating: "name: piped\n", count: 20_000)
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            text.utf8CString.withUnsafeBytes { raw in _ = write(fd, raw.baseAddress, raw.count - 1) }
            close(fd)
        }
        writer.start()
        #expect(try TextFile.contents(fifo).get() == text)
    }
}
