import CLibCrypto
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
        guard let context = EVP_MD_CTX_new() else { throw SealError("cannot hash \(path): no digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha512(), nil) == 1 else { throw SealError("cannot hash \(path): SHA-512 unavailable") }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunkBytes)
            if n < 0 {
                if errno == EINTR { continue }
                throw SealError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            guard EVP_DigestUpdate(context, buffer, n) == 1 else { throw SealError("cannot hash \(path)") }
        }
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 64 else { throw SealError("cannot hash \(path)") }
        return Hex.encode(digest)
    }
}
