#if os(Linux)
import Foundation
@testable import LedgerAuditReports
import Testing

/// The XML writer hands its pieces to the validator's thread through memory (`XMLPieceQueue`):
/// the validator must read exactly the bytes written, in order, whatever sizes libxml2 asks
/// for, and a validator that has let go must never leave the writer waiting.
@Suite("XML pieces from the writer to the validator")
struct XMLPieceQueueTests {
    @Test("every byte, in order, read in odd sizes while more pieces than fit ahead are put")
    func bytesInOrder() {
        let queue = XMLPieceQueue()
        let pieces = (0..<(3 * XMLPieceQueue.piecesAhead)).map { i in (0..<(i * 37 % 1000 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
        let writer = Thread {
            for piece in pieces { queue.put(piece) }
            queue.end()
        }
        writer.start()
        var read: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 7)
        while true {
            let n = buffer.withUnsafeMutableBytes { queue.read(into: $0.baseAddress!, capacity: $0.count) }
            if n == 0 { break }
            read += buffer[0..<n]
        }
        #expect(read == pieces.flatMap { $0 })
    }

    @Test("a validator that has let go never leaves the writer waiting")
    func readerGone() {
        let queue = XMLPieceQueue()
        var buffer = [UInt8](repeating: 0, count: 4)
        queue.put([1, 2, 3, 4, 5])
        #expect(buffer.withUnsafeMutableBytes { queue.read(into: $0.baseAddress!, capacity: $0.count) } == 4)
        queue.readerFinished()
        // Far more pieces than may wait ahead: each is dropped at once.
        for _ in 0..<(4 * XMLPieceQueue.piecesAhead) { queue.put([0]) }
        queue.end()
    }
}
#endif
