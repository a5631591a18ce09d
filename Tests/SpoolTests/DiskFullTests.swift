#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RelayTesting
import Spool
import Testing

/// ENOSPC for real: the spool lives on a 1 MiB tmpfs that the test fills. Permission tricks (a read-only
/// incoming/) prove nothing here because the tests run as root, which ignores permission bits; where
/// mounting is not allowed these tests are skipped rather than faked.
@Suite("Spool on a full disk", .enabled(if: TmpfsMount.isAvailable, "needs root and permission to mount a tmpfs"))
struct DiskFullTests {
    /// A 1 MiB tmpfs with a spool on it.
    final class FullDisk {
        let mount: TmpfsMount
        let spool: Spool
        init() throws {
            mount = try TmpfsMount(bytes: 1 << 20)
            spool = try Spool(root: mount.path + "/spool", ioThreads: 1)
        }
        func names(_ path: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        }
        deinit { mount.unmount() }
    }

    @Test func commitFailsWithDiskFullAndLeavesNothing() async throws {
        let disk = try FullDisk()
        let filler = try disk.mount.fill(leaving: 16 * 1024)
        let receipt = disk.spool.beginReceipt(
            sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1", clientName: "x",
            eightBitMIME: false, smtputf8: false)
        try await receipt.append(SpoolFixtures.randomBytes(100_000, seed: 5))  // below the spill threshold
        let error = await #expect(throws: SpoolError.self) { try await receipt.commit() }
        if case .diskFull? = error {} else { Issue.record("expected .diskFull, got \(String(describing: error))") }
        #expect(error?.smtpReply.code == 452)
        #expect(error?.smtpReply.enhanced?.description == "4.3.1")
        #expect(disk.names(disk.spool.layout.incoming) == [])
        #expect(disk.names(disk.spool.layout.queue) == [])

        // Space comes back: the next commit works; the failure is not sticky.
        truncate(filler, 0)
        let id = try await disk.spool.commitMessage()
        #expect(disk.names(disk.spool.layout.queue) == ["\(id).msg"])
    }

    @Test func spillFailsWithDiskFullAndAbandonLeavesNothing() async throws {
        let disk = try FullDisk()
        try disk.mount.fill(leaving: 32 * 1024)
        let receipt = disk.spool.beginReceipt(
            sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1", clientName: "x",
            eightBitMIME: false, smtputf8: false)
        let error = await #expect(throws: SpoolError.self) {
            try await receipt.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold + 1, seed: 6))
        }
        if case .diskFull? = error {} else { Issue.record("expected .diskFull, got \(String(describing: error))") }
        await receipt.abandon()
        #expect(disk.names(disk.spool.layout.queue) == [])
        // Known bug: when the first spill creates the incoming file but its write fails, the receipt never
        // records the file, so abandon() cannot remove it and its descriptor stays open (its space is
        // not freed until the process exits, even after recovery unlinks the name).
        withKnownIssue("a failed first spill leaves its incoming/ file and descriptor behind") {
            #expect(disk.names(disk.spool.layout.incoming) == [])
            #expect(openDescriptors(to: disk.spool.layout.incomingPath(receipt.id)) == 0)
        }
    }

    @Test func commitOfASpilledBodyFailsWithDiskFullAndReleasesTheFile() async throws {
        let disk = try FullDisk()
        let receipt = disk.spool.beginReceipt(
            sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1", clientName: "x",
            eightBitMIME: false, smtputf8: false)
        try await receipt.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold, seed: 7))
        let spillPath = disk.spool.layout.incomingPath(receipt.id)
        #expect(disk.names(disk.spool.layout.incoming) == ["\(receipt.id).msg"])
        try disk.mount.fill(leaving: 0)
        try await receipt.append(SpoolFixtures.randomBytes(100_000, seed: 8))  // stays in memory until commit
        let error = await #expect(throws: SpoolError.self) { try await receipt.commit() }
        if case .diskFull? = error {} else { Issue.record("expected .diskFull, got \(String(describing: error))") }
        #expect(disk.names(disk.spool.layout.incoming) == [])
        #expect(disk.names(disk.spool.layout.queue) == [])
        // Known bug: the commit's error path unlinks the spilled file but never closes it, so the
        // descriptor leaks and the deleted file keeps its blocks on the (full) disk.
        withKnownIssue("a failed commit of a spilled receipt leaks the file's descriptor") {
            #expect(openDescriptors(to: spillPath) == 0)
        }
    }

    /// How many of this process's descriptors point at `path` (deleted or not).
    private func openDescriptors(to path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target == path || target == path + " (deleted)"
        }.count
    }
}
