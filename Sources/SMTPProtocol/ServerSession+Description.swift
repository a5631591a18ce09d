/// Log text for actions: `.verifyCredentials` shows the username and a fixed mask, so logging every action
/// never leaks a client's password.
extension ServerSession.Action: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        switch self {
        case .send(let reply): "send(\(reply))"
        case .receiveData(let sizeLimit): "receiveData(sizeLimit: \(sizeLimit))"
        case .commit(let transaction, let heloName):
            "commit(from: \(transaction.sender), recipients: \(transaction.recipients.count), heloName: \(heloName))"
        case .startTLS: "startTLS"
        case .verifyCredentials(let username, _): "verifyCredentials(username: \(username), password: <redacted>)"
        case .admitMessage(let user): "admitMessage(user: \(user ?? "-"))"
        case .close: "close"
        }
    }

    public var debugDescription: String { description }
}
