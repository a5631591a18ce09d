import Foundation
import Testing
import Transport
@testable import RelayConfiguration

@Suite struct FileLoadingTests {
    /// `DIR` stands for the test's temporary directory, which holds the certificate, the key and the users file.
    static let fullFile = """
        # every key set to something other than its default
        hostname: relay.example.com
        log: { format: json, level: debug }
        listen:
          smtp: ["0.0.0.0:2525", "[::]:2526"]
          smtps: ["0.0.0.0:4650", "[::]:4650"]
          admin: "127.0.0.1:9100"
          control: /run/relay/relay.sock
        spool: { path: /var/spool/relay }
        outbox: { path: /var/outbox }
        inbound:
          allowed_networks: [10.1.0.0/16, "fd00::/8", 192.0.2.7]
          max_message_size: 25MB
          max_recipients: 50
          max_connections: 200
          command_timeout: 90s
          data_timeout: 15m
          tls:
            certificate_file: DIR/tls.crt
            key_file: DIR/tls.key
            required: true
          auth:
            users_file: DIR/users
            required: true
            allow_plaintext_loopback: true
          allowed_sender_domains: [Example.com, " mail.example.org", xn--bcher-kva.example]
          rate: { messages_per_minute: 120, connections_per_minute: 30 }
        upstream:
          host: smtp-relay.brevo.com
          port: 465
          tls: implicit
          verify_certificate: false
          ca_file: ""
          username: user@example.com
          password: s3cret
          password_file: ""
          connections: 8
        retry: { first: 30s, max: 2h, multiplier: 1.5, jitter: 0.1, lifetime: 3d }
        bounces: none
        shutdown: { drain: 2m }
        reload: { watch_interval: 30s }
        """

