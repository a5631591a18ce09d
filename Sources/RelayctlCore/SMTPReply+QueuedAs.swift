import SMTPProtocol

extension SMTPReply {
    /// The word after `queued as ` in the reply, e.g. relayd's `250 2.0.0 Ok: queued as 0F3A9C2E1B7D4`.
    public var queuedAs: String? {
        for line in lines {
            guard let range = line.firstRange(of: "queued as ") else { continue }
            let word = line[range.upperBound...].prefix { $0 != " " }
            if !word.isEmpty { return String(word) }
        }
        return nil
    }
}
