#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerAuditCore
import Synchronization

/// An extract's bytes mapped read-only for its sorted replay, so each record in sorted order is
/// a slice of the page cache instead of a positioned read of its own. A shuffled extract made a
/// `pread` a record, about a third of its reader's time (200,000 events: 368 of 1,176 samples).
/// The pages are the file's own (clean, shared with the page cache): the kernel can drop them
/// under memory pressure and read them again, so they count in the run's resident size without
/// being memory it holds.
///
/// A mapped file that shrinks while it is read would kill the process with SIGBUS at the next
/// record past the new end; `MappedRegions` turns that into the error a positioned read gives
/// (exit 3, the extract named), never a crash.
final class MappedExtract {
    let base: UnsafePointer<UInt8>
    let count: Int
    let path: String
    private let slot: Int

    /// Maps the file's first `bytes` bytes, or nil (an empty file, a mapping refused, more
    /// mappings open than the guard watches): the caller then reads record by record.
    init?(_ file: ExtractFile, bytes: Int) {
        guard bytes > 0 else { return nil }
        #if os(Linux)
        let flags = MAP_SHARED | MAP_POPULATE  // the page tables filled in one call, not a fault a page
        #else
        let flags = MAP_SHARED
        #endif
        guard let address = mmap(nil, bytes, PROT_READ, flags, file.fd, 0), address != MAP_FAILED else { return nil }
        guard let slot = MappedRegions.watch(start: UInt(bitPattern: address), count: bytes, path: file.path) else {
            munmap(address, bytes)
            return nil
        }
        base = UnsafePointer(address.assumingMemoryBound(to: UInt8.self))
        count = bytes
        path = file.path
        self.slot = slot
    }

    deinit {
        MappedRegions.release(slot)
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }

    /// The record's bytes; one past the mapped end (the file was cut short after it was
    /// indexed) is the positioned read's error.
    func record(offset: Int, length: Int) throws(SourceError) -> UnsafeBufferPointer<UInt8> {
        guard offset >= 0, length >= 0, offset <= count - length else {
            throw SourceError("cannot read extract \(path) at byte \(offset): it is \(count) bytes long (it changed while it was read)")
        }
        return UnsafeBufferPointer(start: base + offset, count: length)
    }

    /// Whether a file of `bytes` is mapped for its sorted replay: up to a share of the memory
    /// this process may fill (the machine's, or its control group's cap), so its pages stay in
    /// the page cache while they are read in shuffled order.
    static func pays(bytes: Int) -> Bool {
        bytes > 0 && bytes <= MemoryLimit.bytes / Limits.sortedReplayMappedMemoryDivisor
    }
}

/// The mapped extracts' address ranges, read by a SIGBUS handler installed with the first: a
/// fault inside one (its file shrank under the mapping) prints the extract's name and exits 3,
/// the status of a source that could not be read; any other SIGBUS goes to the handler that was
/// there before (Swift's crash backtracer, or the default action). The handler only reads this
/// fixed table and calls `write`, `_exit` and `sigaction`.
enum MappedRegions {
    /// Each slot: start, end (exclusive; 0 when free), a C string naming the file.
    private struct Slot {
        var start: UInt
        var end: UInt
        var message: UnsafeMutablePointer<CChar>?
    }

    static let slotsMax = Limits.mappedExtractsMax
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<Slot> = {
        let p = UnsafeMutablePointer<Slot>.allocate(capacity: slotsMax)
        p.initialize(repeating: Slot(start: 0, end: 0, message: nil), count: slotsMax)
        return p
    }()
    private static let lock = Mutex<Bool>(false)  // whether the handler is installed
    /// The SIGBUS action before ours, put back for a fault that is not ours.
    private nonisolated(unsafe) static let previous: UnsafeMutablePointer<sigaction> = {
        let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 1)
        p.initialize(to: sigaction())
        return p
    }()

    static func watch(start: UInt, count: Int, path: String) -> Int? {
        lock.withLock { installed -> Int? in
            if !installed {
                installed = true
                _ = (slots, previous)  // made before the handler can read them
                install()
            }
            guard let i = (0..<slotsMax).first(where: { slots[$0].end == 0 }) else { return nil }
            let text = "ledger-audit: cannot read extract \(path): it was cut short while it was read (the mapped file changed during the run); no report was written\n"
            slots[i].message = strdup(text)
            slots[i].start = start
            slots[i].end = start + UInt(count)
            return i
        }
    }

    static func release(_ i: Int) {
        lock.withLock { _ in
            slots[i].end = 0
            slots[i].start = 0
            free(slots[i].message)
            slots[i].message = nil
        }
    }

    private static func install() {
        var action = sigaction()
        #if os(Linux)
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
            MappedRegions.fault(at: address)
        }
        #else
        action.__sigaction_u.__sa_sigaction = { _, info, _ in
            MappedRegions.fault(at: UInt(bitPattern: info?.pointee.si_addr))
        }
        #endif
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, previous)
    }

    private static func fault(at address: UInt) {
        for i in 0..<slotsMax {
            let s = slots[i]
            if s.end != 0, address >= s.start, address < s.end, let message = s.message {
                _ = write(2, message, strlen(message))
                _exit(3)
            }
        }
        // Not one of ours: the handler before (the fault happens again on return).
        sigaction(SIGBUS, previous, nil)
    }
}