    @Test func aFullFileParsesIntoTheExpectedSettings() throws {
        let dir = try TemporaryDirectory()
        let certificate = try dir.write("tls.crt", "certificate\n")
        let key = try dir.write("tls.key", "key\n")
        let users = try dir.write("users", "app:$scrypt$placeholder\n")
        let file = try dir.write("relay.yaml", Self.fullFile.replacingOccurrences(of: "DIR/", with: dir.path + "/"))
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "ignored.test")
        let expected = RelaySettings(
            hostname: "relay.example.com",
            log: LogSettings(format: .json, level: .debug),
            listen: ListenSettings(
                smtp: [ListenAddress(host: "0.0.0.0", port: 2525), ListenAddress(host: "::", port: 2526)],
                admin: ListenAddress(host: "127.0.0.1", port: 9100),
                control: "/run/relay/relay.sock",
                smtps: [ListenAddress(host: "0.0.0.0", port: 4650), ListenAddress(host: "::", port: 4650)]),
            spool: SpoolSettings(path: "/var/spool/relay"),
            outbox: OutboxSettings(path: "/var/outbox"),
            inbound: InboundSettings(
                allowedNetworks: [IPNetwork("10.1.0.0/16")!, IPNetwork("fd00::/8")!, IPNetwork("192.0.2.7/32")!],
                maxMessageSize: 25_000_000, maxRecipients: 50, maxConnections: 200,
                commandTimeout: .seconds(90), dataTimeout: .seconds(900),
                tls: InboundTLSSettings(certificateFile: certificate, keyFile: key, required: true),
                auth: InboundAuthSettings(usersFile: users, required: true, allowPlaintextLoopback: true),
                allowedSenderDomains: ["example.com", "mail.example.org", "xn--bcher-kva.example"],
                rate: InboundRateSettings(messagesPerMinute: 120, connectionsPerMinute: 30)),
            upstream: UpstreamSettings(
                host: "smtp-relay.brevo.com", port: 465, tls: .implicit, verifyCertificate: false, caFile: "",
                username: "user@example.com", password: "s3cret", passwordFile: "", connections: 8),
            retry: RetrySettings(first: .seconds(30), max: .seconds(7200), multiplier: 1.5, jitter: 0.1,
                                 lifetime: .seconds(3 * 86_400)),
            bounces: BounceMode.none,
            shutdown: ShutdownSettings(drain: .seconds(120)),
            reload: ReloadSettings(watchInterval: .seconds(30)))
        #expect(settings == expected)
    }

    @Test func keysLeftOutOfTheFileKeepTheirDefaults() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", "upstream:\n  host: mail.example.net\nretry:\n  max: 2h\n")
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        var expected = RelaySettings.defaults(hostname: "mx.test")
        expected.upstream.host = "mail.example.net"
        expected.retry.max = .seconds(7200)
        #expect(settings == expected)
    }

    /// `inbound.tls` is a section inside a section; flow and block style nest the same way at any depth, and the
    /// keys around a nested section are still read.
    @Test(arguments: [
        "inbound: { tls: { certificate_file: DIR/tls.crt, key_file: DIR/tls.key, required: true } }\n",
        "inbound:\n  tls:\n    certificate_file: DIR/tls.crt\n    key_file: DIR/tls.key\n    required: true\n",
        "inbound:\n  tls: { certificate_file: DIR/tls.crt, key_file: DIR/tls.key, required: true }\n",
        "inbound:\n  max_recipients: 7\n  tls:\n    required: yes\n    key_file: DIR/tls.key\n"
            + "    certificate_file: DIR/tls.crt\n  max_connections: 9\n",
    ])
    func nestedSectionsReadTheSameInFlowAndBlockStyle(_ yaml: String) throws {
        let dir = try TemporaryDirectory()
        let certificate = try dir.write("tls.crt", "c")
        let key = try dir.write("tls.key", "k")
        let file = try dir.write("relay.yaml", yaml.replacingOccurrences(of: "DIR/", with: dir.path + "/"))
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        var expected = RelaySettings.defaults(hostname: "mx.test")
        expected.inbound.tls = InboundTLSSettings(certificateFile: certificate, keyFile: key, required: true)
        if yaml.contains("max_recipients") {
            expected.inbound.maxRecipients = 7
            expected.inbound.maxConnections = 9
        }
        #expect(settings == expected)
    }

    @Test func anEmptyTLSSectionSetsNothing() throws {
        let dir = try TemporaryDirectory()
        for yaml in ["inbound:\n  tls:\n", "inbound:\n  tls: {}\n", "inbound:\n  tls: ~\n", "inbound: { tls: }\n"] {
            let file = try dir.write("relay.yaml", yaml)
            let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
            #expect(settings == RelaySettings.defaults(hostname: "mx.test"), "\(yaml)")
        }
    }

    @Test func emptyAdminAddressDisablesTheAdminListener() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("relay.yaml", "listen:\n  admin: \"\"\n")
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        #expect(settings.listen.admin == nil)
    }

    @Test func productionExampleLoadsWithItsSecretMountedElsewhere() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("upstream-password", "xsmtpsib-key\n")
        let settings = try RelaySettings.load(
            configFile: repositoryRoot + "/config/relay.yaml",
            environment: ["RELAY_UPSTREAM_PASSWORD_FILE": secret], defaultHostname: "unused.invalid")
        #expect(settings.upstream.host == "smtp-relay.brevo.com")
        #expect(settings.upstream.port == 587)
        #expect(settings.upstream.tls == .starttls)
        #expect(settings.upstream.password == "xsmtpsib-key")
        #expect(settings.listen.smtp == [ListenAddress(host: "0.0.0.0", port: 2525)])
        #expect(settings.listen.admin == ListenAddress(host: "0.0.0.0", port: 9025))
        #expect(settings.listen.control == "/var/run/relay/relay.sock")
        #expect(settings.spool.path == "/var/spool/relay")
    }

    @Test func productionExamplesCommentedOutFallbackListLoads() throws {
        // The example is commented out in config/relay.yaml; uncommented on its own, it must be a valid list.
        let production = try String(contentsOfFile: repositoryRoot + "/config/relay.yaml", encoding: .utf8)
        let example = production.split(separator: "\n", omittingEmptySubsequences: false)
            .drop { $0 != "# upstreams:" }
            .prefix { $0.hasPrefix("#") && $0 != "#" }
            .map { $0.dropFirst(2) }
            .joined(separator: "\n")
        let dir = try TemporaryDirectory()
        let file = try dir.write("fallback.yaml", example)
        let settings = try RelaySettings.load(configFile: file, environment: [
            "RELAY_UPSTREAM_PASSWORD_FILE": try dir.write("brevo", "brevo-key\n"),
            "RELAY_UPSTREAMS_1_PASSWORD_FILE": try dir.write("ses", "ses-key\n"),
        ], defaultHostname: "unused.invalid")
        #expect(settings.upstream.host == "smtp-relay.brevo.com")
        #expect(settings.upstream.password == "brevo-key")
        #expect(settings.fallbackUpstreams.map(\.host) == ["email-smtp.eu-west-1.amazonaws.com"])
        #expect(settings.fallbackUpstreams.first?.password == "ses-key")
    }

    @Test func productionExamplesCommentedOutTLSSettingsLoad() throws {
        // Uncommented in place, `smtps:` and the `tls:` block under `inbound:` must be valid keys.
        let production = try String(contentsOfFile: repositoryRoot + "/config/relay.yaml", encoding: .utf8)
        var inTLSBlock = false
        var uncommented = 0
        let example = production.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line == "  # tls:" {
                inTLSBlock = true
            } else if !(inTLSBlock && line.hasPrefix("  #   ")) {
                inTLSBlock = false
                guard line.hasPrefix("  # smtps:") else { return String(line) }
            }
            uncommented += 1
            return "  " + line.dropFirst(4)
        }.joined(separator: "\n")
        #expect(uncommented == 5)
        let dir = try TemporaryDirectory()
        let file = try dir.write("tls.yaml", example)
        let password = try dir.write("upstream-password", "xsmtpsib-key\n")

        // The block's own paths are read: they do not exist here.
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: file, environment: ["RELAY_UPSTREAM_PASSWORD_FILE": password], defaultHostname: "unused.invalid")
        }
        #expect(error?.description == "\(file): inbound.tls.certificate_file: "
            + "cannot read \"/etc/relay/tls/tls.crt\": No such file or directory")

        let settings = try RelaySettings.load(configFile: file, environment: [
            "RELAY_UPSTREAM_PASSWORD_FILE": password,
            "RELAY_INBOUND_TLS_CERTIFICATE_FILE": try dir.write("tls.crt", "c"),
            "RELAY_INBOUND_TLS_KEY_FILE": try dir.write("tls.key", "k"),
        ], defaultHostname: "unused.invalid")
        #expect(settings.listen.smtps == [ListenAddress(host: "0.0.0.0", port: 4650)])
        #expect(settings.inbound.tls.isEnabled)
        #expect(settings.inbound.tls.required == false)
    }

    @Test func productionExamplesCommentedOutAuthSenderAndRateSettingsLoad() throws {
        // Uncommented in place (with the TLS block, which AUTH needs), they must be valid keys.
        let production = try String(contentsOfFile: repositoryRoot + "/config/relay.yaml", encoding: .utf8)
        let blockStarts: Set<String> = ["  # tls:", "  # auth:", "  # rate:"]
        var inBlock = false
        var uncommented = 0
        let example = production.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if blockStarts.contains(String(line)) {
                inBlock = true
            } else if !(inBlock && line.hasPrefix("  #   ")) {
                inBlock = false
                guard line.hasPrefix("  # allowed_sender_domains:") else { return String(line) }
            }
            uncommented += 1
            return "  " + line.dropFirst(4)
        }.joined(separator: "\n")
        // tls: and its 3 keys, auth: and its 3, allowed_sender_domains, rate: and its 2.
        #expect(uncommented == 12)
        let dir = try TemporaryDirectory()
        let file = try dir.write("auth.yaml", example)
        let environment = [
            "RELAY_UPSTREAM_PASSWORD_FILE": try dir.write("upstream-password", "xsmtpsib-key\n"),
            "RELAY_INBOUND_TLS_CERTIFICATE_FILE": try dir.write("tls.crt", "c"),
            "RELAY_INBOUND_TLS_KEY_FILE": try dir.write("tls.key", "k"),
        ]

        // The block's own users file is read: it does not exist here.
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: file, environment: environment, defaultHostname: "unused.invalid")
        }
        #expect(error?.key == "inbound.auth.users_file")
        #expect(error?.description.hasPrefix("\(file): inbound.auth.users_file: cannot read \"/etc/relay/") == true)

        let users = try dir.write("users", "app:$scrypt$placeholder\n")
        let settings = try RelaySettings.load(
            configFile: file, environment: environment.merging(["RELAY_INBOUND_AUTH_USERS_FILE": users]) { $1 },
            defaultHostname: "unused.invalid")
        #expect(settings.inbound.auth == InboundAuthSettings(usersFile: users, required: false, allowPlaintextLoopback: false))
        #expect(!settings.inbound.allowedSenderDomains.isEmpty)
        #expect(settings.inbound.rate.messagesPerMinute > 0)
        #expect(settings.inbound.rate.connectionsPerMinute > 0)
    }

    /// `inbound.auth` and `inbound.rate` nest like `inbound.tls`; a section written empty sets nothing.
    @Test func authAndRateSectionsNestLikeTLS() throws {
        let dir = try TemporaryDirectory()
        let users = try dir.write("users", "app:$scrypt$placeholder\n")
        let file = try dir.write("relay.yaml", """
            inbound:
              auth: { users_file: "\(users)", allow_plaintext_loopback: yes }
              rate:
                connections_per_minute: 0
                messages_per_minute: 10
            """)
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        var expected = RelaySettings.defaults(hostname: "mx.test")
        expected.inbound.auth = InboundAuthSettings(usersFile: users, allowPlaintextLoopback: true)
        expected.inbound.rate = InboundRateSettings(messagesPerMinute: 10)
        #expect(settings == expected)
        for yaml in ["inbound:\n  auth:\n  rate: {}\n", "inbound: { auth: ~, rate: , allowed_sender_domains: [] }\n"] {
            let empty = try dir.write("empty.yaml", yaml)
            #expect(try RelaySettings.load(configFile: empty, environment: [:], defaultHostname: "mx.test")
                == RelaySettings.defaults(hostname: "mx.test"), "\(yaml)")
        }
    }

    @Test func productionExampleWithoutItsSecretNamesThePasswordFile() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(
                configFile: repositoryRoot + "/config/relay.yaml", environment: [:], defaultHostname: "unused.invalid")
        }
        #expect(error?.key == "upstream.password_file")
        #expect(error?.description.contains("/etc/relay/secrets/upstream-password") == true)
    }
}
