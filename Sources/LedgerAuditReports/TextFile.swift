#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore

/// Whole small text files the user names (catalogs, command registries, keys, seal files):
/// the text, or why not in words a user can act on. Read with `read(2)`, so a pipe
/// (`--config <(…)`) works; bounded, so a device named by mistake (`/dev/zero`) is refused
/// rather than read until memory runs out.
public enum TextFile {
    public struct Unreadable: Error, CustomStringConvertible, Sendable {
        /// Why, without the file's content (a key file's bytes are never shown).
        public var reason: String
        public var description: String { reason }
    }

    /// The file's text, or nil for any reason (a previous metrics file that may be absent).
    public static func read(_ path: String) -> String? { try? contents(path).get() }

    public static func contents(_ path: String, bytesMax: Int = Limits.textFileBytesMax) -> Result<String, Unreadable> {
        switch bytes(path, bytesMax: bytesMax) {
        case .failure(let why): return .failure(why)
        case .success(let bytes):
            do {
                return .success(String(copying: try UTF8Span(validating: bytes.span)))
            } catch {
                return .failure(Unreadable(reason: "it is not UTF-8 text (a bad byte at offset \(error.byteOffsets.lowerBound))"))
            }
        }
    }

    public static func bytes(_ path: String, bytesMax: Int = Limits.textFileBytesMax) -> Result<[UInt8], Unreadable> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Unreadable(reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var status = stat()
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            return .failure(Unreadable(reason: "it is a directory, not a file"))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Unreadable(reason: String(cString: strerror(errno))))
            }
            if n == 0 { return .success(bytes) }
            guard bytes.count + n <= bytesMax else {
                return .failure(Unreadable(reason: "it is longer than \(bytesMax) bytes, the limit for such a file (Limits.swift)"))
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }
}
