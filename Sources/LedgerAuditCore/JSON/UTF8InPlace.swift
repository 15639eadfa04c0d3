extension String {
    /// The text's UTF-8 bytes read where they are, without copying the string first.
    /// `withUTF8` is mutating, so callers copied the string into a `var`: a retain, and for a
    /// text another thread made (the checks' worker reading the fold's events) a move of its
    /// reference count's cache line between the cores. A native or small string is read in
    /// place; any other (bridged, never made here) falls back to the copy.
    @inlinable
    public func withUTF8InPlace<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
