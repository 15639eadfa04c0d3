import Foundation
import LedgerAuditConfig
import LedgerAuditCore
@testable import LedgerAuditSources
import LedgerAuditTestSupport
import Testing

@Suite("File extracts: JSONL and COPY-CSV", .removesTemporaryFolders)
struct FileExtractTests {
    let header = "event_id,event_type,aggregate_id,stream_version,causation_id,correlation_id,hlc_physical,hlc_logical,vector_clock,payload,metadata,user_id,recorded_at\n"
    let u1 = "11111111-1111-4111-8111-111111111111"
    let u2 = "22222222-2222-4222-8222-222222222222"
    let corr = "33333333-3333-4333-8333-333333333333"

    func jsonl(_ id: String, _ hlc: Int64, amount: String, type: String = "FUNDS_DEPOSITED", recorded: String = "2026-05-01T00:00:00Z") -> String {
        #"{"event_id":"\#(id)","event_type":"\#(type)","aggregate_id":"\#(u1)","stream_version":1,"causation_id":null,"correlation_id":"\#(corr)","hlc_physical":\#(hlc),"hlc_logical":0,"vector_clock":{},"payload":{"amount":\#(amount)},"metadata":{},"user_id":"\#(u1)","recorded_at":"\#(recorded)"}"#
    }

