#if canImport(Glibc)
import Glibc
#endif
import Testing
import Transport

/// The kernel hands a closed descriptor's number to the next socket at once; a call another thread makes for
/// the previous holder must not reach the new one (it did: a shutdown's late interruption failed the next
/// connection's reads, a listener closed during `accept` left a wait on a reused number).
@Suite("A descriptor number used again starts clean")
struct DescriptorReuseTests {
    /// A connected pair of non-blocking stream sockets.
    private func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        try #require(socketpair(AF_UNIX, type, 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    /// Sends a byte from `peer` and waits until `fd` is readable: the wait must be woken, not failed.
    private func expectReadable(_ fd: Int32, after peer: Int32, on loop: EventLoop) async throws {
        var byte: UInt8 = 1
        #expect(write(peer, &byte, 1) == 1)
        try await loop.wait(for: .readable, on: fd, deadline: .now + .seconds(5))
    }

    @Test func anInterruptionForThePreviousHolderIsIgnored() async throws {
        let loop = EventLoop()
        let (fd, peer) = try socketPair()
        defer { close(fd); close(peer) }
        let previous = loop.open(fd)
        let current = loop.open(fd)  // as when the number is handed out again after a close
        loop.interruptReads(on: fd, owner: previous)

        try await expectReadable(fd, after: peer, on: loop)  // not .cancelled

        loop.interruptReads(on: fd, owner: current)
        await #expect(throws: TransportError.cancelled) {
            try await loop.wait(for: .readable, on: fd, deadline: .now + .seconds(5))
        }
        loop.release(fd)
    }

    @Test func anInterruptionAfterReleaseDoesNotOutliveIt() async throws {
        let loop = EventLoop()
        let (fd, peer) = try socketPair()
        defer { close(fd); close(peer) }
        let owner = loop.open(fd)
        loop.release(fd)
        loop.interruptReads(on: fd, owner: owner)  // the owner closed it meanwhile

        try await expectReadable(fd, after: peer, on: loop)
        loop.release(fd)
    }

    @Test func aWaitOnADescriptorNoLongerOursFailsWithoutRegistering() async throws {
        let loop = EventLoop()
        let (fd, peer) = try socketPair()
        defer { close(fd); close(peer) }
        await #expect(throws: TransportError.closed) {
            try await loop.wait(for: .readable, on: fd, deadline: .now + .seconds(5), stillOpen: { false })
        }
        // Nothing was left behind: the next holder's wait is the one woken.
        try await expectReadable(fd, after: peer, on: loop)
        loop.release(fd)
    }
}
