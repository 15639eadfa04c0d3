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

/// What sees a file's bytes as they are written (an evidence pack's SHA-512 of its streamed
/// files, so the bag's manifest need not read gigabytes back).
public protocol FileContentDigest: AnyObject {
    func update(_ bytes: UnsafeRawBufferPointer)
}

/// A report file written under a temporary name and renamed into place only once complete, so a
/// crash never leaves a file that looks finished.
public final class AtomicFile {
    public let finalPath: String
    let temporaryPath: String
    var fd: Int32
    var buffer: [UInt8] = []
    var committed = false
    /// Where the file went: `finalPath`, or the name `commit(renamingTo:)` gave it.
    public private(set) var committedPath: String?
    static let flushBytes = 1 << 16
    /// Bytes handed to the kernel so far, and up to where its write-back was asked for.
    private var writtenBytes: Int64 = 0
    private var writeBackRequestedBytes: Int64 = 0
    /// A file that grows by gigabytes (journal, GL detail, population extract) asks the kernel
    /// to start writing each such stretch to disk as it goes, so that `commit`'s fsync waits
    /// for the last stretch only: at 2M events the three fsyncs of an evidence pack held its
    /// main thread ~1 s after the pass, with the cores idle.
    static let writeBackStrideBytes: Int64 = 32 << 20
    /// Sees every byte written, in order, when set before the first flush.
    public var contentDigest: (any FileContentDigest)? {
        willSet { precondition(writtenBytes == 0, "a file's digest is set before its first byte is written") }
    }

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
        if let contentDigest, !buffer.isEmpty { buffer.withUnsafeBytes { contentDigest.update($0) } }
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw OutputError("cannot write \(finalPath): \(String(cString: strerror(errno)))") }
            done += n
        }
        writtenBytes += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
        #if os(Linux)
        if writtenBytes - writeBackRequestedBytes >= AtomicFile.writeBackStrideBytes {
            // Linux starts writing a range's dirty pages back on this advice and does not wait
            // (Swift's Glibc has no sync_file_range); fsync still makes the file durable.
            _ = posix_fadvise(fd, off_t(writeBackRequestedBytes), off_t(writtenBytes - writeBackRequestedBytes), Int32(POSIX_FADV_DONTNEED))
            writeBackRequestedBytes = writtenBytes
        }
        #endif
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
        committedPath = path
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