    func write(_ name: String, _ text: String) -> String {
        let dir = TestPaths.temporaryDirectory("extract")  // under the run's TMPDIR, removed with it
        let path = dir + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func replay(_ path: String, scope: ReplayScope = ReplayScope()) throws -> ReplayResult {
        try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: path), scope: scope, eventIdsMayRepeat: true)
    }

    @Test("an extract out of global order is sorted, and says so")
    func sortsOutOfOrder() throws {
        let a = "00000000-0000-4000-8000-00000000000a", b = "00000000-0000-4000-8000-00000000000b"
        // Same HLC: event_id decides. b is written first.
        let text = jsonl(b, 5000, amount: "2") + "\n" + jsonl(a, 5000, amount: "1") + "\n" + jsonl(a.replacingOccurrences(of: "a", with: "c"), 4000, amount: "4") + "\n"
        let r = try replay(write("e.jsonl", text))
        #expect(r.source.reorderedFromWriteOrder)
        #expect(r.book.balance("user:\(u1):available", "USD") == 7)
        #expect(r.lastEvent?.eventId == EventID(b))
    }

    @Test("a sorted replay hands each record its exact bytes: windows where the next records lie close (nearly in order), a read a record where they do not (shuffled)")
    func sortedReplayWindows() throws {
        // 6,000 records of 200 to 1,199 bytes (~4 MiB, several windows), each line its own
        // number repeated, so a record read from the wrong place cannot pass.
        var g = CanonicalJSONTests.SplitMix(seed: 11)
        var text = "", spans: [(offset: Int, length: Int)] = []
        for n in 0..<6_000 {
            let length = 200 + g.next(1_000)
            let unit = String(n) + ","
            let line = String(String(repeating: unit, count: length / unit.count + 1).prefix(length))
            spans.append((text.utf8.count, length))
            text += line + "\n"
        }
        let path = write("records.jsonl", text)
        let file = try ExtractFile(path: path)
        let bytes = Array(text.utf8)
        func entries(_ order: [Int]) -> [FileExtractSource.IndexEntry] {
            order.map { FileExtractSource.IndexEntry(key: GlobalOrderKey(hlcPhysicalMs: 0, hlcLogical: 0, eventId: EventID(high: 0, low: UInt64($0))),
                                                     offset: spans[$0].offset, length: Int32(spans[$0].length), lineNumber: Int32($0 + 1), line: Int32($0 + 1)) }
        }
        func replay(_ order: [Int]) throws -> Int {
            let index = entries(order)
            var reads = FileExtractSource.SortedReplayReads(fileBytes: bytes.count)
            for i in index.indices {
                let span = spans[order[i]]
                try reads.withRecord(at: i, of: index, in: file) { record in
                    #expect(Array(record) == Array(bytes[span.offset..<span.offset + span.length]), "record \(order[i])")
                }
            }
            return reads.reads
        }
        // Write order a few places off global order, as an extract from a live store is.
        var nearly = Array(0..<6_000)
        for i in stride(from: 0, to: 5_990, by: 7) { nearly.swapAt(i, i + 1 + g.next(5)) }
        let nearlyReads = try replay(nearly)
        #expect(nearlyReads < 40, "\(nearlyReads) reads for 6,000 records about 4 MiB long")
        // Shuffled: windows do not pay, each record is read by itself.
        var shuffled = Array(0..<6_000)
        for i in shuffled.indices.reversed() { shuffled.swapAt(i, g.next(i + 1)) }
        #expect(try replay(shuffled) >= 5_900)
        // Backwards: a window reaches 64 KiB before the record that starts it, so the file is
        // read about 64 KiB at a time.
        let backwards = try replay(Array((0..<6_000).reversed()))
        #expect(backwards > nearlyReads && backwards < 200, "\(backwards)")
        // A file cut short after it was indexed: a clear error, never bytes from elsewhere.
        let cut = write("cut.jsonl", String(text.prefix(spans[3_000].offset)))
        let cutFile = try ExtractFile(path: cut)
        let index = entries(Array(0..<6_000))
        var reads = FileExtractSource.SortedReplayReads(fileBytes: bytes.count)
        #expect(throws: SourceError.self) {
            for i in index.indices { try reads.withRecord(at: i, of: index, in: cutFile) { _ in } }
        }
    }

    @Test("a mapped extract hands each record its exact bytes; a record past the end mapped (the file cut short after it was indexed) is a source error; a shuffled extract replays from its mapping to the same rows as in order")
    func mappedRecords() throws {
        var g = CanonicalJSONTests.SplitMix(seed: 5)
        var text = "", spans: [(offset: Int, length: Int)] = []
        for n in 0..<3_000 {
            let line = String(String(repeating: String(n) + ",", count: 40 + g.next(200)).prefix(30 + g.next(300)))
            spans.append((text.utf8.count, line.utf8.count))
            text += line + "\n"
        }
        let bytes = Array(text.utf8)
        let path = write("mapped.jsonl", text)
        let file = try ExtractFile(path: path)
        #expect(MappedExtract.pays(bytes: bytes.count))
        #expect(!MappedExtract.pays(bytes: 0))
        let mapped = try #require(MappedExtract(file, bytes: bytes.count))
        var order = Array(0..<3_000)
        for i in order.indices.reversed() { order.swapAt(i, g.next(i + 1)) }
        for n in order {
            let record = try mapped.record(offset: spans[n].offset, length: spans[n].length)
            #expect(Array(record) == Array(bytes[spans[n].offset..<spans[n].offset + spans[n].length]), "record \(n)")
        }
        #expect(throws: SourceError.self) { try mapped.record(offset: bytes.count - 10, length: 11) }
        #expect(throws: SourceError.self) { try mapped.record(offset: -1, length: 1) }

        // Whole events: the same rows, in global order, whether written in order or shuffled.
        var events: [String] = []
        for n in 0..<500 {
            let id = String(format: "00000000-0000-4000-8000-%012d", n)
            events.append(jsonl(id, 1_000 + Int64(n / 3), amount: String(n % 89 + 1)))
        }
        let inOrder = try replay(write("ordered.jsonl", events.joined(separator: "\n") + "\n"))
        for i in events.indices.reversed() { events.swapAt(i, g.next(i + 1)) }
        let shuffled = try replay(write("shuffled.jsonl", events.joined(separator: "\n") + "\n"))
        #expect(shuffled.source.reorderedFromWriteOrder && !inOrder.source.reorderedFromWriteOrder)
        #expect(shuffled.book.balance("user:\(u1):available", "USD") == inOrder.book.balance("user:\(u1):available", "USD"))
        #expect(shuffled.lastEvent == inOrder.lastEvent && shuffled.population.eventsInScope == 500)
    }

    @Test("a mapped extract cut short while it is read ends the run with exit 3 and the extract named (SIGBUS caught), not a crash")
    func mappedExtractCutShortExits3() async {
        let result = await #expect(processExitsWith: .exitCode(3), observing: [\.standardErrorContent]) {
            // In the child process: a file of its own, gone from its folder before the fault.
            var template = Array((NSTemporaryDirectory() + "ledger-audit-test-sigbus-XXXXXX").utf8CString)
            guard let dir = mkdtemp(&template) else { exit(9) }
            let path = String(cString: dir) + "/cut.jsonl"
            try! String(repeating: "{}\n", count: 40_000).write(toFile: path, atomically: false, encoding: .utf8)
            let file = try! ExtractFile(path: path)
            guard let mapped = MappedExtract(file, bytes: 120_000) else { exit(8) }
            guard truncate(path, 0) == 0 else { exit(7) }
            unlink(path)
            rmdir(String(cString: dir))
            let record = try! mapped.record(offset: 99_999, length: 3)  // "{}\n" once in the file
            exit(record[0] == 0x7B ? 5 : 6)  // reading the byte faults: not reached
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("cannot read extract") && stderr.contains("cut.jsonl") && stderr.contains("cut short"), "\(stderr)")
    }

    @Test("a JSONL file's order checked in two halves at once gives the rows and report of one piece: in order, out of order at the half-way line, inside either half, with blank, malformed and byte-order-marked lines")
    func orderCheckedInHalves() throws {
        func line(_ n: Int, _ hlc: Int64) -> String {
            jsonl(String(format: "00000000-0000-4000-8000-%012d", n), hlc, amount: String(n % 97 + 1))
        }
        func rows(_ path: String, splitAt bytes: Int) throws -> ([String], SourceReport) {
            var source = try FileExtractSource(path: path)
            source.orderCheckSplitBytesMin = bytes
            var out: [String] = []
            let report = try source.stream(scope: ReplayScope()) { row in
                switch row {
                case .event(let e): out.append("\(e.eventId) \(e.recordedAtUs)")
                case .malformed(let m): out.append("malformed \(m.location): \(m.reason)")
                }
            }
            return (out, report)
        }
        let n = 400
        var cases: [(name: String, lines: [String])] = []
        let inOrder = (0..<n).map { line($0, 1_000 + Int64($0)) }
        cases.append(("in order", inOrder))
        // The only disorder is across the line the split falls on (found by trying each).
        for k in [n / 2 - 2, n / 2 - 1, n / 2, n / 2 + 1] {
            var lines = inOrder
            lines.swapAt(k, k + 1)
            cases.append(("swapped at \(k)", lines))
        }
        var early = inOrder; early.swapAt(10, 11); cases.append(("swapped in the first half", early))
        var late = inOrder; late.swapAt(n - 20, n - 19); cases.append(("swapped in the second half", late))
        var messy = inOrder
        messy.insert("", at: n / 2); messy.insert("{not json", at: n / 2 + 1); messy.insert("   ", at: 3); messy.insert(#"{"event_id":"x"}"#, at: n - 5)
        cases.append(("blank and malformed lines", messy))
        // Out of order with rows that have no order key: both halves' indexes, and their
        // unindexed rows' numbers and lines, as one piece gives them.
        cases.append(("backwards, with blank and malformed lines", messy.reversed()))
        var shuffled = messy
        var g = CanonicalJSONTests.SplitMix(seed: 3)
        for i in shuffled.indices.reversed() { shuffled.swapAt(i, g.next(i + 1)) }
        cases.append(("shuffled, with blank and malformed lines", shuffled))
        // A second copy of an event (recorded at another time, so the two are told apart) in
        // the other half: the first written replays first.
        let copies = (0..<40).map { jsonl(String(format: "00000000-0000-4000-8000-%012d", $0), 1_000 + Int64($0), amount: "7", recorded: "2026-05-02T00:00:00Z") }
        var repeats = inOrder + copies.reversed()
        repeats.swapAt(5, n + 3)
        cases.append(("repeated events in both halves", repeats))
        cases.append(("byte-order mark", ["\u{FEFF}" + inOrder[0]] + inOrder.dropFirst()))
        cases.append(("one line", [inOrder[0]]))
        cases.append(("backwards", inOrder.reversed()))
        for c in cases {
            for ending in ["\n", ""] {
                let path = write("halves.jsonl", c.lines.joined(separator: "\n") + ending)
                let whole = try rows(path, splitAt: .max)
                let halves = try rows(path, splitAt: 1)
                #expect(halves.0 == whole.0, "\(c.name)")
                #expect(halves.1 == whole.1, "\(c.name)")
                #expect(whole.0.count >= c.lines.count - 4, "\(c.name)")
            }
        }
        // The swaps at the half-way line are found out of order, and sorted.
        let swapped = cases.filter { $0.name.hasPrefix("swapped") }
        for c in swapped {
            let path = write("halves.jsonl", c.lines.joined(separator: "\n") + "\n")
            let (ids, report) = try rows(path, splitAt: 1)
            #expect(report.reorderedFromWriteOrder, "\(c.name)")
            #expect(ids == ids.sorted(), "\(c.name)")
        }
    }

    @Test("an extract in order streams without sorting")
    func inOrder() throws {
        let r = try replay(write("e.jsonl", jsonl(u2, 1, amount: "1") + "\n\n" + jsonl(corr, 2, amount: "2") + "\n"))
        #expect(!r.source.reorderedFromWriteOrder)
        #expect(r.population.eventsRead == 2)
    }

    @Test("unreadable lines are MALFORMED_EVENT, counted, never skipped silently")
    func malformedLines() throws {
        let text = [
            jsonl(u2, 1, amount: "5"),
            "{not json",
            #"{"event_id":"nope"}"#,
            jsonl("not-a-uuid", 2, amount: "1"),
            jsonl(corr, 3, amount: "1", recorded: "2026-05-01 00:00:00"),
            "[1,2]",
        ].joined(separator: "\n")
        let r = try replay(write("e.jsonl", text))
        #expect(r.population.rowsMalformed == 5)
        #expect(r.findings.countByCode[.malformedEvent] == 5)
        #expect(r.book.balance("user:\(u1):available", "USD") == 5)
        let reasons = r.findings.sorted().map(\.message).joined(separator: "|")
        #expect(reasons.contains("line 2"))
        #expect(reasons.contains("event_id is not a UUID"))
        #expect(reasons.contains("recorded_at is not a timestamp with a zone offset"))
    }

    @Test("COPY-CSV: NULL is an unquoted empty field, payload JSON is quoted, offsets vary")
    func copyCSV() throws {
        let text = header
            + "\(u2),FUNDS_DEPOSITED,\(u1),1,,\(corr),1000,0,{},\"{\"\"amount\"\": 100, \"\"currency\"\": \"\"EUR\"\"}\",{},\(u1),2026-05-01 02:00:00.5+02\n"
            + "\(corr),FUNDS_WITHDRAWN,\(u1),2,\(u2),\(corr),2000,0,{},\"{\"\"amount\"\": \"\"30\"\", \"\"currency\"\": \"\"EUR\"\", \"\"note\"\": \"\"a,b\\nc\"\",\n\"\"x\"\": 1}\",{},\(u1),2026-04-30 19:00:01-05\n"
        let r = try replay(write("e.csv", text))
        #expect(r.findings.total == 0)
        #expect(r.book.balance("user:\(u1):available", "EUR") == 70)
    }

    @Test("a CSV whose header lacks a column cannot be read: a source error, not a guess")
    func csvHeader() throws {
        let path = write("e.csv", "event_id,event_type\n")
        #expect(throws: SourceError.self) { try replay(path) }
    }

    @Test("a pipe or a directory named as an extract is a source error that says so, at once: a pipe with no writer is not waited for, and neither is read as \"Illegal seek\"")
    func notARegularFile() throws {
        let dir = TestPaths.temporaryDirectory("extract")
        let fifo = dir + "/events.jsonl", folder = dir + "/folder.jsonl"
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for (path, says) in [(fifo, "it is a pipe; an extract is read by position"), (folder, "it is a directory, not a file")] {
            do {
                _ = try replay(path)
                Issue.record("\(path) was read")
            } catch let error as SourceError {
                #expect(error.message.contains(says), "\(error.message)")
            }
        }
    }

    @Test("the memory a mapped extract may take is bounded by the tightest control-group cap on the process's group and its ancestors (cgroup v2 memory.max, v1 memory.limit_in_bytes), none when no cap is set or readable")
    func controlGroupMemoryCap() {
        func cap(_ selfCgroup: String?, _ files: [String: String]) -> Int? {
            MemoryLimit.controlGroupBytes(selfCgroup: selfCgroup, read: { files[$0] })
        }
        // v2: the group's own cap, a tighter one on an ancestor, "max" (no cap) ignored.
        #expect(cap("0::/user.slice/job.scope\n", ["/sys/fs/cgroup/user.slice/job.scope/memory.max": "2147483648\n"]) == 2_147_483_648)
        #expect(cap("0::/user.slice/job.scope\n", ["/sys/fs/cgroup/user.slice/job.scope/memory.max": "max\n",
                                                    "/sys/fs/cgroup/user.slice/memory.max": "1073741824\n"]) == 1_073_741_824)
        // A container: its group is "/" and its cap sits at the mount's top.
        #expect(cap("0::/\n", ["/sys/fs/cgroup/memory.max": "536870912\n"]) == 536_870_912)
        // v1: the memory controller's line (among others), its cap on the parent; v1's "no cap"
        // is a huge number, left for the machine's memory to bound.
        let v1 = "12:pids:/docker/abc\n4:cpu,memory:/docker/abc\n1:name=systemd:/docker/abc\n"
        #expect(cap(v1, ["/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n",
                         "/sys/fs/cgroup/memory/docker/memory.limit_in_bytes": "4294967296\n"]) == 4_294_967_296)
        // Nothing set, nothing readable, no /proc: no cap.
        #expect(cap("0::/\n", ["/sys/fs/cgroup/memory.max": "max\n"]) == nil)
        #expect(cap("0::/a/b\n", [:]) == nil)
        #expect(cap(nil, [:]) == nil)
        #expect(MemoryLimit.bytes > 0 && MemoryLimit.bytes <= MemoryLimit.physicalBytes())
    }

    @Test("a CSV row with a null required column or a wrong field count is malformed")
    func csvMalformedRows() throws {
        let text = header
            + "\(u2),FUNDS_DEPOSITED,\(u1),1,,\(corr),1000,0,{},,{},\(u1),2026-05-01 00:00:00+00\n"
            + "\(u2),FUNDS_DEPOSITED,\(u1)\n"
            + "\(u2),\"\",\(u1),1,,\(corr),1000,0,{},{},{},\(u1),2026-05-01 00:00:00+00\n"
        let r = try replay(write("e.csv", text))
        #expect(r.population.rowsMalformed == 3)
    }

    @Test("the JSONL and CSV extracts of the sample replay to the same balances")
    func sampleExtractsAgree() throws {
        let a = try replay(TestPaths.sample + "/events.jsonl")
        let b = try replay(TestPaths.sample + "/events.csv")
        #expect(a.book.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" } == b.book.sortedRows().map { "\($0.0.account) \($0.0.currency) \($0.1)" })
        #expect(a.population == b.population)
        #expect(a.conservation.holds && b.conservation.holds)
        #expect(a.findings.total == 0)
    }

    @Test("as-of filters an extract in scope but counts every row read")
    func asOfOnExtract() throws {
        let r = try replay(write("e.jsonl", jsonl(u2, 1000, amount: "1") + "\n" + jsonl(corr, 2000, amount: "2") + "\n"), scope: ReplayScope(hlcPhysicalMaxMs: 1000))
        #expect(r.population.eventsRead == 2)
        #expect(r.population.eventsInScope == 1)
        #expect(r.book.balance("user:\(u1):available", "USD") == 1)
    }
}

