/// One message's envelope as the session collects it: sender, parameters, accepted recipients.
public struct MailTransaction: Sendable, Equatable {
    public var sender: ReversePath
    public var parameters: MailParameters
    public var recipients: [Mailbox] = []

    public init(sender: ReversePath, parameters: MailParameters) {
        self.sender = sender
        self.parameters = parameters
    }
}
