import CLibCrypto
import LedgerAuditReports
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-512 of a file's bytes through the system's libcrypto (OpenSSL 3), for the bag's
/// manifests. This machine has no SHA-512 instructions; OpenSSL's AVX2 code hashes ~830 MB/s
/// here where swift-crypto's BoringSSL took its AVX path at ~380 MB/s, and an evidence pack of
/// 2M events hashes 3.6 GB. Read with one reused buffer (no allocation a megabyte). The digest
/// is SHA-512 either way (tested against swift-crypto's).
enum FileSHA512 {
    static let chunkBytes = 1 << 20

    static func hex(ofFileAt path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SealError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        guard let digest = SHA512Stream() else { throw SealError("cannot hash \(path): SHA-512 unavailable") }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunkBytes)
            if n < 0 {
                if errno == EINTR { continue }
                throw SealError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            digest.update(UnsafeRawBufferPointer(start: buffer, count: n))
        }
        guard let hex = digest.finalHex() else { throw SealError("cannot hash \(path)") }
        return hex
    }
}

/// SHA-512 fed piece by piece (libcrypto's EVP context): a file's digest while it is written
/// (`AtomicFile.contentDigest`), or while it is read.
public final class SHA512Stream: FileContentDigest, @unchecked Sendable {
    private let context: OpaquePointer
    /// Set when libcrypto refused an update; `finalHex` then returns nil.
    private var failed = false
    private var finished = false

    public init?() {
        guard let context = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestInit_ex(context, EVP_sha512(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "SHA512Stream updated after finalHex")
        guard !failed, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if EVP_DigestUpdate(context, base, bytes.count) != 1 { failed = true }
    }

    /// The digest in lower-case hex, once (nil when libcrypto failed).
    public func finalHex() -> String? {
        precondition(!finished, "SHA512Stream finished twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        guard !failed, EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 64 else { return nil }
        return Hex.encode(digest)
    }
}