@Suite("JSONL column names", .removesTemporaryFolders)
struct JSONLKeyTests {
    @Test("a column name written with escapes still names its column")
    func escapedKeys() throws {
        let line = #"{"event\u005fid":"11111111-1111-4111-8111-111111111111","event_type":"FUNDS_DEPOSITED","aggregate_id":"22222222-2222-4222-8222-222222222222","stream_version":1,"causation_id":null,"correlation_id":"33333333-3333-4333-8333-333333333333","hlc_physical":1,"hlc_logical":0,"vector_clock":{},"payload":{"amount":5},"metadata":{},"user_id":"22222222-2222-4222-8222-222222222222","recorded_at":"2026-05-01T00:00:00Z"}"#
        let dir = TestPaths.temporaryDirectory("keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (line + "\n").write(toFile: dir + "/e.jsonl", atomically: true, encoding: .utf8)
        let r = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: dir + "/e.jsonl"), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(r.findings.total == 0)
        #expect(r.book.balance("user:22222222-2222-4222-8222-222222222222:available", "USD") == 5)
    }
}

@Suite("Integer columns read from their bytes", .removesTemporaryFolders)
struct IntegerColumnTests {
    @Test("an integer column's bytes become a value only in their plain decimal form, which the value prints back")
    func exactText() {
        let texts = ["0", "7", "-7", "-0", "007", "+5", "1.5", "1e3", "", "-", "123456789012345678", "-123456789012345678",
                     "1234567890123456789", "9223372036854775807", "99999999999999999999", "12a", " 1"]
        var taken: [String] = []
        for text in texts {
            let value = Array(text.utf8).withUnsafeBufferPointer { ColumnValue.integer(exactText: $0) }
            guard case .integer(let v)? = value else { continue }
            #expect(String(v) == text, "\(text) read as \(v)")
            #expect(Int64(text) == v)
            taken.append(text)
        }
        // The rest (signs, leading zeros, 19 digits and more, non-digits) go the general way.
        #expect(taken == ["0", "7", "-7", "123456789012345678", "-123456789012345678"])
    }

