import CLibCrypto
import Crypto
import Foundation
import LedgerAuditCore

/// RFC 3161 trusted time: a time-stamping authority (TSA) signs that a SHA-256 digest existed
/// at a time. The request, the response and their verification are OpenSSL's own (`TS_*`,
/// the code behind `openssl ts`), from the system libcrypto that libpq already loads; the HTTP
/// exchange is a plain HTTP/1.0 POST (`application/timestamp-query`), as TSAs serve it.
public enum TrustedTime {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// What a verified token says.
    public struct Stamp: Sendable, Equatable {
        /// The TSA's time, as the token states it (GeneralizedTime, UTC).
        public var time: String
        public var serial: String
    }

    static func opensslError() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(String(cString: buffer))
        }
        return parts.isEmpty ? "OpenSSL gave no reason" : parts.joined(separator: "; ")
    }

    /// A DER TimeStampReq for a SHA-256 digest, with a nonce and a request for the TSA's certificate.
    static func request(sha256 digest: [UInt8], nonce: UInt64) throws(Failure) -> [UInt8] {
        guard let req = TS_REQ_new(), let imprint = TS_MSG_IMPRINT_new(), let algorithm = X509_ALGOR_new(), let n = ASN1_INTEGER_new() else {
            throw Failure("cannot build a time-stamp request: \(opensslError())")
        }
        defer { TS_REQ_free(req); TS_MSG_IMPRINT_free(imprint); X509_ALGOR_free(algorithm); ASN1_INTEGER_free(n) }
        var d = digest
        guard X509_ALGOR_set0(algorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nil) == 1,
              TS_MSG_IMPRINT_set_algo(imprint, algorithm) == 1,
              TS_MSG_IMPRINT_set_msg(imprint, &d, Int32(d.count)) == 1,
              TS_REQ_set_version(req, 1) == 1, TS_REQ_set_msg_imprint(req, imprint) == 1,
              ASN1_INTEGER_set_uint64(n, nonce) == 1, TS_REQ_set_nonce(req, n) == 1, TS_REQ_set_cert_req(req, 1) == 1 else {
            throw Failure("cannot build a time-stamp request: \(opensslError())")
        }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_TS_REQ(req, &out)
        guard length > 0, let out else { throw Failure("cannot encode the time-stamp request: \(opensslError())") }
        defer { CRYPTO_free(out, nil, 0) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Asks the TSA at `url` (http://host[:port]/path) to stamp `data`'s SHA-256. Returns the
    /// DER TimeStampResp to keep as `.tsr`, after checking it is granted, for this digest and
    /// nonce. Any failure (unreachable, refused, wrong imprint) throws: nothing is kept.
    public static func stamp(_ data: [UInt8], url: String) throws(Failure) -> (response: [UInt8], stamp: Stamp) {
        let digest = Array(SHA256.hash(data: data))
        var nonce: UInt64 = 0
        guard withUnsafeMutableBytes(of: &nonce, { RAND_bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), 8) }) == 1 else {
            throw Failure("no random nonce: \(opensslError())")
        }
        let body = try request(sha256: digest, nonce: nonce)
        let response = try HTTPPost.send(url: url, contentType: "application/timestamp-query", body: body)
        guard let resp = parse(response) else { throw Failure("the TSA at \(url) sent no RFC 3161 response: \(opensslError())") }
        defer { TS_RESP_free(resp) }
        let status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)))
        guard status == 0 || status == 1, let info = TS_RESP_get_tst_info(resp) else {
            throw Failure("the TSA at \(url) refused the request (PKIStatus \(status))")
        }
        guard let imprint = TS_TST_INFO_get_msg_imprint(info), let msg = TS_MSG_IMPRINT_get_msg(imprint),
              bytes(of: msg) == digest else {
            throw Failure("the TSA at \(url) stamped other data than was asked")
        }
        guard let n = TS_TST_INFO_get_nonce(info), uint64(n) == nonce else {
            throw Failure("the TSA at \(url) answered another request (nonce differs)")
        }
        return (response, describe(info))
    }

    static func uint64(_ n: UnsafePointer<ASN1_INTEGER>) -> UInt64? {
        var v: UInt64 = 0
        return ASN1_INTEGER_get_uint64(&v, n) == 1 ? v : nil
    }

    static func parse(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { b -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = b.baseAddress
            return d2i_TS_RESP(nil, &p, b.count)
        }
    }

    static func bytes(of s: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        guard let data = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(s))))
    }

    static func describe(_ info: OpaquePointer) -> Stamp {
        let time = TS_TST_INFO_get_time(info).map { String(decoding: bytes(of: $0), as: UTF8.self) } ?? "?"
        var serial = "?"
        if let s = TS_TST_INFO_get_serial(info), let bn = ASN1_INTEGER_to_BN(s, nil) {
            if let hex = BN_bn2hex(bn) { serial = String(cString: hex); CRYPTO_free(hex, nil, 0) }
            BN_free(bn)
        }
        return Stamp(time: time, serial: serial)
    }

    /// Checks a kept TimeStampResp: the signature chains to a certificate of `caFile` (PEM),
    /// the signer is a time-stamping certificate, and the imprint is `data`'s SHA-256.
    public static func verify(response der: [UInt8], data: [UInt8], caFile: String) -> Result<Stamp, Failure> {
        ERR_clear_error()
        guard let resp = parse(der) else { return .failure(Failure("not an RFC 3161 response: \(opensslError())")) }
        defer { TS_RESP_free(resp) }
        guard let info = TS_RESP_get_tst_info(resp) else { return .failure(Failure("the response holds no token")) }
        let digest = Array(SHA256.hash(data: data))
        guard let imprint = TS_TST_INFO_get_msg_imprint(info), let msg = TS_MSG_IMPRINT_get_msg(imprint), bytes(of: msg) == digest else {
            return .failure(Failure("the token is for other data (its imprint is not the SHA-256 of the file)"))
        }
        guard let ctx = TS_VERIFY_CTX_new() else { return .failure(Failure(opensslError())) }
        defer { TS_VERIFY_CTX_free(ctx) }
        guard let store = X509_STORE_new() else { return .failure(Failure(opensslError())) }
        guard X509_STORE_load_file(store, caFile) == 1 else {
            X509_STORE_free(store)
            return .failure(Failure("cannot read the TSA's CA certificates from \(caFile): \(opensslError())"))
        }
        _ = TS_VERIFY_CTX_set_store(ctx, store)  // the context owns the store now
        guard let copy = CRYPTO_malloc(digest.count, nil, 0)?.assumingMemoryBound(to: UInt8.self) else { return .failure(Failure("out of memory")) }
        copy.update(from: digest, count: digest.count)
        _ = TS_VERIFY_CTX_set_imprint(ctx, copy, digest.count)  // owned by the context
        _ = TS_VERIFY_CTX_set_flags(ctx, Int32(TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT))
        guard TS_RESP_verify_response(ctx, resp) == 1 else {
            return .failure(Failure("the token does not verify against \(caFile): \(opensslError())"))
        }
        return .success(describe(info))
    }
}

