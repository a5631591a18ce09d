import Foundation
import Testing
@testable import Authentication

@Suite struct UsersFileTests {
    /// Hashes made once per suite instance at the fast cost.
    let alice = try! PasswordHash.make(password: "alice-secret", cost: fastCost)
    let bob = try! PasswordHash.make(password: "bob-secret", cost: fastCost)

    func parseError(_ text: String) -> UsersFileError? {
        do {
            _ = try UsersFile.parse(text, file: "/etc/relay/users")
            return nil
        } catch {
            return error
        }
    }

    @Test func usersCommentsBlankLinesAndWhitespace() throws {
        let text = """
            # inbound AUTH users

              alice:\(alice)  \t
            \t# bob sends for two domains
            bob : \(bob) : Example.COM, mail.example.org ,example.com
            """
        let users = try UsersFile.parse(text, file: "users")
        #expect(users.count == 2)
        #expect(users["alice"] == UserEntry(name: "alice", hash: alice, senderDomains: []))
        #expect(users["bob"]?.senderDomains == ["example.com", "mail.example.org"])
        #expect(users["bob"]?.hash.verify("bob-secret") == true)
    }

    @Test func crlfLineEndsAndATrailingColonAreAccepted() throws {
        let users = try UsersFile.parse("# users\r\nalice:\(alice):\r\n\r\nbob:\(bob)\r\n", file: "users")
        #expect(users["alice"]?.senderDomains == [])
        #expect(users["bob"]?.hash == bob)
    }

    @Test func anEmptyFileHasNoUsers() throws {
        #expect(try UsersFile.parse("", file: "users").isEmpty)
        #expect(try UsersFile.parse("# nobody yet\n\n", file: "users").isEmpty)
    }

    @Test func aUserNamedTwiceIsAnErrorOnTheSecondLine() {
        let error = parseError("alice:\(alice)\n# again\nalice:\(bob)\n")
        #expect(error == UsersFileError(file: "/etc/relay/users", line: 3, problem: "user alice appears twice"))
        #expect(error?.description == "/etc/relay/users: line 3: user alice appears twice")
    }

    @Test func linesWithoutAHashOrWithTooManyFieldsAreErrors() {
        #expect(parseError("alice\n") == UsersFileError(
            file: "/etc/relay/users", line: 1, problem: "expected name:hash or name:hash:domain,…"))
        #expect(parseError("# x\n\(alice)\n")?.line == 2)
        #expect(parseError("alice:\(alice):example.com:extra\n")?.line == 1)
    }

    @Test(arguments: [":HASH", "  :HASH", "al ice:HASH", "al\tice:HASH", "al\u{7}ice:HASH"])
    func badUserNames(line: String) {
        let error = parseError("# first\n" + line.replacingOccurrences(of: "HASH", with: alice.encoded))
        #expect(error?.line == 2)
        #expect(error?.problem.hasPrefix("the user name ") == true)
    }

    @Test func aBadHashNamesTheUserAndTheProblem() {
        #expect(parseError("alice:\(alice)\nbob:hunter2\n") == UsersFileError(
            file: "/etc/relay/users", line: 2, problem: "user bob: not a $scrypt$ hash"))
        let tooCheap = bob.encoded.replacingOccurrences(of: "ln=10", with: "ln=4")
        #expect(parseError("bob:\(tooCheap)")?.problem == "user bob: refused cost: ln=4 is outside 10...20")
    }

    @Test(arguments: ["a.example,,b.example", "a.example,", "user@a.example", "a example"])
    func badSenderDomains(domains: String) {
        let error = parseError("alice:\(alice):\(domains)\n")
        #expect(error?.line == 1)
        #expect(error?.problem.hasPrefix("user alice: ") == true)
    }

    @Test func errorsNeverContainTheHashOrAPassword() {
        let encoded = alice.encoded
        let salt = String(encoded.split(separator: "$")[2])
        let digest = String(encoded.split(separator: "$")[3])
        let texts = [
            "alice:\(encoded)\nalice:\(encoded)\n",
            "alice:\(encoded)=\n",
            "alice:\(encoded.replacingOccurrences(of: "ln=10", with: "ln=99"))\n",
            "\(encoded)\n",
            "alice \(encoded):\(encoded)\n",
            "alice:\(encoded):example.com:\(encoded)\n",
            "alice:hunter2\n",
            "hunter2\n",
            "alice hunter2:\(encoded)\n",
        ]
        for text in texts {
            guard let error = parseError(text) else {
                Issue.record("no error for line \(text.debugDescription)")
                continue
            }
            for secret in [salt, digest, "hunter2"] {
                #expect(!error.description.contains(secret), "\(error.problem)")
            }
        }
    }

    @Test func loadReadsAFile() throws {
        let path = try temporaryFile("alice:\(alice):example.com\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let users = try UsersFile.load(path: path)
        #expect(users["alice"]?.senderDomains == ["example.com"])
    }

    @Test func loadNamesTheFileInParseErrors() throws {
        let path = try temporaryFile("\nalice:\(alice)\nalice:\(alice)\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: UsersFileError(file: path, line: 3, problem: "user alice appears twice")) {
            try UsersFile.load(path: path)
        }
    }

    @Test func anUnreadableFileSaysWhy() {
        let path = "/nonexistent-\(UUID().uuidString)/users"
        #expect(throws: UsersFileError(file: path, line: nil, problem: "cannot open: No such file or directory")) {
            try UsersFile.load(path: path)
        }
        #expect(throws: UsersFileError(file: "/", line: nil, problem: "cannot read: Is a directory")) {
            try UsersFile.load(path: "/")
        }
    }

    @Test func aFileThatIsNotUTF8IsRefused() throws {
        let path = NSTemporaryDirectory() + "users-\(UUID().uuidString)"
        try Data([0x61, 0x3A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: UsersFileError(file: path, line: nil, problem: "not UTF-8 text")) {
            try UsersFile.load(path: path)
        }
    }

    func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "users-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
