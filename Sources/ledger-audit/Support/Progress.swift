import LedgerAuditCore
#if canImport(Glibc)
import Glibc
#endif

func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

func wallClockUs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// A progress line on stderr (events, events/s) for runs over a second, only on a terminal.
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

/// 1234567 → "1,234,567" for people (CSV keeps plain integers).
func grouped(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}