    @Test("integer columns of JSONL and COPY-CSV lines read and are refused with the same words as before the fast path")
    func sameWords() throws {
        let u1 = "11111111-1111-4111-8111-111111111111", corr = "33333333-3333-4333-8333-333333333333"
        func line(_ n: Int, version: String = "1", physical: String, logical: String = "0") -> String {
            let id = String(format: "%08d-1111-4111-8111-111111111111", n)
            return #"{"event_id":"\#(id)","event_type":"FUNDS_DEPOSITED","aggregate_id":"\#(u1)","stream_version":\#(version),"causation_id":null,"correlation_id":"\#(corr)","hlc_physical":\#(physical),"hlc_logical":\#(logical),"vector_clock":{},"payload":{"amount":1},"metadata":{},"user_id":"\#(u1)","recorded_at":"2026-05-01T00:00:00Z"}"#
        }
        let lines = [
            line(1, physical: "1000"),
            line(2, version: "\"2\"", physical: "1001"),               // a string holding digits: read
            line(3, version: "-0", physical: "1002"),                  // not the plain form: read the general way
            line(4, physical: "1003", logical: "2147483648"),           // past 32 bits
            line(5, physical: "99999999999999999999"),                 // past 64 bits
            line(6, physical: "1.5"),
            line(7, physical: "9223372036854775807"),                  // 19 digits: the general way, read, then out of range
        ]
        let dir = TestPaths.temporaryDirectory("integers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/e.jsonl", atomically: true, encoding: .utf8)
        let r = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: dir + "/e.jsonl"), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(r.population.rowsMalformed == 4)
        let reasons = r.findings.sorted().map(\.message)
        #expect(reasons.contains { $0.contains("column hlc_physical is 9223372036854775807") })
        #expect(reasons.contains { $0.contains("column hlc_logical is not a 32-bit integer: '2147483648'") })
        #expect(reasons.contains { $0.contains("column hlc_physical is not a 64-bit integer: '99999999999999999999'") })
        #expect(reasons.contains { $0.contains("column hlc_physical is not a 64-bit integer: '1.5'") })
        #expect(r.book.balance("user:\(u1):available", "USD") == 3)