/// One HTTP/1.0 POST over a TCP connection, the response body back. http:// only: a TSA's
/// answer is signed, so the channel needs no secrecy; https TSAs are not reached (exit 3).
enum HTTPPost {
    static func send(url: String, contentType: String, body: [UInt8]) throws(TrustedTime.Failure) -> [UInt8] {
        guard url.hasPrefix("http://") else { throw TrustedTime.Failure("--tsa-url \(url): only http:// time-stamping authorities are supported (the token is signed; TLS adds nothing to it)") }
        let rest = url.dropFirst(7)
        let hostPort = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostPort.count).isEmpty ? "/" : String(rest.dropFirst(hostPort.count))
        let parts = hostPort.split(separator: ":", maxSplits: 1)
        guard let host = parts.first.map(String.init), !host.isEmpty else { throw TrustedTime.Failure("--tsa-url \(url): no host") }
        let port = parts.count == 2 ? String(parts[1]) : "80"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, port, &hints, &list) == 0, let first = list else { throw TrustedTime.Failure("cannot resolve the TSA host \(host)") }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let a = node {
            fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                var timeout = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { break }
                close(fd)
                fd = -1
            }
            node = a.pointee.ai_next
        }
        guard fd >= 0 else { throw TrustedTime.Failure("cannot reach the TSA at \(url): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let head = "POST \(path) HTTP/1.0\r\nHost: \(hostPort)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { throw TrustedTime.Failure("sending to the TSA at \(url) failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw TrustedTime.Failure("reading from the TSA at \(url) failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            response += chunk[0..<n]
            guard response.count <= 1 << 20 else { throw TrustedTime.Failure("the TSA at \(url) sent more than 1 MiB") }
        }
        guard let split = (0..<max(0, response.count - 3)).first(where: { response[$0] == 13 && response[$0 + 1] == 10 && response[$0 + 2] == 13 && response[$0 + 3] == 10 }) else {
            throw TrustedTime.Failure("the TSA at \(url) sent no HTTP response")
        }
        let statusLine = String(decoding: response[0..<split], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let code = statusLine.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
        guard code == "200" else { throw TrustedTime.Failure("the TSA at \(url) answered \(statusLine)") }
        return Array(response[(split + 4)...])
    }
}
