@testable import Transport

/// Two engines and the ciphertext in flight between them.
struct EnginePair {
    let client: TLSEngine
    let server: TLSEngine
    private var toServer = Wire()
    private var toClient = Wire()

    init(client: TLSEngine, server: TLSEngine) {
        self.client = client
        self.server = server
    }

    /// Ciphertext queued by one engine and not yet taken by the other (whose buffer may be full).
    struct Wire {
        var bytes: [UInt8] = []

        /// Moves what `receiver` takes; returns whether anything moved.
        mutating func carry(from sender: TLSEngine, to receiver: TLSEngine) -> Bool {
            sender.takeOutput(into: &bytes)
            let taken = bytes.withUnsafeBufferPointer {
                receiver.receive(UnsafeBufferPointer(rebasing: $0.prefix(receiver.inputCapacity)))
            }
            bytes.removeFirst(taken)
            return taken > 0
        }
    }

    /// Carries ciphertext both ways; returns whether anything moved.
    @discardableResult
    mutating func carry() -> Bool {
        let up = toServer.carry(from: client, to: server)
        let down = toClient.carry(from: server, to: client)
        return up || down
    }

    /// Runs both handshakes to the end; returns the client's failure, or nil. Throws the server's failure
    /// when the client succeeded, and when the handshake stalls.
    mutating func handshake() throws -> TLSError? {
        var clientDone = false
        var serverDone = false
        var serverFailure: TLSError?
        for _ in 0..<100 {
            if !clientDone {
                switch client.handshake() {
                case .done: clientDone = true
                case .wantsInput, .wantsOutput: break
                case .closed: return .closed
                case .failed(let error):
                    carry()
                    return error
                }
            }
            if !serverDone, serverFailure == nil {
                switch server.handshake() {
                case .done: serverDone = true
                case .wantsInput, .wantsOutput: break
                case .closed: serverFailure = .closed
                case .failed(let error): serverFailure = error
                }
            }
            let moved = carry()
            if clientDone, serverDone, !moved { return nil }
            if let serverFailure, !moved, clientDone { throw serverFailure }
        }
        throw TLSError.handshakeFailed("the engines stopped making progress")
    }

    /// What one transfer saw.
    struct Transfer {
        var received: [UInt8] = []
        var writerWaitedForOutput = 0
        var readerWaitedForInput = 0
    }

    /// Writes `payload` on one engine and reads it on the other, carrying ciphertext whenever the writer
    /// is blocked, as TLSConnection does with a socket.
    mutating func transfer(_ payload: [UInt8], clientToServer: Bool) throws -> Transfer {
        let (writer, reader) = clientToServer ? (client, server) : (server, client)
        var transfer = Transfer()
        var offset = 0
        var idleRounds = 0
        while transfer.received.count < payload.count {
            var moved = false
            if offset < payload.count {
                switch payload.withUnsafeBytes({ writer.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                case .done(let count):
                    offset += count
                    moved = true
                    if offset < payload.count { continue }  // carry only once blocked or finished
                case .wantsOutput: transfer.writerWaitedForOutput += 1
                case .wantsInput: break
                case .closed: throw TLSError.closed
                case .failed(let error): throw error
                }
            }
            moved = carry() || moved
            reading: while true {
                switch reader.read(maxBytes: 4096, { transfer.received.append(contentsOf: $0) }) {
                case .done: moved = true
                case .wantsInput:
                    transfer.readerWaitedForInput += 1
                    break reading
                case .wantsOutput: break reading
                case .closed: throw TLSError.closed
                case .failed(let error): throw error
                }
            }
            idleRounds = moved ? 0 : idleRounds + 1
            if idleRounds > 10 { throw TLSError.handshakeFailed("the transfer stopped making progress") }
        }
        return transfer
    }
}
