// libFuzzer target `command-parser`: CommandLineFramer + SMTPCommandParser, compiled with Sources/SMTPProtocol.
//
// Invariants:
// - framing the input at once and in input-chosen chunks gives the same events; no framed line holds an LF or
//   is longer than the limit, and the unread buffer stays within one line's worth (memory bounded);
// - parsing is deterministic (every framed line, and the whole input as one line, parsed twice);
// - a parsed MAIL/RCPT mailbox's description, put back in a command, parses to the same mailbox; an EHLO/HELO
//   domain likewise.

private func frame(_ chunks: [ArraySlice<UInt8>]) -> [CommandLineFramer.Event] {
    var framer = CommandLineFramer()
    var buffer = InputBuffer()
    var events: [CommandLineFramer.Event] = []
    for chunk in chunks {
        buffer.append(chunk)
        while let event = framer.next(from: &buffer) {
            if case .line(let line) = event {
                check(!line.contains(10), "a framed line contains LF")
                check(line.count + 1 <= framer.maxLineLength, "a framed line of \(line.count) octets is over the limit")
            }
            events.append(event)
        }
        check(buffer.count <= framer.maxLineLength, "the framer keeps \(buffer.count) unread bytes")
    }
    return events
}

private func parse(_ line: [UInt8]) -> Result<SMTPCommand, SMTPCommandError> {
    let result = SMTPCommandParser.parse(line)
    check(SMTPCommandParser.parse(line) == result, "parsing \(line) twice gave different results")
    return result
}

private func reparsed(_ text: String) -> Result<SMTPCommand, SMTPCommandError> {
    SMTPCommandParser.parse(Array(text.utf8))
}

private func checkRoundTrip(_ command: SMTPCommand) {
    switch command {
    case .mail(from: .mailbox(let mailbox), _):
        let again = reparsed("MAIL FROM:<\(mailbox)>")
        check(again == .success(.mail(from: .mailbox(mailbox), parameters: MailParameters())),
              "MAIL FROM:<\(mailbox)> parses to \(again), not the mailbox it was printed from")
        check(MailboxParser.parse(Substring(mailbox.description)) == .success(mailbox),
              "mailbox \(mailbox) does not re-parse by itself")
    case .rcpt(to: let mailbox, _):
        // <Postmaster> comes back without a domain on purpose (RFC 5321 §4.1.1.3); the session adds ours.
        guard !mailbox.domain.isEmpty else {
            check(mailbox == Mailbox(localPart: "postmaster", domain: ""), "a recipient without a domain: \(mailbox)")
            return
        }
        let again = reparsed("RCPT TO:<\(mailbox)>")
        check(again == .success(.rcpt(to: mailbox, parameters: RecipientParameters())),
              "RCPT TO:<\(mailbox)> parses to \(again), not the mailbox it was printed from")
    case .ehlo(let domain):
        check(reparsed("EHLO \(domain)") == .success(.ehlo(domain: domain)), "EHLO \(domain) does not re-parse")
    case .helo(let domain):
        check(reparsed("HELO \(domain)") == .success(.helo(domain: domain)), "HELO \(domain) does not re-parse")
    default:
        break
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let bytes = Array(input)

    let whole = frame([bytes[...]])
    var sizes = ChunkSizes(seededBy: input)
    let pieces = frame(sizes.split(bytes[...]))
    check(pieces == whole, "framing in chunks gave \(pieces.count) events, at once \(whole.count)")

    for event in whole {
        if case .line(let line) = event, case .success(let command) = parse(line) { checkRoundTrip(command) }
    }
    // The parser must also survive what the framer would never hand it (LF, CR, any length).
    if case .success(let command) = parse(bytes) { checkRoundTrip(command) }
    return 0
}
