import Crypto
import LedgerAuditCore

/// SHA-256 over the canonical encoding of every event in scope, in global order, each followed
/// by `\n` (see `CanonicalEvent`). Recompute it from an extract with the README's recipe.
public final class EventsDigest: ReplayObserver {
    /// Also given each event's canonical bytes (the seals' Merkle leaves), so they are encoded once.
    /// Kept in `state`, read with it in the one access an event makes.
    public var sinks: [any CanonicalEventSink] {
        get { state.sinks }
        set { state.sinks = newValue }
    }
    public var eventCount: Int { state.eventCount }
    /// Everything an event changes, in one stored property: the event is then one access to
    /// the object, not six (each a run-time exclusivity check, ~500 instructions an event).
    var state: State

    struct State {
        var hasher = SHA256()
        var line: [UInt8] = []
        var eventCount = 0
        /// With several sources merged: one more digest per source, over its own events in the same order.
        var perSource: [SHA256]
        var sinks: [any CanonicalEventSink] = []

        mutating func add(_ event: EventRecord) {
            if let made = event.canonicalEncoding {
                // Hashed where the reader made it: copied into `line` first, the copy was over a
                // quarter of the digest's time (a PostgreSQL `verify`, the lines not yet in this core's cache).
                made.withUnsafeBytes { take($0, of: event) }
            } else {
                line.removeAll(keepingCapacity: true)
                CanonicalEvent.encode(event, into: &line)
                line.withUnsafeBytes { take($0, of: event) }
            }
            eventCount += 1
        }

        /// One event's canonical encoding (without its line end) to the sinks and the digests.
        private mutating func take(_ bytes: UnsafeRawBufferPointer, of event: EventRecord) {
            for sink in sinks { sink.canonical(bytes, event: event) }
            withUnsafeBytes(of: State.lineEnd) { end in
                hasher.update(bufferPointer: bytes)
                hasher.update(bufferPointer: end)
                if !perSource.isEmpty, Int(event.sourceIndex) < perSource.count {
                    perSource[Int(event.sourceIndex)].update(bufferPointer: bytes)
                    perSource[Int(event.sourceIndex)].update(bufferPointer: end)
                }
            }
        }

        static let lineEnd: UInt8 = 0x0A
    }

    public init(sourceCount: Int = 1) {
        state = State(perSource: sourceCount > 1 ? Array(repeating: SHA256(), count: sourceCount) : [])
        state.line.reserveCapacity(4096)
    }

    public func observe(_ event: EventRecord, outcome: PostingOutcome, applied: [AppliedPosting], findings: inout FindingLog) {
        add(event)
    }

    /// One event, for callers with no finding log to lend (the digest never adds a finding).
    public func add(_ event: EventRecord) { state.add(event) }

    /// Goes on from `other`'s events so far (a lane that parts from the lane it rode on).
    public func resume(from other: EventsDigest) {
        // Its events so far, not its sinks: this digest keeps its own.
        let sinks = state.sinks
        state = other.state
        state.sinks = sinks
    }

    public func hexDigest() -> String { SHA256Hex.hex(state.hasher.finalize()) }
    /// Each source's own digest, in the run's source order (empty for one source).
    public func sourceHexDigests() -> [String] { state.perSource.map { SHA256Hex.hex($0.finalize()) } }
}

/// Receives the canonical encoding of each event in scope, in global order.
public protocol CanonicalEventSink: AnyObject {
    func canonical(_ bytes: UnsafeRawBufferPointer, event: EventRecord)
}

public enum SHA256Hex {
    public static func of(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
    public static func of(_ text: String) -> String { of(Array(text.utf8)) }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
