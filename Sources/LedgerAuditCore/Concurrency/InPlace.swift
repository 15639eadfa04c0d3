extension Array {
    /// Each element in order, moved out of the array for `body` and moved back, never copied.
    /// A batch handed between threads was read with `for item in batch` (or `batch[i]`), which
    /// copies: the copy retained the element's boxes on the consumer's core, pulling each
    /// reference count's cache line from the maker's core, and the maker's final release pulled
    /// it back (~10% of both threads of a PostgreSQL `verify`; ~20% of a read-ahead extract's).
    /// If `body` throws, the element is moved back first: the array stays whole.
    @inlinable public mutating func forEachInPlace<E: Error>(_ body: (Element) throws(E) -> Void) throws(E) {
        try withUnsafeMutableBufferPointer { (items) throws(E) in
            guard let base = items.baseAddress else { return }
            for i in items.indices { try Array.inPlace(base + i, body) }
        }
    }

    /// `body` on the element at `index`, moved out and moved back (see `forEachInPlace`).
    @inlinable public mutating func withElementInPlace<R, E: Error>(at index: Int, _ body: (Element) throws(E) -> R) throws(E) -> R {
        precondition(indices.contains(index), "withElementInPlace: index out of range")
        return try withUnsafeMutableBufferPointer { (items) throws(E) -> R in try Array.inPlace(items.baseAddress! + index, body) }
    }

    /// `body` on the element at `slot`, moved out and moved back, even when `body` throws.
    @inlinable static func inPlace<R, E: Error>(_ slot: UnsafeMutablePointer<Element>, _ body: (Element) throws(E) -> R) throws(E) -> R {
        let item = slot.move()
        let result: R
        do throws(E) {
            result = try body(item)
        } catch {
            slot.initialize(to: consume item)
            throw error
        }
        slot.initialize(to: consume item)
        return result
    }
}
