import Foundation
import LedgerAuditFuzzTargets

// Built two ways. With `-sanitize=fuzzer -DLIBFUZZER` (scripts/fuzz) libFuzzer owns main and calls
// the target named by LEDGER_AUDIT_FUZZ_TARGET. Built plainly, it replays inputs (a crasher
// libFuzzer saved) and writes seed corpora, so a failure is reproduced without the sanitizer.

#if LIBFUZZER
private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["LEDGER_AUDIT_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("LEDGER_AUDIT_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return t
}()
private let scratch = NSTemporaryDirectory() + "/ledger-audit-fuzz-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target.run(bytes, scratch: scratch)
    for f in FuzzTarget.scratchFiles(scratch) { unlink(f) }
    return 0
}
#else
@main
struct FuzzDriver {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        let usage = """
            usage: ledger-audit-fuzz seeds SAMPLE_FOLDER CORPUS_FOLDER   write each target's seeds under CORPUS_FOLDER/<target>/
                   ledger-audit-fuzz replay TARGET FILE...               run saved inputs through a target
            targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))
            """
        switch (args.first, args.count) {
        case ("seeds", 3):
            for t in FuzzTarget.allCases {
                let folder = args[2] + "/" + t.rawValue
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (i, seed) in t.seeds(sample: args[1]).enumerated() {
                    FileManager.default.createFile(atPath: folder + "/seed-\(i)", contents: Data(seed))
                }
            }
        case ("replay", 3...):
            guard let t = FuzzTarget(rawValue: args[1]) else { print(usage); exit(2) }
            let scratch = NSTemporaryDirectory() + "/ledger-audit-fuzz-\(getpid())"
            defer { for f in FuzzTarget.scratchFiles(scratch) { unlink(f) } }
            for file in args[2...] {
                guard let data = FileManager.default.contents(atPath: file) else { print("cannot read \(file)"); exit(2) }
                t.run(Array(data), scratch: scratch)
                print("\(t.rawValue): \(file) ran")
            }
        default:
            print(usage)
            exit(2)
        }
    }
}
#endif
