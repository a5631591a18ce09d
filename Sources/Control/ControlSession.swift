import FastJSON
import Logging
import Spool
import Transport

/// One relayctl connection: reads request lines, has the handler answer each, writes the reply lines.
/// Requests are answered one at a time, in order; a bad line gets a `bad_request` error and the connection
/// carries on.
final class ControlSession {
    /// Replies are written once this much has gathered (and at the end of each reply), so a listing goes
    /// out in large writes rather than one per message.
    static let writeChunk = 64 * 1024

    private let connection: TCPConnection
    private let handler: any ControlHandler
    private let registry: ConnectionRegistry
    private let idleTimeout: Duration
    private let logger: Logger
    private var framer = RequestLineFramer(maximumLength: ControlProtocol.maximumRequestLength)
    private var output = JSONWriter(capacity: ControlSession.writeChunk + 4096)

    init(connection: TCPConnection, handler: any ControlHandler, registry: ConnectionRegistry, idleTimeout: Duration, logger: Logger) {
        self.connection = connection
        self.handler = handler
        self.registry = registry
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    /// Serves the connection to its end. Never throws: every ending is logged here.
    func run() async {
        let key = registry.add(connection)
        do {
            while true {
                while let event = framer.next() {
                    switch event {
                    case .line(let line): try await answer(line)
                    case .tooLong:
                        logger.debug("control request too long")
                        reply(.error(ControlError(.badRequest, "request line longer than \(ControlProtocol.maximumRequestLength) bytes")))
                    }
                    try await flush()
                }
                let n: Int
                do {
                    guard registry.setIdle(key, true) else { break }
                    defer { _ = registry.setIdle(key, false) }
                    n = try await connection.read(deadline: .now + idleTimeout) { framer.append($0) }
                } catch TransportError.timedOut {
                    logger.debug("control connection idle too long; closing it")
                    break
                }
                if n == 0 { break }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["reason": "\(error)"])
        }
        registry.remove(key)
        connection.close()
    }

    /// The client went away while a reply was being written: no one to answer any more.
    private struct ClientGone: Error {
        var cause: any Error
    }

    private func answer(_ line: [UInt8]) async throws {
        let request: ControlRequest
        do {
            request = try ControlRequest(jsonBytes: line)
        } catch {
            logger.debug("bad control request", metadata: ["reason": "\(error)"])
            reply(.error(ControlError(.badRequest, error.message)))
            return
        }
        logger.debug("control request", metadata: ["command": "\(request.command)"])
        do {
            reply(try await dispatch(request))
        } catch let gone as ClientGone {
            throw gone.cause
        } catch let error as ControlError {
            reply(.error(error))
        } catch let error as SpoolError {
            reply(.error(ControlError(error)))
        } catch {
            reply(.error(ControlError(.internal, "\(error)")))
        }
    }

    /// The handler's answer; for `queue`, the listed messages are written (and flushed in chunks) on the way.
    private func dispatch(_ request: ControlRequest) async throws -> ControlReply {
        switch request {
        case .queue(let filter):
            let summary = try await handler.queue(filter) { entry in
                self.reply(.message(entry))
                if self.output.bytes.count >= ControlSession.writeChunk {
                    do { try await self.flush() } catch { throw ClientGone(cause: error) }
                }
            }
            return .summary(summary)
        case .show(let id): return .detail(try await handler.show(id))
        case .showRaw(let id): return .raw(try await handler.showRaw(id))
        case .flush(let ids): return changed(request, try await handler.flush(ids))
        case .hold(let ids): return changed(request, try await handler.hold(ids))
        case .release(let ids): return changed(request, try await handler.release(ids))
        case .delete(let ids): return changed(request, try await handler.delete(ids))
        case .deleteState(let state): return changed(request, try await handler.delete(state: state))
        case .stats: return .stats(try await handler.stats())
        case .awaitOutcome(let id, let timeout):
            guard let outcome = try await handler.awaitOutcome(id, timeout: .seconds(timeout)) else {
                return .timedOut(id, timeoutSeconds: timeout)
            }
            return .outcome(outcome)
        case .reload:
            let report = try await handler.reload()
            logger.info("configuration reload asked by relayctl", metadata: ["result": "\(report.result.rawValue)"])
            return .reload(report)
        }
    }

    /// Logs each message the request changed (an operator's audit trail), and replies with the report.
    private func changed(_ request: ControlRequest, _ report: ChangeReport) -> ControlReply {
        for item in report.items where item.result == .done {
            logger.info("queue changed by relayctl", metadata: ["command": "\(request.command)", "id": "\(item.id)"])
        }
        return .changes(report)
    }

    private func reply(_ reply: ControlReply) {
        reply.write(to: &output)
        output.endLine()
    }

    private func flush() async throws {
        guard !output.bytes.isEmpty else { return }
        try await connection.write(output.bytes, deadline: .now + idleTimeout)
        // A `show_raw` line can be megabytes: do not keep that much for the rest of the connection.
        if output.bytes.count > 4 * ControlSession.writeChunk {
            output = JSONWriter(capacity: ControlSession.writeChunk + 4096)
        } else {
            output.reset()
        }
    }
}
