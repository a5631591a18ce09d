/// Turns one command line (without its line ending) into an `SMTPCommand`. Pure; tolerant where RFC 5321 allows.
public enum SMTPCommandParser {
    /// RFC 5321 §4.5.3.1.4: 512 octets is the minimum; we accept up to 1000 including CRLF, like DATA lines.
    public static let maxLineLength = 1000

    public static func parse(_ line: some Collection<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        if line.count > maxLineLength - 2 { return .failure(.lineTooLong) }
        if line.contains(0) { return .failure(.containsNUL) }
        // UTF-8 is allowed in paths (SMTPUTF8); anything that is not valid UTF-8 is a syntax error.
        guard let text = String(validating: line, as: UTF8.self) else {
            return .failure(.syntax("invalid UTF-8"))
        }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = asciiUppercased(text[..<verbEnd])
        let argument = text[verbEnd...].drop { $0 == " " }
        var restEnd = argument.endIndex
        while restEnd > argument.startIndex, argument[argument.index(before: restEnd)] == " " {
            restEnd = argument.index(before: restEnd)
        }
        let rest = argument[..<restEnd]

        switch verb {
        case "HELO", "EHLO":
            // Any name is accepted (in-cluster clients rarely have a resolvable one), but not control
            // characters: the name ends up in the Received: header and in logs.
            guard let name = rest.split(separator: " ").first else { return .failure(.syntax("\(verb) requires a domain")) }
            guard name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 }) else {
                return .failure(.syntax("\(verb) domain contains control characters"))
            }
            return .success(verb == "HELO" ? .helo(domain: String(name)) : .ehlo(domain: String(name)))
        case "MAIL":
            return parseMail(rest)
        case "RCPT":
            return parseRcpt(rest)
        case "DATA":
            return rest.isEmpty ? .success(.data) : .failure(.syntax("DATA takes no arguments"))
        case "RSET":
            return rest.isEmpty ? .success(.rset) : .failure(.syntax("RSET takes no arguments"))
        case "NOOP":
            return .success(.noop)
        case "QUIT":
            return rest.isEmpty ? .success(.quit) : .failure(.syntax("QUIT takes no arguments"))
        case "VRFY":
            guard !rest.isEmpty else { return .failure(.syntax("VRFY requires an argument")) }
            return .success(.vrfy(String(rest)))
        case "HELP":
            return .success(.help)
        case "STARTTLS":
            return rest.isEmpty ? .success(.starttls) : .failure(.syntax("STARTTLS takes no arguments"))
        case "AUTH":
            let words = rest.split(separator: " ")
            guard let mechanism = words.first, words.count <= 2 else { return .failure(.syntax("AUTH mechanism [initial-response]")) }
            return .success(.auth(mechanism: asciiUppercased(mechanism), initialResponse: words.count == 2 ? String(words[1]) : nil))
        default:
            return .failure(.unrecognized)
        }
    }

    private static func parseMail(_ argument: Substring) -> Result<SMTPCommand, SMTPCommandError> {
        guard hasKeyword(argument, "FROM:") else { return .failure(.syntax("MAIL FROM:<address> required")) }
        guard let pathText = pathArgument(argument, keyword: "FROM:") else {
            return .failure(.invalidSender(.missingAngleBrackets))
        }
        let (path, parametersText) = pathText
        let reversePath: ReversePath
        if path.isEmpty {
            reversePath = .null
        } else {
            switch MailboxParser.parse(path) {
            case .success(let mailbox): reversePath = .mailbox(mailbox)
            case .failure(let error): return .failure(.invalidSender(error))
            }
        }
        var parameters = MailParameters()
        for word in parametersText.split(separator: " ") {
            let (key, value) = splitParameter(word)
            switch key {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 18, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                      let size = Int(value) else {
                    return .failure(.invalidParameterValue("SIZE"))
                }
                parameters.size = size
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: asciiUppercased(value)) else {
                    return .failure(.invalidParameterValue("BODY"))
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { return .failure(.invalidParameterValue("SMTPUTF8")) }
                parameters.smtputf8 = true
            case "AUTH":
                // RFC 4954 §5: a server offering AUTH must accept the submitter's identity; we relay as ourselves
                // and keep none, so it is checked for presence only and dropped.
                guard let value, !value.isEmpty else { return .failure(.invalidParameterValue("AUTH")) }
            default:
                return .failure(.unknownParameter(key))
            }
        }
        return .success(.mail(from: reversePath, parameters: parameters))
    }

    private static func parseRcpt(_ argument: Substring) -> Result<SMTPCommand, SMTPCommandError> {
        guard hasKeyword(argument, "TO:") else { return .failure(.syntax("RCPT TO:<address> required")) }
        guard let (path, parametersText) = pathArgument(argument, keyword: "TO:") else {
            return .failure(.invalidRecipient(.missingAngleBrackets))
        }
        if let first = parametersText.split(separator: " ").first {
            return .failure(.unknownParameter(splitParameter(first).key))
        }
        // RFC 5321 §4.1.1.3 and §4.5.1: <Postmaster> without a domain must be accepted. It comes back with an
        // empty domain; the session gives it ours, as Postfix appends $myorigin.
        if asciiUppercased(path) == "POSTMASTER" {
            return .success(.rcpt(to: Mailbox(localPart: "postmaster", domain: ""), parameters: RecipientParameters()))
        }
        switch MailboxParser.parse(path) {
        case .success(let mailbox): return .success(.rcpt(to: mailbox, parameters: RecipientParameters()))
        case .failure(let error): return .failure(.invalidRecipient(error))
        }
    }

    private static func hasKeyword(_ argument: Substring, _ keyword: String) -> Bool {
        argument.count >= keyword.count && asciiUppercased(argument.prefix(keyword.count)) == keyword
    }

    /// Splits `FROM:<path> params` (keyword case-insensitive, spaces after the colon tolerated as many clients send them).
    private static func pathArgument(_ argument: Substring, keyword: String) -> (Substring, Substring)? {
        guard argument.count >= keyword.count, asciiUppercased(argument.prefix(keyword.count)) == keyword else { return nil }
        let afterKeyword = argument.dropFirst(keyword.count).drop { $0 == " " }
        guard afterKeyword.first == "<" else { return nil }
        guard let close = closingBracket(afterKeyword) else { return nil }
        let path = afterKeyword[afterKeyword.index(after: afterKeyword.startIndex)..<close]
        let rest = afterKeyword[afterKeyword.index(after: close)...]
        guard rest.isEmpty || rest.first == " " else { return nil }
        return (path, rest.drop { $0 == " " })
    }

    /// The `>` that closes the path, skipping any inside a quoted local part.
    private static func closingBracket(_ text: Substring) -> Substring.Index? {
        var inQuotes = false
        var escaped = false
        for index in text.indices.dropFirst() {
            let c = text[index]
            if escaped { escaped = false; continue }
            if inQuotes, c == "\\" { escaped = true; continue }
            if c == "\"" { inQuotes.toggle(); continue }
            if !inQuotes, c == ">" { return index }
        }
        return nil
    }

    private static func splitParameter(_ word: Substring) -> (key: String, value: String?) {
        guard let eq = word.firstIndex(of: "=") else { return (asciiUppercased(word), nil) }
        return (asciiUppercased(word[..<eq]), String(word[word.index(after: eq)...]))
    }

    /// Upper-cases ASCII letters only: SMTP keywords are ASCII, and Unicode case mapping would turn
    /// look-alikes such as "QUıT" or "ſIZE" into keywords.
    static func asciiUppercased(_ text: some StringProtocol) -> String {
        let utf8 = text.utf8
        // Written in place: keywords fit Swift's small-string storage, so this allocates nothing.
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 {
                buffer[count] = byte >= 97 && byte <= 122 ? byte - 32 : byte
                count += 1
            }
            return count
        }
    }
}
