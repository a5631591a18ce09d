#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Authentication

/// `relayctl hash-password`: the `$scrypt$…` hash of a password, for a line of inbound.auth.users_file
/// (doveadm pw, htpasswd -n).
struct HashPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print a password hash for inbound.auth.users_file (reads the password from standard input)",
        discussion: """
            The password is the first line of standard input, without its line end. Each users file line is \
            name:hash[:domain,…]: the user name, this hash and, optionally, the sender domains the user may use \
            in MAIL FROM (none: whichever the global policy allows). Example: \
            printf 'alice:%s\\n' "$(relayctl hash-password < alice.pw)" >> /etc/relay/users. Every run uses a new \
            random salt, so the same password gives a different hash each time.
            """)

    @Option(name: .long, help: ArgumentHelp(
        "The password itself instead of standard input. Discouraged: other users can see it in ps and it "
            + "stays in the shell history.",
        valueName: "text"))
    var password: String?

    func run() throws {
        let secret = try password ?? Self.readPassword()
        if secret.isEmpty { throw RelayctlFailure(.notDone, "the password is empty") }
        let hash: PasswordHash
        do {
            hash = try PasswordHash.make(password: secret)
        } catch {
            throw RelayctlFailure(.notDone, "cannot hash the password: \(error)")
        }
        print(hash.encoded)
    }

    /// The first line of standard input; a prompt goes to stderr only for a person at a terminal, so stdout
    /// carries the hash and nothing else.
    private static func readPassword() throws -> String {
        if isatty(STDIN_FILENO) == 1 { StandardStreams.printToStandardError("Password: ") }
        guard let line = readLine(strippingNewline: false) else {
            throw RelayctlFailure(.notDone, "no password on standard input")
        }
        // Only the line end goes: spaces at either end may be part of the password.
        var text = Substring(line)
        if text.hasSuffix("\r\n") { text = text.dropLast() } // "\r\n" is a single Character
        else if text.hasSuffix("\n") { text = text.dropLast() }
        return String(text)
    }
}
