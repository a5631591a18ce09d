#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RelayTesting
import Spool
import Testing

@Suite("Spool receipts: commit, scan, read, abandon")
struct SpoolReceiptTests {
    @Test func commitPutsTheMessageInTheQueue() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let body = SpoolFixtures.body(subject: "commit")
            let receipt = spool.beginReceipt(
                sender: "alice@example.org", recipients: ["bob@example.net", "carol@example.com"],
                clientAddress: "192.0.2.7", clientName: "client.example", eightBitMIME: true, smtputf8: false)
            try await receipt.append(body.prefix(10))
            try await receipt.append(body.dropFirst(10))
            let id = try await receipt.commit()
            #expect(id == receipt.id)

            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .recycle) == [], "the file it was written in was renamed into queue/")

            let (messages, quarantined) = try await spool.scan()
            #expect(quarantined == [])
            let message = try #require(messages.first)
            #expect(messages.count == 1)
            #expect(message.envelope == receipt.envelope)
            #expect(message.envelope.sender == "alice@example.org")
            #expect(message.envelope.recipients == ["bob@example.net", "carol@example.com"])
            #expect(message.envelope.clientAddress == "192.0.2.7")
            #expect(message.envelope.eightBitMIME && !message.envelope.smtputf8)
            #expect(message.size == body.count)
            #expect(message.state == DeliveryState(recipients: ["bob@example.net", "carol@example.com"]))

            let (envelope, read) = try await spool.read(id)
            #expect(envelope == receipt.envelope)
            #expect(read == body)
        }
    }

    @Test func queueFileHasPreambleEnvelopeAndBody() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.body()
            let id = try await temp.spool.commitMessage(body: body)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: temp.spool.layout.messagePath(id))))
            let preamble = "MRQ1 " + String(format: "%012d", body.count) + "\n"
            #expect(Array(bytes.prefix(18)) == Array(preamble.utf8))
            #expect(Array(bytes.suffix(body.count)) == body)
            let header = try MessageFileFormat.parseHeader(bytes, path: "test")
            #expect(header.envelope.id == id)
            #expect(header.bodyOffset + header.bodySize == bytes.count)
        }
    }

    @Test func commitAnnouncesNewMail() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            var hints = temp.spool.newMail.makeAsyncIterator()
            #expect(await hints.next() == id)
        }
    }

    @Test func emptyBodyRoundTrips() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(body: [])
            #expect(try await temp.spool.read(id).body == [])
        }
    }

    @Test func largeBodySpillsAndRoundTripsByteIdentically() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let body = SpoolFixtures.randomBytes(1 << 20 | 12_345, seed: 42)
            #expect(body.count > SpoolReceipt.spillThreshold)
            let receipt = spool.beginReceipt(
                sender: "", recipients: ["postmaster@example.net"], clientAddress: "::1", clientName: "big",
                eightBitMIME: true, smtputf8: true)
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + 65_521)  // an odd chunk size, so spills fall mid-chunk
                try await receipt.append(body[offset..<end])
                offset = end
            }
            // The body went to disk while streaming, into a file of the recycle bin that the receipt holds open.
            let spilled = temp.names(in: .recycle)
            #expect(spilled.count == 1, "the body went to disk while streaming")
            #expect(openDescriptors(under: temp.path(of: .recycle)) == spilled.map { temp.path(of: .recycle) + "/" + $0 })
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .queue) == [])
            let spilledInode = try inode(of: temp.path(of: .recycle) + "/" + spilled[0])
            let id = try await receipt.commit()
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .recycle) == [])
            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(try inode(of: spool.layout.messagePath(id)) == spilledInode, "the spill file itself became the queue file")
            #expect(openDescriptors(under: temp.root) == [], "the commit closed it")

            let (envelope, read) = try await spool.read(id)
            #expect(envelope == receipt.envelope)
            #expect(read.count == body.count)
            #expect(read == body)
            let scanned = try await spool.scan()
            #expect(scanned.messages.map(\.size) == [body.count])
            #expect(scanned.quarantined == [])
        }
    }

    @Test(arguments: [1_000, SpoolReceipt.spillThreshold * 2])
    func abandonLeavesNothingQueued(size: Int) async throws {
        try await withTemporarySpool { temp in
            let receipt = temp.spool.beginReceipt(
                sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1",
                clientName: "x", eightBitMIME: false, smtputf8: false)
            try await receipt.append(SpoolFixtures.randomBytes(size, seed: 7))
            let spilled = size > SpoolReceipt.spillThreshold
            #expect(temp.names(in: .recycle).count == (spilled ? 1 : 0))
            await receipt.abandon()
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .queue) == [])
            #expect(try await temp.spool.scan().messages.isEmpty)
            // A spill file goes back to the bin, closed; it never becomes a queue file.
            #expect(temp.names(in: .recycle).count == (spilled ? 1 : 0))
            #expect(openDescriptors(under: temp.root) == [])

            // What the bin holds is reused (not a new file) and carries nothing of the abandoned message.
            let body = SpoolFixtures.body(subject: "after abandon")
            let id = try await temp.spool.commitMessage(body: body)
            #expect(temp.names(in: .recycle) == [])
            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(try await temp.spool.read(id).body == body)
        }
    }

    @Test func droppedReceiptGivesItsSpillFileBack() async throws {
        try await withTemporarySpool { temp in
            var spillPath = ""
            do {
                let receipt = temp.spool.beginReceipt(
                    sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1",
                    clientName: "x", eightBitMIME: false, smtputf8: false)
                try await receipt.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold + 1, seed: 3))
                withExtendedLifetime(receipt) {
                    #expect(temp.names(in: .recycle).count == 1)
                    spillPath = temp.path(of: .recycle) + "/" + (temp.names(in: .recycle).first ?? "?")
                    #expect(openDescriptors(under: temp.root) == [spillPath], "the receipt writes into it")
                }
            }
            // A session that died mid-DATA queues nothing and keeps no descriptor; its file is back in the bin.
            #expect(openDescriptors(under: temp.root) == [])
            #expect(temp.names(in: .queue) == [])
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .recycle).map { temp.path(of: .recycle) + "/" + $0 } == [spillPath])
            let spillInode = try inode(of: spillPath)

            let body = SpoolFixtures.randomBytes(300, seed: 4)
            let id = try await temp.spool.commitMessage(body: body)
            #expect(temp.names(in: .recycle) == [], "the next message reuses it")
            #expect(try inode(of: temp.spool.layout.messagePath(id)) == spillInode)
            #expect(try await temp.spool.read(id).body == body)
            #expect(try fileSize(temp.spool.layout.messagePath(id)) < 4096, "truncated: nothing of the dropped body is left")
        }
    }

    /// A finished message's file is renamed into the bin and the next message is written into it: the
    /// hot path allocates no inode. The next message may be shorter, so the reused file must be truncated.
    @Test(arguments: [(20_000, 50), (50, 20_000), (SpoolReceipt.spillThreshold * 2, 1_000), (1_000, SpoolReceipt.spillThreshold * 2)])
    func removedMessageFileIsReused(sizeA: Int, sizeB: Int) async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let bodyA = SpoolFixtures.randomBytes(sizeA, seed: 100)
            let a = try await spool.commitMessage(recipients: (0..<20).map { "a\($0)@example.net" }, body: bodyA)
            let inodeA = try inode(of: spool.layout.messagePath(a))
            try await spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: a)
            try await spool.remove(a)
            #expect(temp.names(in: .queue) == [])
            let bin = temp.names(in: .recycle)
            #expect(bin.count == 1, "the removed message's file went into the bin")
            #expect(try inode(of: temp.path(of: .recycle) + "/" + (bin.first ?? "?")) == inodeA)

            let bodyB = SpoolFixtures.randomBytes(sizeB, seed: 200)
            let b = try await spool.commitMessage(body: bodyB)
            #expect(temp.names(in: .recycle) == [], "the bin does not grow: its file became B's")
            #expect(temp.names(in: .queue) == ["\(b).msg"])
            #expect(try inode(of: spool.layout.messagePath(b)) == inodeA, "B was written into A's old file")

            let (envelope, read) = try await spool.read(b)
            #expect(envelope.id == b)
            #expect(envelope.recipients == ["bob@example.net"])
            #expect(read.count == bodyB.count)
            #expect(read == bodyB, "no stale bytes of A")
            let bytes = try contents(of: spool.layout.messagePath(b))
            let header = try MessageFileFormat.parseHeader(bytes, path: "test")
            #expect(bytes.count == header.bodyOffset + bodyB.count, "the file ends where B ends")
            let scanned = try await spool.scan()
            #expect(scanned.quarantined == [])
            #expect(scanned.messages.map(\.id) == [b])
            #expect(scanned.messages.first?.state == DeliveryState(recipients: ["bob@example.net"]), "A's state went with A")
            await #expect(throws: SpoolError.notFound(a)) { try await spool.read(a) }
        }
    }

    @Test func manyRemovalsKeepTheBinAsSmallAsTheWorkingSet() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            var inodes = Set<UInt64>()
            for round in 0..<30 {
                let ids = [
                    try await spool.commitMessage(body: SpoolFixtures.randomBytes(100 + round * 97, seed: UInt64(round))),
                    try await spool.commitMessage(body: SpoolFixtures.randomBytes(5_000 - round * 97, seed: UInt64(round + 1000))),
                ]
                for id in ids { inodes.insert(try inode(of: spool.layout.messagePath(id))) }
                for id in ids {
                    let body = try await spool.read(id).body
                    #expect(body.count == (id == ids[0] ? 100 + round * 97 : 5_000 - round * 97))
                    try await spool.remove(id)
                }
                #expect(temp.names(in: .recycle).count == 2)
            }
            #expect(inodes.count == 2, "60 messages, two files")
            #expect(temp.names(in: .queue) == [])
        }
    }

    /// Files in recycle/ are garbage by definition: whatever a previous run left there (a spill cut off
    /// by a crash, a retired message, junk) must not leak into new messages or stop them.
    @Test func leftoverGarbageInTheBinIsHarmless() async throws {
        try await withTemporarySpool { temp in
            let recycle = temp.path(of: .recycle)
            let leftovers: [(String, [UInt8])] = [
                ("1", SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold + 5_000, seed: 1)),
                ("zz", Array("MRQ1 000000000005\n{\"id\":\"0123456789ABC\"}\nhello".utf8)),
                ("0123456789ABC.msg", SpoolFixtures.randomBytes(3_000, seed: 2)),
                ("empty", []),
                ("garbage", Array("not a queue file at all\n".utf8)),
            ]
            for (name, bytes) in leftovers { try bytes.write(to: recycle + "/" + name) }

            let spool = try temp.reopen()
            #expect(try await spool.recover().messages.isEmpty, "the bin is not the queue")
            var committed: [QueueID: [UInt8]] = [:]
            for (n, size) in [10, SpoolReceipt.spillThreshold + 1, 0, 2_000, 70_000, 1].enumerated() {
                let body = SpoolFixtures.randomBytes(size, seed: UInt64(50 + n))
                committed[try await spool.commitMessage(body: body)] = body
            }
            #expect(temp.names(in: .recycle).count == 0, "every leftover was reused")
            let scanned = try await spool.scan()
            #expect(scanned.quarantined == [])
            #expect(Set(scanned.messages.map(\.id)) == Set(committed.keys))
            for (id, body) in committed {
                let read = try await spool.read(id)
                #expect(read.envelope.id == id)
                #expect(read.body == body, "\(id) reads back byte for byte")
            }
            #expect(temp.names(in: .corrupt) == [])
        }
    }

    // Only regular files in recycle/ are ever reused: a directory would fail a commit (EISDIR), a symlink
    // would redirect the message outside the spool, a FIFO would stall the commit thread.
    @Test func leftoverDirectoryInTheBinDoesNotFailACommit() async throws {
        try await withTemporarySpool { temp in
            #expect(mkdir(temp.path(of: .recycle) + "/a-directory", 0o700) == 0)
            let spool = try temp.reopen()
            let id = try await spool.commitMessage()
            #expect(try await spool.read(id).body == SpoolFixtures.body())
            var info = stat()
            #expect(stat(temp.path(of: .recycle) + "/a-directory", &info) == 0, "left alone, not removed")
        }
    }

    @Test func leftoverSymlinkInTheBinIsNotFollowed() async throws {
        try await withTemporarySpool { temp in
            let outside = temp.directory.appending("outside.txt")
            let precious = "not the spool's to overwrite\n"
            try Array(precious.utf8).write(to: outside)
            #expect(symlink(outside, temp.path(of: .recycle) + "/a-link") == 0)
            let spool = try temp.reopen()
            let id = try await spool.commitMessage()
            #expect(try await spool.read(id).body == SpoolFixtures.body())
            let outsideNow = String(decoding: try contents(of: outside).prefix(60), as: UTF8.self)
            var info = stat()
            let isRegular = lstat(spool.layout.messagePath(id), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            #expect(outsideNow == precious)
            #expect(isRegular, "the queue file is a regular file, not a link")
        }
    }

    /// Postfix's default smtpd_recipient_limit is 1000, and max_recipients has no upper bound here.
    @Test func envelopeLargerThan64KiBStaysReadable() async throws {
        try await withTemporarySpool { temp in
            let recipients = (0..<1000).map { "recipient-\($0)@subdomain.of.a.rather-long-domain-name.example.com" }
            let id = try await temp.spool.commitMessage(recipients: recipients)
            let envelopeLine = try MessageFileFormat.envelopeLine(
                try await temp.spool.read(id).envelope)
            #expect(envelopeLine.count > 64 * 1024, "the case under test")
            let (messages, quarantined) = try await temp.spool.scan()
            #expect(quarantined == [])
            #expect(messages.map(\.id) == [id])
            #expect(messages.first?.envelope.recipients == recipients)
            #expect(messages.first?.size == SpoolFixtures.body().count)
            let read = try await temp.spool.read(id)
            #expect(read.envelope.recipients == recipients)
            #expect(read.body == SpoolFixtures.body())
            #expect(temp.names(in: .corrupt) == [])
        }
    }
}

