/// Bytes read from a peer and not yet consumed; compacts itself so memory stays at the unread part.
public struct InputBuffer: Sendable {
    private var storage: [UInt8] = []
    private var readerIndex = 0

    public init() {}

    public var isEmpty: Bool { readerIndex == storage.count }
    public var count: Int { storage.count - readerIndex }

    /// The unread bytes.
    public var readable: ArraySlice<UInt8> { storage[readerIndex...] }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        storage.append(contentsOf: bytes)
    }

    /// Marks `n` unread bytes as consumed.
    public mutating func consume(_ n: Int) {
        precondition(n <= count)
        readerIndex += n
        if readerIndex == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 64 * 1024)
            readerIndex = 0
        } else if readerIndex > 32 * 1024, readerIndex * 2 > storage.count {
            storage.removeFirst(readerIndex)
            readerIndex = 0
        }
    }

    /// Drops everything unread: after STARTTLS nothing sent in plaintext may be acted on.
    public mutating func discardAll() {
        storage.removeAll()
        readerIndex = 0
    }
}
