#if canImport(Glibc)
import Glibc
#endif

/// One inbound SMTP AUTH user: the name, the password hash and the sender domains it may use (empty: the
/// global policy decides).
public struct UserEntry: Sendable, Equatable {
    public var name: String
    public var hash: PasswordHash
    public var senderDomains: [String]

    public init(name: String, hash: PasswordHash, senderDomains: [String] = []) {
        self.name = name
        self.hash = hash
        self.senderDomains = senderDomains
    }
}

/// The users file (inbound.auth.users_file): one `name:hash` or `name:hash:domain1,domain2` per line, `#`
/// comments and blank lines ignored.
public enum UsersFile {
    /// The users in `text` by name; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws(UsersFileError) -> [String: UserEntry] {
        var users: [String: UserEntry] = [:]
        // "\r\n" is one Character in Swift, so splitting on "\n" alone would miss CRLF files' line ends.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            func failure(_ problem: String) -> UsersFileError {
                UsersFileError(file: file, line: lineNumber, problem: problem)
            }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
            // The line itself is never quoted back: it may hold a hash, or a password typed where one belongs.
            guard fields.count == 2 || fields.count == 3 else {
                throw failure("expected name:hash or name:hash:domain,…")
            }
            let name = String(fields[0])
            if name.isEmpty { throw failure("the user name is empty") }
            if name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
                throw failure("the user name contains whitespace or a control character")
            }
            let hash: PasswordHash
            do {
                hash = try PasswordHash(encoded: String(fields[1]))
            } catch {
                throw failure("user \(name): \(error)")
            }
            let domains: [String]
            do {
                domains = try fields.count == 3 ? senderDomains(fields[2]) : []
            } catch {
                throw failure("user \(name): \(error.problem)")
            }
            if users[name] != nil { throw failure("user \(name) appears twice") }
            users[name] = UserEntry(name: name, hash: hash, senderDomains: domains)
        }
        return users
    }

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws(UsersFileError) -> [String: UserEntry] {
        let bytes = try readFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw UsersFileError(file: path, line: nil, problem: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Lowercased, in file order, without repeats; an empty field is an empty list.
    private static func senderDomains(_ field: Substring) throws(DomainProblem) -> [String] {
        if field.isEmpty { return [] }
        var domains: [String] = []
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let domain = item.trimmingWhitespace().lowercased()
            if domain.isEmpty { throw DomainProblem(problem: "empty sender domain in the list") }
            if domain.contains(where: { $0.isWhitespace || $0 == "@" }) {
                throw DomainProblem(problem: "sender domain \"\(domain)\" is not a domain name")
            }
            if !domains.contains(domain) { domains.append(domain) }
        }
        return domains
    }

    private struct DomainProblem: Error {
        var problem: String
    }

    private static func readFile(_ path: String) throws(UsersFileError) -> [UInt8] {
        func failure(_ operation: String) -> UsersFileError {
            UsersFileError(file: path, line: nil, problem: "cannot \(operation): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw failure("open") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}

/// A users file that cannot be used: the file, the line (when one is to blame) and the problem. Never holds
/// a hash or a password.
public struct UsersFileError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var problem: String

    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        if let line { return "\(file): line \(line): \(problem)" }
        return "\(file): \(problem)"
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        let trimmedStart = drop(while: \.isWhitespace)
        guard let last = trimmedStart.lastIndex(where: { !$0.isWhitespace }) else { return trimmedStart[trimmedStart.endIndex...] }
        return trimmedStart[...last]
    }
}
