/// Account names (and every text a key is made of) are one when their bytes are: PostgreSQL's
/// text equality, and the book's (`AccountNameTable`). Swift's `String ==` takes canonically
/// equivalent spellings as one ("é" and "e" + U+0301), which would make two accounts one in a
/// dictionary while the book keeps them apart: two balances summed, or one lost, silently.
extension String {
    /// Equal by bytes (see above).
    @inlinable
    public func sameBytes(as other: String) -> Bool { bytewiseCompare(self, other) == 0 }
}

extension Hasher {
    /// A text by its bytes, then its length (two fields hashed in turn stay apart), for keys
    /// that are equal by `sameBytes`.
    @inlinable
    public mutating func combineBytes(of text: String) {
        text.withUTF8InPlace { bytes in
            combine(bytes: UnsafeRawBufferPointer(bytes))
            combine(bytes.count)
        }
    }
}

/// An account name as a dictionary key: equal and hashed by its bytes.
public struct AccountName: Hashable, Sendable {
    public let text: String

    @inlinable
    public init(_ text: String) { self.text = text }

    @inlinable
    public static func == (a: AccountName, b: AccountName) -> Bool { a.text.sameBytes(as: b.text) }

    @inlinable
    public func hash(into hasher: inout Hasher) { hasher.combineBytes(of: text) }
}
