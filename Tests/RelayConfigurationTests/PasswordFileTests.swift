import Foundation
import Testing
@testable import RelayConfiguration

@Suite struct PasswordFileTests {
    func load(_ yaml: String, in dir: TemporaryDirectory) throws -> RelaySettings {
        let file = try dir.write("relay.yaml", yaml)
        return try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
    }

    @Test(arguments: [("key\n", "key"), ("key\r\n", "key"), ("key", "key"), ("key\n\n", "key"), (" spaced key \n", " spaced key ")])
    func thePasswordIsTheFileContentWithoutTrailingNewlines(content: String, password: String) throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("password", content)
        let settings = try load("upstream: { username: u, password_file: \"\(secret)\" }", in: dir)
        #expect(settings.upstream.password == password)
        #expect(settings.upstream.passwordFile == secret)
    }

    @Test func anUnreadablePasswordFileNamesTheKeyThePathAndTheReason() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.path + "/nope"
        let error = #expect(throws: ConfigurationError.self) {
            try load("upstream: { username: u, password_file: \"\(missing)\" }", in: dir)
        }
        #expect(error?.file == dir.path + "/relay.yaml")
        #expect(error?.key == "upstream.password_file")
        #expect(error?.problem == "cannot read \"\(missing)\": No such file or directory")
    }

    @Test func aDirectoryAsPasswordFileReportsTheErrno() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: ConfigurationError.self) {
            try load("upstream: { username: u, password_file: \"\(dir.path)\" }", in: dir)
        }
        #expect(error?.problem == "cannot read \"\(dir.path)\": Is a directory")
    }

    @Test func anEmptyPasswordFileIsAnError() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("password", "\n")
        let error = #expect(throws: ConfigurationError.self) {
            try load("upstream: { username: u, password_file: \"\(secret)\" }", in: dir)
        }
        #expect(error?.key == "upstream.password_file")
        #expect(error?.problem.contains("is empty") == true)
    }

    @Test func passwordAndPasswordFileTogetherAreAnError() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("password", "x")
        let error = #expect(throws: ConfigurationError.self) {
            try load("upstream: { username: u, password: y, password_file: \"\(secret)\" }", in: dir)
        }
        #expect(error?.key == "upstream.password_file")
        #expect(error?.problem.contains("upstream.password") == true)
    }

    @Test func thePasswordNeverAppearsInTheRedactedDescription() throws {
        var settings = RelaySettings.defaults(hostname: "mx.test")
        settings.upstream.username = "user"
        settings.upstream.password = "hunter2-very-secret"
        #expect(!settings.redactedDescription.contains("hunter2"))
        #expect(settings.redactedDescription.contains("password: \"<redacted>\""))
        #expect(settings.redactedDescription.contains("username: \"user\""))
        settings.upstream.passwordFile = "/etc/relay/secrets/upstream-password"
        #expect(!settings.redactedDescription.contains("hunter2"))
        #expect(settings.redactedDescription.contains("password_file: \"/etc/relay/secrets/upstream-password\""))
    }
}
