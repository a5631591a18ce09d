/// One mail transaction: MAIL, RCPT for each recipient, DATA, the body, and the reply to the final dot.
///
/// With PIPELINING (RFC 2920) MAIL, every RCPT and DATA go out in one write (DATA may end a group, §3.1) and the
/// replies are read in order; without it each command waits for the previous reply. Either way every reply is
/// matched to its command by position, so the 503s a server gives to RCPT and DATA after refusing MAIL are read
/// and ignored rather than mistaken for verdicts on the recipients.
extension ClientSession {
    /// What one recipient's fate is so far.
    enum RecipientOutcome: Sendable, Equatable {
        case pending
        case accepted
        /// The recipient's final reply (RCPT's refusal, or MAIL's, DATA's or the final dot's reply).
        case final(SMTPReply)
    }

    /// The reply the transaction waits for next.
    enum TransactionStep: Sendable, Equatable {
        case mail
        case rcpt(Int)
        case data
        /// `.sendBody` was returned; the reply to the final dot is next.
        case body
        /// 354 came although no recipient was accepted: the session sent ".\r\n" itself; the reply is ignored.
        case emptyBody
    }

    /// A transaction under way; it exists only inside `Phase.transaction`.
    struct TransactionProgress: Sendable {
        let transaction: ClientTransaction
        let pipelined: Bool
        var step = TransactionStep.mail
        var outcomes: [RecipientOutcome]

        var awaitingDataReply: Bool { step == .body || step == .emptyBody }
        var anyAccepted: Bool { outcomes.contains(.accepted) }

        /// Every recipient without a final reply gets `reply`.
        mutating func settle(with reply: SMTPReply) {
            outcomes = outcomes.map { $0 == .pending || $0 == .accepted ? .final(reply) : $0 }
        }

        func result(_ fallback: SMTPReply) -> ClientTransactionResult {
            let replies = outcomes.map { outcome in
                switch outcome {
                case .final(let reply): reply
                case .pending, .accepted: fallback
                }
            }
            return ClientTransactionResult(transaction: transaction, replies: replies)
        }
    }

    mutating func start(_ transaction: ClientTransaction) -> [Action] {
        guard case .ready = phase, let capabilities else {
            return misuse("start", "a transaction was started while the session was not ready", pending: transaction)
        }
        // A transaction that cannot be sent ends at once with a synthesized verdict for every recipient (none at
        // all without recipients); nothing was sent, so no RSET either.
        let refusal: SMTPReply? =
            if !transaction.addressesAreSafe { ClientTransaction.unsafeAddress }
            else if transaction.smtputf8, !capabilities.smtputf8 { ClientTransaction.smtputf8NotOffered }
            else { nil }
        if transaction.recipients.isEmpty || refusal != nil {
            let replies = refusal.map { Array(repeating: $0, count: transaction.recipients.count) } ?? []
            return [.completed(ClientTransactionResult(transaction: transaction, replies: replies))] + becomeReady()
        }
        let progress = TransactionProgress(
            transaction: transaction, pipelined: capabilities.pipelining,
            outcomes: Array(repeating: .pending, count: transaction.recipients.count))
        phase = .transaction(progress)
        let mail = transaction.mailCommand(offered: capabilities)
        guard progress.pipelined else { return send(mail) }
        let rcpts = transaction.recipients.indices.map { transaction.rcptCommand($0) }
        return send(([mail] + rcpts + ["DATA"]).joined(separator: "\r\n"))
    }

    mutating func transactionReplied(_ reply: SMTPReply, _ progress: TransactionProgress) -> [Action] {
        var progress = progress
        let refused = reply.isTransient || reply.isPermanent
        switch progress.step {
        case .mail:
            guard reply.isPositive || refused else { return fail(.unexpectedReply(reply, command: "MAIL")) }
            if refused {
                progress.settle(with: reply)
                // Without pipelining nothing else was sent; with it, RCPT's and DATA's replies are still to come.
                guard progress.pipelined else { return finish(progress, reply) }
            }
            return next(.rcpt(0), progress, command: progress.transaction.rcptCommand(0))
        case .rcpt(let index):
            if progress.outcomes[index] == .pending {
                guard reply.isPositive || refused else { return fail(.unexpectedReply(reply, command: "RCPT")) }
                progress.outcomes[index] = reply.isPositive ? .accepted : .final(reply)
            }
            let following = index + 1
            if following < progress.outcomes.count {
                return next(.rcpt(following), progress, command: progress.transaction.rcptCommand(following))
            }
            // Lockstep: DATA only if someone can receive the message. Pipelined: DATA is on its way already.
            guard progress.pipelined || progress.anyAccepted else { return finish(progress, reply) }
            return next(.data, progress, command: "DATA")
        case .data:
            if reply.code == 354 {
                if progress.anyAccepted {
                    progress.step = .body
                    phase = .transaction(progress)
                    return [.sendBody]
                }
                // A pipelining server that refused every RCPT (or MAIL) yet says 354: end the data at once with an
                // empty message. Nobody can receive it; every recipient keeps the reply it already has.
                progress.step = .emptyBody
                phase = .transaction(progress)
                return [.send([UInt8(ascii: "."), 13, 10])]
            }
            guard refused else { return fail(.unexpectedReply(reply, command: "DATA")) }
            progress.settle(with: reply)
            return finish(progress, reply)
        case .body, .emptyBody:
            guard reply.isPositive || refused else { return fail(.unexpectedReply(reply, command: "end of data")) }
            progress.settle(with: reply)
            return finish(progress, reply)
        }
    }

    /// Moves to `step`; without pipelining its command goes out now.
    private mutating func next(_ step: TransactionStep, _ progress: TransactionProgress, command: String) -> [Action] {
        var progress = progress
        progress.step = step
        phase = .transaction(progress)
        return progress.pipelined ? [] : send(command)
    }

    /// Reports the result. After a 2xx to the final dot the server has already cleared its transaction
    /// (RFC 5321 §4.1.1.4: the end of data consumes the reverse-path, forward-path and data buffers), so the
    /// session is ready at once; after anything else RSET makes sure no half transaction is left (§4.1.1.5).
    private mutating func finish(_ progress: TransactionProgress, _ last: SMTPReply) -> [Action] {
        let completed = Action.completed(progress.result(last))
        guard progress.awaitingDataReply, last.isPositive else {
            phase = .resetting
            return [completed] + send("RSET")
        }
        return [completed] + becomeReady()
    }
}
