#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore

public struct OutputError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A report file written under a temporary name and renamed into place only once complete, so a
/// crash never leaves a file that looks finished.
public final class AtomicFile {
    public let finalPath: String
    let temporaryPath: String
    var fd: Int32
    var buffer: [UInt8] = []
    var committed = false
    static let flushBytes = 1 << 16

    public init(path: String) throws(OutputError) {
        finalPath = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = dir + "/." + name + ".partial-" + String(getpid())
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw OutputError("cannot write \(temporaryPath): \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(AtomicFile.flushBytes * 2)
    }

    deinit {
        if !committed {
            if fd >= 0 { close(fd) }
            unlink(temporaryPath)
        }
    }

    public func write(_ text: String) throws(OutputError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= AtomicFile.flushBytes { try flush() }
    }

    public func write(bytes: [UInt8]) throws(OutputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= AtomicFile.flushBytes { try flush() }
    }

    /// Bytes appended in place by `body` (no intermediate String or array).
    public func append(_ body: (inout [UInt8]) -> Void) throws(OutputError) {
        body(&buffer)
        if buffer.count >= AtomicFile.flushBytes { try flush() }
    }

    func flush() throws(OutputError) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw OutputError("cannot write \(finalPath): \(String(cString: strerror(errno)))") }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames into place.
    public func commit() throws(OutputError) { try commit(renamingTo: finalPath) }

    /// Flushes, syncs and renames into `path` (same folder): for files whose name is known
    /// only once they are complete (the ADS files carry the period's last day).
    public func commit(renamingTo path: String) throws(OutputError) {
        try flush()
        guard fsync(fd) == 0, close(fd) == 0 else { throw OutputError("cannot finish \(path): \(String(cString: strerror(errno)))") }
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            throw OutputError("cannot rename into \(path): \(String(cString: strerror(errno)))")
        }
        committed = true
    }

    /// Creates a directory and its parents (like mkdir -p).
    public static func makeDirectory(_ path: String) throws(OutputError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw OutputError("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    public static func writeWholeBytes(_ path: String, _ bytes: [UInt8]) throws(OutputError) {
        let f = try AtomicFile(path: path)
        try f.write(bytes: bytes)
        try f.commit()
    }

    public static func writeWhole(_ path: String, _ text: String) throws(OutputError) {
        let f = try AtomicFile(path: path)
        try f.write(text)
        try f.commit()
    }
}