/// The inode number of the file at `path`: the same number means the same file, renamed or reused.
func inode(of path: String) throws -> UInt64 {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return UInt64(info.st_ino)
}

/// The size in bytes of the file at `path`.
func fileSize(_ path: String) throws -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return Int(info.st_size)
}

@Suite("Spool ownership and the bin's bytes")
struct SpoolOwnershipTests {
    @Test func aSecondSpoolOnTheSameRootIsRefused() async throws {
        _ = try await withTemporarySpool { temp in
            #expect(throws: SpoolError.locked(path: temp.spool.layout.root)) {
                _ = try Spool(root: temp.spool.layout.root, ioThreads: 1)
            }
        }
    }

    @Test func aRemovedMessageLeavesAtMostOneByteInTheBin() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(300 * 1024, seed: 7)
            let id = try await temp.spool.commitMessage(body: body)
            try await temp.spool.remove(id)
            let files = temp.names(in: .recycle).map { name -> (size: Int, allocated: Int) in
                var info = stat()
                _ = stat(temp.path(of: .recycle) + "/" + name, &info)
                return (Int(info.st_size), Int(info.st_blocks) * 512)
            }
            #expect(!files.isEmpty, "the file was kept for reuse")
            // One byte stays (see InodeRecycler: truncating to zero would cost a discard and ext4's
            // auto_da_alloc); the blocks of the 300 KiB message beyond the first are freed.
            #expect(files.allSatisfy { $0.size == 1 }, "but its bytes were freed: \(files)")
            #expect(files.allSatisfy { $0.allocated <= 4096 }, "and its blocks: \(files)")
        }
    }
}