        let header = "event_id,event_type,aggregate_id,stream_version,causation_id,correlation_id,hlc_physical,hlc_logical,vector_clock,payload,metadata,user_id,recorded_at\n"
        func row(_ n: Int, version: String, physical: String, logical: String = "0") -> String {
            String(format: "%08d-1111-4111-8111-111111111111", n) + ",FUNDS_DEPOSITED,\(u1),\(version),,\(corr),\(physical),\(logical),{},\"{\"\"amount\"\": 1}\",{},\(u1),2026-05-01 00:00:00+00\n"
        }
        let csv = header + row(1, version: "007", physical: "1000") + row(2, version: "+5", physical: "1001")
            + row(3, version: "1", physical: "1002", logical: "-2147483649") + row(4, version: "1", physical: "12x")
        try csv.write(toFile: dir + "/e.csv", atomically: true, encoding: .utf8)
        let c = try Replay(catalog: CatalogLoader.reference()).run(source: try FileExtractSource(path: dir + "/e.csv"), scope: ReplayScope(), eventIdsMayRepeat: true)
        #expect(c.population.rowsMalformed == 2)
        let csvReasons = c.findings.sorted().map(\.message)
        #expect(csvReasons.contains { $0.contains("column hlc_logical is not a 32-bit integer: '-2147483649'") })
        #expect(csvReasons.contains { $0.contains("column hlc_physical is not a 64-bit integer: '12x'") })
        #expect(c.book.balance("user:\(u1):available", "USD") == 2)
    }
}
