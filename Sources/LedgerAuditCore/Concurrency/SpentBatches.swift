import Synchronization

/// Batches a consumer thread is done with, handed back to the thread that made their elements,
/// which lets them go one for each element it makes (`SpentBatches.Recycler`). Freed on the
/// consumer, the memory went back to the maker's malloc arena through glibc's slow paths and the
/// maker's allocations never found its per-thread cache filled: malloc and free took ~18% of the
/// fold's thread in a PostgreSQL `verify` at 2M events, and ~27% of a read-ahead reader's
/// thread. Freed on the maker, each element's memory is freed just before the next one's is
/// allocated, from that cache.
///
/// Inlinable: the users are in other modules, and unspecialized there every element's release
/// looked up generic metadata at run time (~15 % of a `.pgcopy` reader's thread).
public final class SpentBatches<Element: Sendable>: Sendable {
    @usableFromInline let handedBack = Mutex<[[Element]]>([])

    @inlinable public init() {}

    /// The consumer is done with this batch.
    @inlinable public func giveBack(_ batch: [Element]) {
        if !batch.isEmpty { handedBack.withLock { $0.append(batch) } }
    }

    /// The maker's side: the batches handed back, let go one element at a time.
    public struct Recycler {
        @usableFromInline var batches: [[Element]] = []
        /// Past this many elements waiting (the consumer caught up in a burst), they go at once.
        @usableFromInline let waitingMax: Int

        @inlinable public init(waitingMax: Int) { self.waitingMax = waitingMax }

        /// Lets go of one element, when there is one. Batches are let go from their ends, in
        /// place: copying them into one array retained and released every element once more.
        @inlinable public mutating func releaseOne() {
            guard !batches.isEmpty else { return }
            batches[batches.count - 1].removeLast()
            if batches[batches.count - 1].isEmpty { batches.removeLast() }
        }

        /// Takes the batches handed back since last asked.
        @inlinable public mutating func collect(from spent: SpentBatches<Element>) {
            let taken = spent.handedBack.withLock { handedBack -> [[Element]] in
                let taken = handedBack
                handedBack.removeAll()
                return taken
            }
            if batches.reduce(0, { $0 + $1.count }) > waitingMax { batches.removeAll() }
            batches.append(contentsOf: taken)
        }
    }
}
