import LedgerAuditCore
import LedgerAuditEngine
#if canImport(Glibc)
import Glibc
#endif

/// A progress line on stderr (rows, rows/s) for runs over a second, only on a terminal.
final class ProgressLine {
    let enabled: Bool
    let startMs = monotonicMs()
    var lastDrawMs: Int64 = 0
    var drawn = false

    init(quiet: Bool) { enabled = !quiet && isatty(2) == 1 }

    func update(_ events: Int) {
        guard enabled else { return }
        let now = monotonicMs()
        let elapsed = now - startMs
        guard elapsed >= Limits.progressAfterMs, now - lastDrawMs >= 250 else { return }
        lastDrawMs = now
        drawn = true
        writeStderr("\r\(grouped(events)) events, \(grouped(events * 1000 / Int(max(elapsed, 1)))) events/s   ")
    }

    func finish() {
        if drawn { writeStderr("\r\u{1B}[K") }
    }
}
