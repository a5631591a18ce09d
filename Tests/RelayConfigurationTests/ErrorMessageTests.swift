import Foundation
import Testing
@testable import RelayConfiguration

/// One bad file and what the operator must be told about it; `DIR` in either text stands for a temporary directory
/// that holds a readable `tls.crt`, `tls.key`, `users` and a directory `tls-dir`.
struct BadFile: Sendable, CustomTestStringConvertible {
    var yaml: String
    var key: String
    var problem: String
    var testDescription: String { key.isEmpty ? yaml : key }
}

@Suite struct ErrorMessageTests {
    static let cases: [BadFile] = [
        BadFile(yaml: "inbound:\n  max_message_size: 10 potatoes", key: "inbound.max_message_size",
                problem: "\"10 potatoes\" is not a size (use e.g. 10MiB)"),
        BadFile(yaml: "inbound:\n  max_message_size: 0", key: "inbound.max_message_size", problem: "must be larger than 0"),
        BadFile(yaml: "upstream:\n  port: 70000", key: "upstream.port", problem: "70000 is not a port (1-65535)"),
        BadFile(yaml: "upstream:\n  port: 0", key: "upstream.port", problem: "0 is not a port (1-65535)"),
        BadFile(yaml: "inbound:\n  max_msg_size: 10MiB", key: "inbound.max_msg_size",
                problem: "is not a known key (did you mean inbound.max_message_size?)"),
        BadFile(yaml: "upstrem:\n  host: x", key: "upstrem", problem: "is not a known key (did you mean upstream?)"),
        BadFile(yaml: "colour: blue", key: "colour", problem: "is not a known key"),
        BadFile(yaml: "upstream:\n  connections: 0", key: "upstream.connections", problem: "0 is too small (at least 1)"),
        BadFile(yaml: "inbound:\n  max_recipients: 0", key: "inbound.max_recipients", problem: "0 is too small (at least 1)"),
        BadFile(yaml: "inbound:\n  max_connections: -5", key: "inbound.max_connections", problem: "-5 is too small (at least 1)"),
        BadFile(yaml: "inbound:\n  max_connections: lots", key: "inbound.max_connections",
                problem: "\"lots\" is not a whole number"),
        BadFile(yaml: "retry:\n  multiplier: 0.5", key: "retry.multiplier", problem: "0.5 is too small (at least 1)"),
        BadFile(yaml: "retry:\n  jitter: 1", key: "retry.jitter", problem: "1.0 is out of range (0 or more, less than 1; e.g. 0.2 for ±20%)"),
        BadFile(yaml: "retry:\n  jitter: -0.1", key: "retry.jitter", problem: "-0.1 is out of range (0 or more, less than 1; e.g. 0.2 for ±20%)"),
        BadFile(yaml: "retry:\n  first: 2h\n  max: 1h", key: "retry.first", problem: "retry.first (2h) is longer than retry.max (1h)"),
        BadFile(yaml: "retry:\n  max: 30s", key: "retry.max", problem: "retry.first (1m) is longer than retry.max (30s)"),
        BadFile(yaml: "retry:\n  lifetime: 0s", key: "retry.lifetime", problem: "must be longer than 0s"),
        BadFile(yaml: "shutdown:\n  drain: soon", key: "shutdown.drain", problem: "\"soon\" is not a duration (use e.g. 90s, 5m, 1h, 5d)"),
        BadFile(yaml: "reload:\n  watch_interval: often", key: "reload.watch_interval",
                problem: "\"often\" is not a duration (use e.g. 90s, 5m, 1h, 5d)"),
        BadFile(yaml: "inbound:\n  command_timeout: 5", key: "inbound.command_timeout",
                problem: "5 is not a duration (use e.g. 90s, 5m, 1h, 5d)"),
        BadFile(yaml: "listen:\n  smtp: []", key: "listen.smtp", problem: "must list at least one address, e.g. [\"0.0.0.0:2525\"]"),
        BadFile(yaml: "listen:\n  smtp: [localhost]", key: "listen.smtp", problem: "\"localhost\" is not host:port (write IPv6 as [::]:2525)"),
        BadFile(yaml: "listen:\n  smtp: \"127.0.0.1:2525\"", key: "listen.smtp", problem: "must be a list, e.g. [\"a\", \"b\"]"),
        BadFile(yaml: "listen:\n  admin: nope", key: "listen.admin", problem: "\"nope\" is not host:port (write IPv6 as [::]:2525)"),
        BadFile(yaml: "listen:\n  control: /\(String(repeating: "d", count: 120))", key: "listen.control",
                problem: "is 121 bytes; a socket path must be at most 107"),
        BadFile(yaml: "hostname: relay example", key: "hostname",
                problem: "\"relay example\" contains a space; use a host name like relay.example.com"),
        BadFile(yaml: "hostname: \"\"", key: "hostname", problem: "must not be empty"),
        BadFile(yaml: "log:\n  level: verbose", key: "log.level",
                problem: "\"verbose\" is not one of trace, debug, info, notice, warning, error, critical"),
        BadFile(yaml: "log:\n  format: text", key: "log.format", problem: "\"text\" is not one of logfmt, json"),
        BadFile(yaml: "upstream:\n  tls: ssl", key: "upstream.tls", problem: "\"ssl\" is not one of starttls, implicit, none"),
        BadFile(yaml: "upstream:\n  verify_certificate: maybe", key: "upstream.verify_certificate",
                problem: "\"maybe\" is not true or false"),
        BadFile(yaml: "bounces: always", key: "bounces", problem: "\"always\" is not one of dsn, none"),
        BadFile(yaml: "inbound:\n  allowed_networks: [10.0.0.0/33]", key: "inbound.allowed_networks",
                problem: "\"10.0.0.0/33\" is not a network (use e.g. 10.0.0.0/8 or fc00::/7)"),
        BadFile(yaml: "upstream:\n  username: u", key: "upstream.username",
                problem: "is set but neither upstream.password nor upstream.password_file is"),
        BadFile(yaml: "upstream:\n  password: p", key: "upstream.password", problem: "is set but upstream.username is empty"),
        BadFile(yaml: "upstream:\n  ca_file: /nonexistent/ca.pem", key: "upstream.ca_file",
                problem: "cannot read \"/nonexistent/ca.pem\": No such file or directory"),
        BadFile(yaml: "spool:\n  path: \"\"", key: "spool.path", problem: "must not be empty"),
        BadFile(yaml: "inbound: 5", key: "inbound", problem: "must be a mapping of keys (e.g. `inbound: { key: value }`), not a single value"),
        BadFile(yaml: "upstream:\n  host: ~", key: "upstream.host",
                problem: "has no value; write \"\" for empty or remove the line for the default"),
        BadFile(yaml: "upstream:\n  host:\n    name: x", key: "upstream.host", problem: "must be a single value, not a list or mapping"),
        // `upstreams:` entries are checked like `upstream:`, and named by their position.
        BadFile(yaml: "upstreams:\n  - host: a\n  - hots: b", key: "upstreams[1].hots",
                problem: "is not a known key (did you mean upstreams[1].host?)"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - { host: b, port: 70000 }", key: "upstreams[1].port",
                problem: "70000 is not a port (1-65535)"),
        BadFile(yaml: "upstreams:\n  - { host: a, tls: ssl }", key: "upstreams[0].tls",
                problem: "\"ssl\" is not one of starttls, implicit, none"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - host: b\n    connect_timeout: 5", key: "upstreams[1].connect_timeout",
                problem: "5 is not a duration (use e.g. 90s, 5m, 1h, 5d)"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - host: ~", key: "upstreams[1].host",
                problem: "has no value; write \"\" for empty or remove the line for the default"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - port: 2525", key: "upstreams[1].host",
                problem: "must not be empty: a fallback needs a host"),
        BadFile(yaml: "upstreams:\n  - port: 2525\n  - host: b", key: "upstreams[0].host",
                problem: "is empty, but upstreams[1].host is set; fallbacks need a primary upstream"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - { host: b, username: u }", key: "upstreams[1].username",
                problem: "is set but neither upstreams[1].password nor upstreams[1].password_file is"),
        BadFile(yaml: "upstreams:\n  - { host: a, password: p }", key: "upstreams[0].password",
                problem: "is set but upstreams[0].username is empty"),
        BadFile(yaml: "upstreams:\n  - host: a\n  - { host: b, ca_file: /nonexistent/ca.pem }", key: "upstreams[1].ca_file",
                problem: "cannot read \"/nonexistent/ca.pem\": No such file or directory"),
        BadFile(yaml: "upstreams: []", key: "upstreams", problem: "must list at least one upstream, e.g. `- { host: smtp.example.com }`"),
        BadFile(yaml: "upstreams: { host: a }", key: "upstreams",
                problem: "(for a single upstream use `upstream:`)"),
        BadFile(yaml: "upstreams:\n  - a.example.com", key: "upstreams[0]",
                problem: "must be a mapping of upstream keys, e.g. `- { host: smtp.example.com }`"),
        BadFile(yaml: "upstream: { host: a }\nupstreams:\n  - host: b", key: "upstreams",
                problem: "is set together with upstream; use `upstream:` for one smarthost or `upstreams:` for a primary "
                    + "followed by fallbacks, not both"),
        BadFile(yaml: "upstreamss:\n  - host: a", key: "upstreamss", problem: "is not a known key (did you mean upstreams?)"),
        BadFile(yaml: "- hostname: x", key: "", problem: "the top level must be a mapping of keys, e.g. `hostname: relay.example.com`"),
        // `inbound.tls` is checked like a top-level section, one level down, and named by its full path.
        BadFile(yaml: "inbound:\n  tls:\n    certificate: DIR/tls.crt", key: "inbound.tls.certificate",
                problem: "is not a known key (did you mean inbound.tls.certificate_file?)"),
        BadFile(yaml: "inbound: { tls: { requird: true } }", key: "inbound.tls.requird",
                problem: "is not a known key (did you mean inbound.tls.required?)"),
        BadFile(yaml: "inbound:\n  tsl:\n    required: true", key: "inbound.tsl", problem: "is not a known key (did you mean inbound.tls?)"),
        BadFile(yaml: "inbound:\n  tls: on", key: "inbound.tls",
                problem: "must be a mapping of keys (e.g. `tls: { key: value }`), not a single value"),
        BadFile(yaml: "inbound:\n  tls: [DIR/tls.crt, DIR/tls.key]", key: "inbound.tls",
                problem: "must be a mapping of keys (e.g. `tls: { key: value }`), not a single value"),
        BadFile(yaml: "inbound:\n  tls:\n    required: maybe", key: "inbound.tls.required", problem: "\"maybe\" is not true or false"),
        BadFile(yaml: "inbound:\n  tls:\n    certificate_file: ~", key: "inbound.tls.certificate_file",
                problem: "has no value; write \"\" for empty or remove the line for the default"),
        BadFile(yaml: "inbound:\n  tls:\n    key_file: [DIR/tls.key]", key: "inbound.tls.key_file",
                problem: "must be a single value, not a list or mapping"),
        BadFile(yaml: "inbound:\n  tls:\n    key_file: DIR/tls.key", key: "inbound.tls.certificate_file",
                problem: "must be set together with inbound.tls.key_file"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: DIR/tls.crt, required: true }", key: "inbound.tls.key_file",
                problem: "must be set together with inbound.tls.certificate_file"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: \"\", key_file: DIR/tls.key }", key: "inbound.tls.certificate_file",
                problem: "must be set together with inbound.tls.key_file"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: /nonexistent/tls.crt, key_file: DIR/tls.key }",
                key: "inbound.tls.certificate_file", problem: "cannot read \"/nonexistent/tls.crt\": No such file or directory"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: DIR/tls.crt, key_file: /nonexistent/tls.key }",
                key: "inbound.tls.key_file", problem: "cannot read \"/nonexistent/tls.key\": No such file or directory"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: DIR/tls-dir, key_file: DIR/tls.key }",
                key: "inbound.tls.certificate_file", problem: "cannot read \"DIR/tls-dir\": Is a directory"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: DIR/tls.crt, key_file: /dev/null }",
                key: "inbound.tls.key_file", problem: "cannot read \"/dev/null\": not a regular file"),
        BadFile(yaml: "inbound:\n  tls:\n    required: true", key: "inbound.tls.required",
                problem: "needs inbound.tls.certificate_file and inbound.tls.key_file"),
        BadFile(yaml: "listen:\n  smtps: [\"0.0.0.0:465\"]", key: "listen.smtps",
                problem: "needs inbound.tls.certificate_file and inbound.tls.key_file"),
        BadFile(yaml: "listen:\n  smtps: [465]", key: "listen.smtps", problem: "465 is not host:port (write IPv6 as [::]:2525)"),
        BadFile(yaml: "listen:\n  smtps: \"0.0.0.0:465\"", key: "listen.smtps", problem: "must be a list, e.g. [\"a\", \"b\"]"),
        // inbound.auth: the users file must be readable, AUTH needs it to be required, and passwords need TLS.
        BadFile(yaml: "inbound:\n  auth: { users_file: /nonexistent/users, allow_plaintext_loopback: true }",
                key: "inbound.auth.users_file", problem: "cannot read \"/nonexistent/users\": No such file or directory"),
        BadFile(yaml: "inbound:\n  tls: { certificate_file: DIR/tls.crt, key_file: DIR/tls.key }\n  auth: { users_file: DIR/tls-dir }",
                key: "inbound.auth.users_file", problem: "cannot read \"DIR/tls-dir\": Is a directory"),
        BadFile(yaml: "inbound:\n  auth: { users_file: /dev/null, allow_plaintext_loopback: true }",
                key: "inbound.auth.users_file", problem: "cannot read \"/dev/null\": not a regular file"),
        BadFile(yaml: "inbound:\n  auth:\n    required: true", key: "inbound.auth.required", problem: "needs inbound.auth.users_file"),
        BadFile(yaml: "inbound:\n  auth:\n    users_file: DIR/users", key: "inbound.auth.users_file",
                problem: "AUTH is offered only over TLS: set inbound.tls.certificate_file and key_file "
                    + "(or inbound.auth.allow_plaintext_loopback for clients on this machine)"),
        BadFile(yaml: "inbound:\n  auth: { users_file: DIR/users, allow_plaintext_loopback: false, required: true }",
                key: "inbound.auth.users_file",
                problem: "AUTH is offered only over TLS: set inbound.tls.certificate_file and key_file "
                    + "(or inbound.auth.allow_plaintext_loopback for clients on this machine)"),
        BadFile(yaml: "inbound:\n  auth:\n    allow_plaintext_loopback: maybe", key: "inbound.auth.allow_plaintext_loopback",
                problem: "\"maybe\" is not true or false"),
        BadFile(yaml: "inbound:\n  auth:\n    users: DIR/users", key: "inbound.auth.users",
                problem: "is not a known key (did you mean inbound.auth.users_file?)"),
        BadFile(yaml: "inbound:\n  auth: DIR/users", key: "inbound.auth",
                problem: "must be a mapping of keys (e.g. `auth: { key: value }`), not a single value"),
        // inbound.allowed_sender_domains: each item a domain, the bad one named as written.
        BadFile(yaml: "inbound:\n  allowed_sender_domains: [example.com, postmaster@example.org]",
                key: "inbound.allowed_sender_domains",
                problem: "\"postmaster@example.org\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)"),
        BadFile(yaml: "inbound:\n  allowed_sender_domains: [\"example .com\"]", key: "inbound.allowed_sender_domains",
                problem: "\"example .com\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)"),
        BadFile(yaml: "inbound:\n  allowed_sender_domains: [example.com, \"\"]", key: "inbound.allowed_sender_domains",
                problem: "\"\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)"),
        BadFile(yaml: "inbound:\n  allowed_sender_domains: [example..com]", key: "inbound.allowed_sender_domains",
                problem: "\"example..com\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)"),
        BadFile(yaml: "inbound:\n  allowed_sender_domains: [\"*.example.com\"]", key: "inbound.allowed_sender_domains",
                problem: "\"*.example.com\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)"),
        BadFile(yaml: "inbound:\n  allowed_sender_domains: example.com", key: "inbound.allowed_sender_domains",
                problem: "must be a list, e.g. [\"a\", \"b\"]"),
        // inbound.rate: whole numbers, 0 (unlimited) or more.
        BadFile(yaml: "inbound:\n  rate:\n    messages_per_minute: -1", key: "inbound.rate.messages_per_minute",
                problem: "-1 is too small (at least 0)"),
        BadFile(yaml: "inbound:\n  rate: { connections_per_minute: -10 }", key: "inbound.rate.connections_per_minute",
                problem: "-10 is too small (at least 0)"),
        BadFile(yaml: "inbound:\n  rate:\n    messages_per_minute: 1.5", key: "inbound.rate.messages_per_minute",
                problem: "1.5 is not a whole number"),
        BadFile(yaml: "inbound:\n  rate:\n    messages_per_hour: 10", key: "inbound.rate.messages_per_hour",
                problem: "is not a known key (did you mean inbound.rate.messages_per_minute?)"),
    ]

    @Test(arguments: cases)
    func namesFileKeyAndProblem(_ bad: BadFile) throws {
        let dir = try TemporaryDirectory()
        try dir.write("tls.crt", "certificate\n")
        try dir.write("tls.key", "key\n")
        try dir.write("users", "app:$scrypt$placeholder\n")
        try FileManager.default.createDirectory(atPath: dir.path + "/tls-dir", withIntermediateDirectories: false)
        func here(_ text: String) -> String { text.replacingOccurrences(of: "DIR/", with: dir.path + "/") }
        let file = try dir.write("relay.yaml", here(bad.yaml) + "\n")
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        }
        #expect(error?.file == file)
        #expect(error?.key == bad.key)
        #expect(error?.problem.hasSuffix(here(bad.problem)) == true, "\(error?.problem ?? "no error")")
        let prefix = bad.key.isEmpty ? "\(file): " : "\(file): \(bad.key): "
        #expect(error?.description.hasPrefix(prefix) == true)
    }

    @Test func aMissingConfigFileIsAnError() {
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: "/nonexistent/relay.yaml", environment: [:], defaultHostname: "mx.test")
        }
        #expect(error?.description == "/nonexistent/relay.yaml: cannot read the configuration file: No such file or directory")
    }

    @Test func invalidYAMLNamesTheFileAndPosition() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", "hostname: relay.example.com\nlisten:\n  smtp: [\"127.0.0.1:2525\"\n")
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        }
        #expect(error?.description.hasPrefix("\(file): is not valid YAML: line ") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
    }

    @Test func aDuplicatedKeyIsAnError() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", "hostname: a.example.com\nhostname: b.example.com\n")
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        }
        #expect(error?.description == "\(file): is not valid YAML: hostname appears more than once in the same mapping")
    }

    @Test func anErrorFromADefaultNamesNoSource() {
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: nil, environment: [:], defaultHostname: "")
        }
        #expect(error?.description == "hostname: must not be empty")
    }
}
