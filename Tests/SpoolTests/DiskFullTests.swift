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
        // The file it was being written in went back to the bin, closed (not open on a deleted name).
        #expect(disk.names(disk.spool.layout.recycle).count == 1)
        #expect(openDescriptors(under: disk.spool.layout.root) == [])

        // Space comes back: the next commit works (in the same file); the failure is not sticky.
        truncate(filler, 0)
        let body = SpoolFixtures.body(subject: "after the disk was full")
        let id = try await disk.spool.commitMessage(body: body)
        #expect(disk.names(disk.spool.layout.queue) == ["\(id).msg"])
        #expect(disk.names(disk.spool.layout.recycle) == [])
        #expect(try await disk.spool.read(id).body == body, "nothing of the failed message is left in the reused file")
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
        // The failed spill already gave its file back to the bin and closed it; abandon has nothing left to do.
        #expect(disk.names(disk.spool.layout.recycle).count == 1)
        #expect(openDescriptors(under: disk.spool.layout.root) == [])
        await receipt.abandon()
        #expect(disk.names(disk.spool.layout.queue) == [])
        #expect(disk.names(disk.spool.layout.incoming) == [])
        #expect(disk.names(disk.spool.layout.recycle).count == 1, "still one file, in the bin")
        #expect(openDescriptors(under: disk.spool.layout.root) == [])
        #expect(try await disk.spool.scan().messages.isEmpty)
    }

    @Test func commitOfASpilledBodyFailsWithDiskFullAndReleasesTheFile() async throws {
        let disk = try FullDisk()
        let receipt = disk.spool.beginReceipt(
            sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1", clientName: "x",
            eightBitMIME: false, smtputf8: false)
        try await receipt.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold, seed: 7))
        let recycle = disk.spool.layout.recycle
        let spilled = disk.names(recycle)
        #expect(spilled.count == 1, "the body went to a file in the bin")
        #expect(openDescriptors(under: disk.spool.layout.root) == spilled.map { recycle + "/" + $0 })
        #expect(disk.names(disk.spool.layout.incoming) == [])
        try disk.mount.fill(leaving: 0)
        try await receipt.append(SpoolFixtures.randomBytes(100_000, seed: 8))  // stays in memory until commit
        let error = await #expect(throws: SpoolError.self) { try await receipt.commit() }
        if case .diskFull? = error {} else { Issue.record("expected .diskFull, got \(String(describing: error))") }
        #expect(disk.names(disk.spool.layout.incoming) == [])
        #expect(disk.names(disk.spool.layout.queue) == [])
        #expect(disk.names(recycle) == spilled, "the spill file went back to the bin")
        #expect(openDescriptors(under: disk.spool.layout.root) == [], "and its descriptor was closed")
        #expect(try await disk.spool.scan().messages.isEmpty)
    }
}
