#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The memory this process may fill: the machine's, or less where a control group (a container,
/// a systemd unit with `MemoryMax=`) caps it. A container on a large host sees the host's
/// memory in `sysconf`; its own cap is in the cgroup files.
enum MemoryLimit {
    static let bytes: Int = {
        let machine = physicalBytes()
        guard let groupCap = controlGroupBytes(
            selfCgroup: try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            read: { try? String(contentsOfFile: $0, encoding: .utf8) })
        else { return machine }
        return min(machine, groupCap)
    }()

    static func physicalBytes() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageBytes = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageBytes > 0 else { return 0 }
        return pages.multipliedReportingOverflow(by: pageBytes).overflow ? .max : pages * pageBytes
    }

    /// The tightest memory cap on the process's control group and its ancestors, or nil when
    /// none is set or none can be read. `selfCgroup` is `/proc/self/cgroup`; `read` reads a
    /// file (injected, so the rules are tested without a cgroup file system). cgroup v2: the
    /// `0::PATH` line, `memory.max` ("max" or bytes) under `/sys/fs/cgroup`; v1: the
    /// `N:…memory…:PATH` line, `memory.limit_in_bytes` under `/sys/fs/cgroup/memory` (v1's
    /// "no cap" is a huge number, which the machine's memory then bounds). Inside a container
    /// the path is often `/` with the container's own cap at the mount's top, so that is read too.
    static func controlGroupBytes(selfCgroup: String?, read: (String) -> String?) -> Int? {
        guard let selfCgroup else { return nil }
        var caps: [Int] = []
        for line in selfCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            let root: String, file: String
            if fields[0] == "0" && fields[1].isEmpty {
                (root, file) = ("/sys/fs/cgroup", "memory.max")
            } else if controllers.contains("memory") {
                (root, file) = ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
            } else {
                continue
            }
            // The group and each ancestor up to the mount's top: the tightest cap holds.
            let components = fields[2].split(separator: "/")
            for depth in stride(from: components.count, through: 0, by: -1) {
                let folder = components[..<depth].reduce(root) { $0 + "/" + $1 }
                if let text = read(folder + "/" + file), let cap = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), cap > 0 {
                    caps.append(cap)
                }
            }
        }
        return caps.min()
    }
}
