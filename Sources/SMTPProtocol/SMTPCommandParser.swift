/// Turns one command line (without its line ending) into an `SMTPCommand`. Pure; tolerant where RFC 5321 allows.
public enum SMTPCommandParser {
    /// RFC 5321 §4.5.3.1.4: 512 octets is the minimum; we accept up to 1000 including CRLF, like DATA lines.
    public static let maxLineLength = 1000

    public static func parse(_ line: some Collection<UInt8>) -> Result<SMTPCommand, SMTPCommandError> {
        if line.count > maxLineLength - 2 { return .failure(.lineTooLong) }
        if line.contains(0) { return .failure(.containsNUL) }
        // UTF-8 is allowed in paths (SMTPUTF8); invalid UTF-8 is simply a syntax error later.
        let text = String(decoding: line, as: UTF8.self)
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = text[verbEnd...].drop { $0 == " " }
        let rest = Substring(argument.reversed().drop { $0 == " " }.reversed())

        switch verb {
        case "HELO":
            guard !rest.isEmpty else { return .failure(.syntax("HELO requires a domain")) }
            return .success(.helo(domain: String(rest.split(separator: " ")[0])))
        case "EHLO":
            guard !rest.isEmpty else { return .failure(.syntax("EHLO requires a domain")) }
            return .success(.ehlo(domain: String(rest.split(separator: " ")[0])))
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
            return .success(.auth(mechanism: mechanism.uppercased(), initialResponse: words.count == 2 ? String(words[1]) : nil))
        default:
            return .failure(.unrecognized)
        }
    }

    private static func parseMail(_ argument: Substring) -> Result<SMTPCommand, SMTPCommandError> {
        guard let pathText = pathArgument(argument, keyword: "FROM:") else {
            return .failure(.syntax("MAIL FROM:<address> required"))
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
                guard let value, let size = Int(value), size >= 0, value.allSatisfy(\.isASCII) else {
                    return .failure(.invalidParameterValue("SIZE"))
                }
                parameters.size = size
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: value.uppercased()) else {
                    return .failure(.invalidParameterValue("BODY"))
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { return .failure(.invalidParameterValue("SMTPUTF8")) }
                parameters.smtputf8 = true
            default:
                return .failure(.unknownParameter(key))
            }
        }
        return .success(.mail(from: reversePath, parameters: parameters))
    }

    private static func parseRcpt(_ argument: Substring) -> Result<SMTPCommand, SMTPCommandError> {
        guard let (path, parametersText) = pathArgument(argument, keyword: "TO:") else {
            return .failure(.syntax("RCPT TO:<address> required"))
        }
        if let first = parametersText.split(separator: " ").first {
            return .failure(.unknownParameter(splitParameter(first).key))
        }
        // RFC 5321 §4.1.1.3: <Postmaster> without a domain is valid; we relay it nowhere, so ask for a domain.
        switch MailboxParser.parse(path) {
        case .success(let mailbox): return .success(.rcpt(to: mailbox, parameters: RecipientParameters()))
        case .failure(let error): return .failure(.invalidRecipient(error))
        }
    }

    /// Splits `FROM:<path> params` (keyword case-insensitive, spaces after the colon tolerated as many clients send them).
    private static func pathArgument(_ argument: Substring, keyword: String) -> (Substring, Substring)? {
        guard argument.count >= keyword.count, argument.prefix(keyword.count).uppercased() == keyword else { return nil }
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
        guard let eq = word.firstIndex(of: "=") else { return (word.uppercased(), nil) }
        return (word[..<eq].uppercased(), String(word[word.index(after: eq)...]))
    }
}
