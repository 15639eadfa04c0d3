import Crypto

/// RFC 6962 (§2.1) Merkle trees over SHA-256: a leaf is SHA-256(0x00 ‖ data), an inner node
/// SHA-256(0x01 ‖ left ‖ right), the tree of n leaves splits at the largest power of two below n.
public enum Merkle {
    public static let hashSize = 32

    public static func leafHash(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var h = SHA256()
        h.update(data: [0x00])
        h.update(bufferPointer: data)
        return Array(h.finalize())
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: [0x01])
        h.update(data: left)
        h.update(data: right)
        return Array(h.finalize())
    }

    /// MTH({}) = SHA-256 of the empty string.
    public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    /// The largest power of two strictly below n (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `first` leaves with root
    /// `firstRoot` is a prefix of the tree of `second` leaves with root `secondRoot`.
    public static func verifyConsistency(first: Int, second: Int, firstRoot: [UInt8], secondRoot: [UInt8], proof: [[UInt8]]) -> Bool {
        guard first >= 0, first <= second else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        if first == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }
}

/// The leaves of a tree, kept as 32-byte hashes side by side (32 bytes an event).
public struct MerkleLeaves: Sendable {
    public private(set) var hashes: [UInt8] = []
    public init() {}
    public init(hashes: [UInt8]) { self.hashes = hashes }

    public var count: Int { hashes.count / Merkle.hashSize }
    public func leaf(_ i: Int) -> [UInt8] { Array(hashes[i * Merkle.hashSize ..< (i + 1) * Merkle.hashSize]) }
    public mutating func append(_ leafHash: [UInt8]) { hashes.append(contentsOf: leafHash) }

    /// MTH of the first `size` leaves.
    public func root(size: Int) -> [UInt8] { MerkleTree(self).root(size: size) }
}

/// A tree with every complete aligned subtree hashed once (level j holds the roots of the blocks
/// of 2^j leaves): the root of any prefix, and any consistency proof, then costs O(log n)
/// hashes instead of O(n). Memory: about 32 bytes a leaf on top of the leaves.
public struct MerkleTree: Sendable {
    var levels: [[UInt8]]
    public let size: Int

    public init(_ leaves: MerkleLeaves) {
        size = leaves.count
        levels = [leaves.hashes]
        var count = size
        while count >= 2 {
            let below = levels[levels.count - 1]
            var above: [UInt8] = []
            above.reserveCapacity(count / 2 * 32)
            below.withUnsafeBytes { bytes in
                for i in 0..<(count / 2) {
                    // The two children sit side by side: one update of 64 bytes after the 0x01 prefix.
                    var h = SHA256()
                    h.update(data: [0x01])
                    h.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[(2 * i) * 32 ..< (2 * i + 2) * 32]))
                    h.finalize().withUnsafeBytes { above.append(contentsOf: $0) }
                }
            }
            levels.append(above)
            count /= 2
        }
    }

    func block(level: Int, index: Int) -> [UInt8] { Array(levels[level][index * 32 ..< (index + 1) * 32]) }

    /// MTH(D[lo:hi]) for the ranges RFC 6962's recursion visits (lo a multiple of the largest power of two ≤ hi − lo).
    public func root(_ lo: Int, _ hi: Int) -> [UInt8] {
        let n = hi - lo
        if n == 0 { return Merkle.emptyRoot }
        if n & (n - 1) == 0, lo % n == 0 { return block(level: n.trailingZeroBitCount, index: lo / n) }
        let k = Merkle.split(n)
        return Merkle.nodeHash(root(lo, lo + k), root(lo + k, hi))
    }

    public func root(size m: Int) -> [UInt8] { root(0, m) }

    /// RFC 6962 §2.1.2 PROOF(m, D[n]).
    public func consistencyProof(_ m: Int, _ n: Int) -> [[UInt8]] {
        guard m > 0, m < n else { return [] }
        return subproof(m, 0, n, true)
    }

    func subproof(_ m: Int, _ lo: Int, _ hi: Int, _ complete: Bool) -> [[UInt8]] {
        let n = hi - lo
        if m == n { return complete ? [] : [root(lo, hi)] }
        let k = Merkle.split(n)
        if m <= k { return subproof(m, lo, lo + k, complete) + [root(lo + k, hi)] }
        return subproof(m - k, lo + k, hi, false) + [root(lo, lo + k)]
    }
}

/// The root of a growing tree in O(log n) memory: completed subtrees on a stack.
public struct MerkleAccumulator: Sendable {
    /// One completed subtree: its hash, its first leaf and its number of leaves.
    public typealias Subtree = (hash: [UInt8], start: Int, size: Int)
    /// Completed subtrees, left to right (sizes strictly decreasing): the tree's frontier.
    public private(set) var stack: [Subtree] = []
    public private(set) var count = 0
    public init() {}

    public mutating func append(_ leafHash: [UInt8]) { append(leafHash, completed: { _ in }) }

    /// `completed` sees every subtree as it completes, the leaf itself first.
    public mutating func append(_ leafHash: [UInt8], completed: (Subtree) -> Void) {
        stack.append((leafHash, count, 1))
        count += 1
        completed(stack[stack.count - 1])
        while stack.count >= 2, stack[stack.count - 1].size == stack[stack.count - 2].size {
            let right = stack.removeLast(), left = stack.removeLast()
            stack.append((Merkle.nodeHash(left.hash, right.hash), left.start, left.size + right.size))
            completed(stack[stack.count - 1])
        }
    }

    public var root: [UInt8] {
        guard var acc = stack.last?.hash else { return Merkle.emptyRoot }
        for node in stack.dropLast().reversed() { acc = Merkle.nodeHash(node.hash, acc) }
        return acc
    }
}

public enum Hex {
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var i = 0
        while i < chars.count {
            guard let hi = v(chars[i]), let lo = v(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
