import Foundation

/// What this process's open descriptors point at (from `/proc/self/fd`), for tests that check that no
/// descriptor is leaked. A deleted file shows as its old path followed by ` (deleted)`.
public func openDescriptorTargets() -> [String] {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
}

/// The open descriptors of this process on files inside `directory` (deleted ones included), e.g. a
/// spool's `recycle/`. The directory itself, held open by a spool's commit thread, does not count.
public func openDescriptors(under directory: String) -> [String] {
    let prefix = directory.hasSuffix("/") ? directory : directory + "/"
    return openDescriptorTargets().filter { $0.hasPrefix(prefix) }
}
