import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Independent pieces of output made on all cores: after the pass the machine's cores are idle
/// (the server is done), and a report with a row per account is several files, each a
/// separate job (measured at 2M events, 237k accounts: writing balances in three formats took
/// 2.2 s on one core, most of the run's serial tail).
public enum Concurrently {
    /// `body(0) … body(count - 1)`, possibly at once on several threads; results in index
    /// order. `body` must touch only what it is given and values it only reads.
    public static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        if count <= 1 { return (0..<count).map(body) }
        // Each iteration writes only its own slot.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: count) { i in slots[i] = body(i) }
        }
        let results = slots.map { $0! }
        _ = slots.deinitialize()
        return results
    }

    /// `first()` on this thread while `second()` runs on a thread of its own: two jobs of
    /// different results. Each must touch only what it is given and values it only reads.
    /// A thread of its own, not `concurrentPerform`: right after the pass libdispatch often ran
    /// both iterations on the calling thread, one after the other (seen in a reconcile's
    /// profile: the second core idle through both jobs).
    public static func both<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        // The second job writes only its own result, read after the join.
        nonisolated(unsafe) var b: B?
        let a = withoutActuallyEscaping(second) { second -> A in
            nonisolated(unsafe) let second = second
            let job = Unmanaged.passRetained(SecondJob { b = second() })
            var thread = pthread_t()
            guard pthread_create(&thread, nil, { context in
                Unmanaged<SecondJob>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, job.toOpaque()) == 0 else {
                // No thread to be had: one after the other.
                job.takeRetainedValue().run()
                return first()
            }
            let a = first()
            pthread_join(thread, nil)
            return a
        }
        return (a, b!)
    }
}

/// The job `both` runs on its second thread.
private final class SecondJob {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
