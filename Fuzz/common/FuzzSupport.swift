// Shared by every fuzz target: scripts/fuzz compiles this file into each swiftc-built one, and it is part of the
// FuzzDriver module the SwiftPM-built ones import (hence `public`).

/// Reports a broken invariant the way libFuzzer recognises a finding (a trap), with a line saying which one.
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
           file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant violated: \(message())", file: file, line: line) }
}

/// Chunk sizes derived from the input itself, so a finding replays exactly from its file alone.
///
/// Mostly small pieces (1–8 bytes: splits inside CRLF, inside "." CR LF and inside reply codes are where
/// streaming parsers go wrong), sometimes up to 300 bytes so long inputs still finish quickly.
public struct ChunkSizes {
    private var state: UInt64

    public init(seededBy bytes: UnsafeBufferPointer<UInt8>, salt: UInt64 = 0) {
        var hash: UInt64 = 0xcbf29ce484222325 ^ salt  // FNV-1a
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        state = hash
    }

    public mutating func next() -> Int {
        // splitmix64
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        z ^= z >> 31
        return z & 3 == 0 ? Int((z >> 8) % 300) + 1 : Int((z >> 8) % 8) + 1
    }

    /// `bytes` cut into consecutive chunks.
    public mutating func split(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = min(start + next(), bytes.endIndex)
            chunks.append(bytes[start..<end])
            start = end
        }
        return chunks
    }
}

/// Reads the input front to back as a source of small decisions.
public struct InputCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public var isAtEnd: Bool { index >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return index < bytes.count ? Array(bytes[index...]) : []
    }
}

/// RFC 4648 base64 with padding: the reference the SASL decoder is checked against.
public func referenceBase64(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i])
        let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let triple = b0 << 16 | b1 << 8 | b2
        out.append(alphabet[Int(triple >> 18 & 63)])
        out.append(alphabet[Int(triple >> 12 & 63)])
        out.append(i + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
        out.append(i + 2 < bytes.count ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
        i += 3
    }
    return out
}
