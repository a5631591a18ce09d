/// What one delivery attempt sends: the envelope of one message.
public struct ClientTransaction: Sendable, Equatable {
    /// Without brackets; "" is the null sender.
    public var sender: String
    /// Without brackets; non-empty.
    public var recipients: [String]
    /// Bytes of the message as it will be sent (declared as SIZE= only when the upstream offers SIZE).
    public var size: Int
    /// BODY=8BITMIME when true and offered (when not offered the message is sent as it is, as Postfix does).
    public var eightBitMIME: Bool
    /// The SMTPUTF8 parameter; if required but not offered, the transaction fails permanently without sending:
    /// every recipient gets the synthesized reply "550 5.6.7 upstream does not support SMTPUTF8".
    public var smtputf8: Bool

    public init(sender: String, recipients: [String], size: Int, eightBitMIME: Bool, smtputf8: Bool) {
        self.sender = sender
        self.recipients = recipients
        self.size = size
        self.eightBitMIME = eightBitMIME
        self.smtputf8 = smtputf8
    }
}

/// The result of one transaction: one reply per recipient, as the upstream gave it.
public struct ClientTransactionResult: Sendable, Equatable {
    public var transaction: ClientTransaction
    /// Final reply per recipient, in recipients order: RCPT's reply if RCPT failed; otherwise the reply to the
    /// final dot (or to DATA/MAIL if those failed).
    public var replies: [SMTPReply]

    public init(transaction: ClientTransaction, replies: [SMTPReply]) {
        self.transaction = transaction
        self.replies = replies
    }
}

extension ClientTransaction {
    /// The reply every recipient gets when SMTPUTF8 is needed and the upstream does not offer it.
    static let smtputf8NotOffered = SMTPReply(550, EnhancedStatusCode(5, 6, 7), "upstream does not support SMTPUTF8")

    /// The reply every recipient gets when an address would break the command line it goes into.
    static let unsafeAddress = SMTPReply(
        553, EnhancedStatusCode(5, 1, 3), "address contains CR, LF or NUL; not sent upstream")

    /// Whether every address can go between `<` and `>` on a command line as it is. The receiving side never lets
    /// such an address in; this guard keeps a bug elsewhere from becoming command injection upstream.
    var addressesAreSafe: Bool {
        ([sender] + recipients).allSatisfy { !$0.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 } }
    }

    /// `MAIL FROM:<sender>` with the parameters the upstream offers.
    func mailCommand(offered capabilities: ServerCapabilities) -> String {
        var command = "MAIL FROM:<\(sender)>"
        if capabilities.sizeExtension, size >= 0 { command += " SIZE=\(size)" }
        if eightBitMIME, capabilities.eightBitMIME { command += " BODY=8BITMIME" }
        if smtputf8, capabilities.smtputf8 { command += " SMTPUTF8" }
        return command
    }

    func rcptCommand(_ index: Int) -> String { "RCPT TO:<\(recipients[index])>" }
}
