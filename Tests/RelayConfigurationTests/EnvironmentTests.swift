import Testing
import Transport
@testable import RelayConfiguration

@Suite struct EnvironmentTests {
    @Test func variablesOverrideTheFile() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", """
            hostname: from-file.example.com
            listen: { smtp: ["127.0.0.1:2525"] }
            upstream: { host: file.example.com, port: 2525 }
            inbound: { max_message_size: 1MiB }
            """)
        let settings = try RelaySettings.load(configFile: file, environment: [
            "RELAY_HOSTNAME": "from-env.example.com",
            "RELAY_UPSTREAM_HOST": "env.example.com",
            "RELAY_INBOUND_MAX_MESSAGE_SIZE": "20MiB",
            "RELAY_LISTEN_SMTP": "0.0.0.0:25, [::]:25",
        ], defaultHostname: "default.test")
        #expect(settings.hostname == "from-env.example.com")
        #expect(settings.upstream.host == "env.example.com")
        #expect(settings.upstream.port == 2525, "keys not in the environment still come from the file")
        #expect(settings.inbound.maxMessageSize == 20 << 20)
        #expect(settings.listen.smtp == [ListenAddress(host: "0.0.0.0", port: 25), ListenAddress(host: "::", port: 25)])
    }

    @Test func everyKeyCanBeSetFromTheEnvironment() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("secret", "pw\n")
        let certificate = try dir.write("tls.crt", "certificate\n")
        let key = try dir.write("tls.key", "key\n")
        let users = try dir.write("users", "app:$scrypt$placeholder\n")
        let environment = [
            "RELAY_HOSTNAME": "env.example.com",
            "RELAY_LOG_FORMAT": "json",
            "RELAY_LOG_LEVEL": "warning",
            "RELAY_LISTEN_SMTP": "0.0.0.0:2525",
            "RELAY_LISTEN_SMTPS": "0.0.0.0:4650, [::]:4650",
            "RELAY_LISTEN_ADMIN": "",
            "RELAY_LISTEN_CONTROL": "/run/r.sock",
            "RELAY_SPOOL_PATH": "/s",
            "RELAY_OUTBOX_PATH": "/o",
            "RELAY_INBOUND_ALLOWED_NETWORKS": "10.0.0.0/8,::1",
            "RELAY_INBOUND_MAX_MESSAGE_SIZE": "512KiB",
            "RELAY_INBOUND_MAX_RECIPIENTS": "7",
            "RELAY_INBOUND_MAX_CONNECTIONS": "9",
            "RELAY_INBOUND_COMMAND_TIMEOUT": "30s",
            "RELAY_INBOUND_DATA_TIMEOUT": "2m",
            "RELAY_INBOUND_TLS_CERTIFICATE_FILE": certificate,
            "RELAY_INBOUND_TLS_KEY_FILE": key,
            "RELAY_INBOUND_TLS_REQUIRED": "yes",
            "RELAY_INBOUND_AUTH_USERS_FILE": users,
            "RELAY_INBOUND_AUTH_REQUIRED": "true",
            "RELAY_INBOUND_AUTH_ALLOW_PLAINTEXT_LOOPBACK": "on",
            "RELAY_INBOUND_ALLOWED_SENDER_DOMAINS": "Example.COM, mail.example.org",
            "RELAY_INBOUND_RATE_MESSAGES_PER_MINUTE": "30",
            "RELAY_INBOUND_RATE_CONNECTIONS_PER_MINUTE": "12",
            "RELAY_UPSTREAM_HOST": "up.example.com",
            "RELAY_UPSTREAM_PORT": "2587",
            "RELAY_UPSTREAM_TLS": "none",
            "RELAY_UPSTREAM_VERIFY_CERTIFICATE": "false",
            "RELAY_UPSTREAM_CA_FILE": secret,
            "RELAY_UPSTREAM_USERNAME": "u",
            "RELAY_UPSTREAM_PASSWORD_FILE": secret,
            "RELAY_UPSTREAM_CONNECTIONS": "2",
            "RELAY_UPSTREAM_CONNECT_TIMEOUT": "7s",
            "RELAY_UPSTREAM_COMMAND_TIMEOUT": "45s",
            "RELAY_UPSTREAM_DATA_TIMEOUT": "3m",
            "RELAY_UPSTREAM_IDLE_TIMEOUT": "2s",
            "RELAY_RETRY_FIRST": "250ms",
            "RELAY_RETRY_MAX": "10m",
            "RELAY_RETRY_MULTIPLIER": "3",
            "RELAY_RETRY_JITTER": "0",
            "RELAY_RETRY_LIFETIME": "1d",
            "RELAY_BOUNCES": "none",
            "RELAY_SHUTDOWN_DRAIN": "45s",
            "RELAY_RELOAD_WATCH_INTERVAL": "0s",
        ]
        let settings = try RelaySettings.load(configFile: nil, environment: environment, defaultHostname: "d.test")
        let expected = RelaySettings(
            hostname: "env.example.com",
            log: LogSettings(format: .json, level: .warning),
            listen: ListenSettings(
                smtp: [ListenAddress(host: "0.0.0.0", port: 2525)], admin: nil, control: "/run/r.sock",
                smtps: [ListenAddress(host: "0.0.0.0", port: 4650), ListenAddress(host: "::", port: 4650)]),
            spool: SpoolSettings(path: "/s"),
            outbox: OutboxSettings(path: "/o"),
            inbound: InboundSettings(
                allowedNetworks: [IPNetwork("10.0.0.0/8")!, IPNetwork("::1/128")!], maxMessageSize: 524_288,
                maxRecipients: 7, maxConnections: 9, commandTimeout: .seconds(30), dataTimeout: .seconds(120),
                tls: InboundTLSSettings(certificateFile: certificate, keyFile: key, required: true),
                auth: InboundAuthSettings(usersFile: users, required: true, allowPlaintextLoopback: true),
                allowedSenderDomains: ["example.com", "mail.example.org"],
                rate: InboundRateSettings(messagesPerMinute: 30, connectionsPerMinute: 12)),
            upstream: UpstreamSettings(
                host: "up.example.com", port: 2587, tls: .none, verifyCertificate: false, caFile: secret,
                username: "u", password: "pw", passwordFile: secret, connections: 2, connectTimeout: .seconds(7),
                commandTimeout: .seconds(45), dataTimeout: .seconds(180), idleTimeout: .seconds(2)),
            retry: RetrySettings(first: .milliseconds(250), max: .seconds(600), multiplier: 3, jitter: 0,
                                 lifetime: .seconds(86_400)),
            bounces: BounceMode.none,
            shutdown: ShutdownSettings(drain: .seconds(45)),
            reload: ReloadSettings(watchInterval: .zero))
        #expect(settings == expected)
        // The table above must cover every key, or this test silently stops testing new ones.
        #expect(Set(environment.keys) == Set(SettingKey.allCases.map(\.environmentName)).subtracting(["RELAY_UPSTREAM_PASSWORD"]))
    }

    @Test func passwordCanComeFromTheEnvironment() throws {
        let settings = try RelaySettings.load(
            configFile: nil, environment: ["RELAY_UPSTREAM_USERNAME": "u", "RELAY_UPSTREAM_PASSWORD": "p"],
            defaultHostname: "mx.test")
        #expect(settings.upstream.password == "p")
    }

    @Test func launcherVariablesAndForeignVariablesAreIgnored() throws {
        let settings = try RelaySettings.load(configFile: nil, environment: [
            "RELAY_CONFIG": "/etc/relay/relay.yaml",
            "RELAY_CONTROL_SOCKET": "/run/x.sock",
            "PATH": "/usr/bin",
            "UPSTREAM_HOST": "not-ours.example.com",
            "relay_upstream_host": "lowercase.example.com",
        ], defaultHostname: "mx.test")
        #expect(settings == RelaySettings.defaults(hostname: "mx.test"))
    }

    @Test func aMistypedVariableIsAnErrorWithASuggestion() {
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: nil, environment: ["RELAY_UPSTREAM_HOTS": "x"], defaultHostname: "mx.test")
        }
        #expect(error?.description
            == "environment variable RELAY_UPSTREAM_HOTS: is not a configuration variable (did you mean RELAY_UPSTREAM_HOST?)")
    }

    @Test func aBadValueNamesTheVariableAndTheKey() {
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: nil, environment: ["RELAY_UPSTREAM_PORT": "70000"], defaultHostname: "mx.test")
        }
        #expect(error?.description == "environment variable RELAY_UPSTREAM_PORT: upstream.port: 70000 is not a port (1-65535)")
    }

    /// An empty `RELAY_LISTEN_SMTPS` switches off implicit-TLS listeners the file configures, unlike listen.smtp.
    @Test func anEmptySMTPSVariableRemovesTheFilesImplicitTLSListeners() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", """
            listen: { smtps: ["0.0.0.0:465"] }
            inbound: { tls: { certificate_file: "\(try dir.write("tls.crt", "c"))", key_file: "\(try dir.write("tls.key", "k"))" } }
            """)
        let fromFile = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        #expect(fromFile.listen.smtps == [ListenAddress(host: "0.0.0.0", port: 465)])
        let settings = try RelaySettings.load(
            configFile: file, environment: ["RELAY_LISTEN_SMTPS": "", "RELAY_INBOUND_TLS_REQUIRED": "true"],
            defaultHostname: "mx.test")
        #expect(settings.listen.smtps == [])
        #expect(settings.inbound.tls.required)
        #expect(settings.inbound.tls.isEnabled)
    }

    /// A variable that leaves a certificate without its key is reported against the variable's source.
    @Test func aCertificateFromTheEnvironmentWithoutAKeyNamesTheVariable() throws {
        let dir = try TemporaryDirectory()
        let certificate = try dir.write("tls.crt", "c")
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: nil, environment: ["RELAY_INBOUND_TLS_CERTIFICATE_FILE": certificate], defaultHostname: "mx.test")
        }
        #expect(error?.description == "environment variable RELAY_INBOUND_TLS_CERTIFICATE_FILE: inbound.tls.key_file: "
            + "must be set together with inbound.tls.certificate_file")
    }

    /// `RELAY_INBOUND_ALLOWED_SENDER_DOMAINS=""` lifts the file's sender restriction, like the other lists.
    @Test func senderDomainsFromTheEnvironmentReplaceTheFilesList() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", "inbound: { allowed_sender_domains: [example.com] }\n")
        let fromFile = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        #expect(fromFile.inbound.allowedSenderDomains == ["example.com"])
        let cleared = try RelaySettings.load(
            configFile: file, environment: ["RELAY_INBOUND_ALLOWED_SENDER_DOMAINS": ""], defaultHostname: "mx.test")
        #expect(cleared.inbound.allowedSenderDomains == [])
        let replaced = try RelaySettings.load(
            configFile: file, environment: ["RELAY_INBOUND_ALLOWED_SENDER_DOMAINS": "a.example, B.Example "],
            defaultHostname: "mx.test")
        #expect(replaced.inbound.allowedSenderDomains == ["a.example", "b.example"])
    }

    @Test func aBadSenderDomainOrRateInTheEnvironmentNamesTheVariable() {
        let domainError = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: nil, environment: ["RELAY_INBOUND_ALLOWED_SENDER_DOMAINS": "example.com,,b.example"],
                defaultHostname: "mx.test")
        }
        #expect(domainError?.description == "environment variable RELAY_INBOUND_ALLOWED_SENDER_DOMAINS: "
            + "inbound.allowed_sender_domains: \"\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)")
        let rateError = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: nil, environment: ["RELAY_INBOUND_RATE_CONNECTIONS_PER_MINUTE": "-1"], defaultHostname: "mx.test")
        }
        #expect(rateError?.description == "environment variable RELAY_INBOUND_RATE_CONNECTIONS_PER_MINUTE: "
            + "inbound.rate.connections_per_minute: -1 is too small (at least 0)")
    }

    /// Without a certificate the variable enabling AUTH is where the fix goes, so it is the source named.
    @Test func aUsersFileFromTheEnvironmentWithoutTLSNamesTheVariable() throws {
        let dir = try TemporaryDirectory()
        let users = try dir.write("users", "app:$scrypt$placeholder\n")
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: nil, environment: ["RELAY_INBOUND_AUTH_USERS_FILE": users], defaultHostname: "mx.test")
        }
        #expect(error?.description == "environment variable RELAY_INBOUND_AUTH_USERS_FILE: inbound.auth.users_file: "
            + "AUTH is offered only over TLS: set inbound.tls.certificate_file and key_file "
            + "(or inbound.auth.allow_plaintext_loopback for clients on this machine)")
        let loopback = try RelaySettings.load(
            configFile: nil,
            environment: ["RELAY_INBOUND_AUTH_USERS_FILE": users, "RELAY_INBOUND_AUTH_ALLOW_PLAINTEXT_LOOPBACK": "true"],
            defaultHostname: "mx.test")
        #expect(loopback.inbound.auth == InboundAuthSettings(usersFile: users, allowPlaintextLoopback: true))
        #expect(loopback.inbound.auth.isEnabled)
    }

    @Test func anEmptyListVariableIsAnEmptyList() throws {
        let settings = try RelaySettings.load(
            configFile: nil, environment: ["RELAY_INBOUND_ALLOWED_NETWORKS": ""], defaultHostname: "mx.test")
        #expect(settings.inbound.allowedNetworks.isEmpty)
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: nil, environment: ["RELAY_LISTEN_SMTP": ""], defaultHostname: "mx.test")
        }
        #expect(error?.key == "listen.smtp")
    }
}
