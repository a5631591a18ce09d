import Testing
import Transport
@testable import RelayConfiguration

@Suite struct DefaultsTests {
    @Test func defaultsMatchTheDocumentedContract() {
        let settings = RelaySettings.defaults(hostname: "mx.test")
        #expect(settings.hostname == "mx.test")
        #expect(settings.log == LogSettings(format: .logfmt, level: .info))
        #expect(settings.listen.smtp == [ListenAddress(host: "127.0.0.1", port: 2525)])
        #expect(settings.listen.admin == ListenAddress(host: "127.0.0.1", port: 9025))
        #expect(settings.listen.control == "./var/run/relay.sock")
        #expect(settings.listen.smtps == [], "no implicit-TLS listener without a certificate")
        #expect(settings.spool.path == "./var/spool")
        #expect(settings.outbox.path == "./var/outbox")
        #expect(settings.inbound.allowedNetworks.map(\.description)
            == ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])
        #expect(settings.inbound.maxMessageSize == 10_485_760)
        #expect(settings.inbound.maxRecipients == 100)
        #expect(settings.inbound.maxConnections == 1000)
        #expect(settings.inbound.commandTimeout == .seconds(300))
        #expect(settings.inbound.dataTimeout == .seconds(600))
        #expect(settings.inbound.tls == InboundTLSSettings(certificateFile: "", keyFile: "", required: false))
        #expect(!settings.inbound.tls.isEnabled, "STARTTLS is not offered by default")
        #expect(settings.inbound.auth == InboundAuthSettings(usersFile: "", required: false, allowPlaintextLoopback: false))
        #expect(!settings.inbound.auth.isEnabled, "AUTH is not offered by default")
        #expect(settings.inbound.allowedSenderDomains == [], "any sender domain by default")
        #expect(settings.inbound.rate == InboundRateSettings(messagesPerMinute: 0, connectionsPerMinute: 0), "unlimited")
        #expect(settings.upstream == UpstreamSettings(
            host: "", port: 587, tls: .starttls, verifyCertificate: true, caFile: "",
            username: "", password: "", passwordFile: "", connections: 4))
        #expect(settings.retry == RetrySettings(
            first: .seconds(60), max: .seconds(3600), multiplier: 2, jitter: 0.2, lifetime: .seconds(432_000)))
        #expect(settings.bounces == .dsn)
        #expect(settings.shutdown == ShutdownSettings(drain: .zero))
        #expect(settings.reload == ReloadSettings(watchInterval: .seconds(5)))
    }

    @Test func loadingWithoutFileOrVariablesGivesTheDefaults() throws {
        let settings = try RelaySettings.load(configFile: nil, environment: ["HOME": "/root"], defaultHostname: "mx.test")
        #expect(settings == RelaySettings.defaults(hostname: "mx.test"))
    }

    @Test func devConfigFileMirrorsTheDefaults() throws {
        let settings = try RelaySettings.load(
            configFile: repositoryRoot + "/config/relay.dev.yaml", environment: [:], defaultHostname: "unused.invalid")
        #expect(settings == RelaySettings.defaults(hostname: "relay.dev.localhost"))
    }

    @Test func anEmptyFileMeansAllDefaults() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("empty.yaml", "# nothing configured yet\n")
        let settings = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        #expect(settings == RelaySettings.defaults(hostname: "mx.test"))
    }

    @Test func redactedDescriptionIsAConfigFileThatLoadsBackToTheSameSettings() throws {
        let dir = try TemporaryDirectory()
        var original = RelaySettings.defaults(hostname: "mx.test")
        original.listen.admin = nil
        original.listen.smtp.append(ListenAddress(host: "::", port: 25))
        original.inbound.maxMessageSize = 25_000_000
        original.retry.first = .seconds(90)
        original.reload.watchInterval = .zero
        // Quotes and a backslash in a path must survive the YAML quoting.
        original.upstream.caFile = try dir.write("ca \"bundle\" \\ 1.pem", "")
        original.listen.smtps = [ListenAddress(host: "0.0.0.0", port: 465), ListenAddress(host: "::", port: 465)]
        original.inbound.tls = InboundTLSSettings(
            certificateFile: try dir.write("tls \"chain\".crt", ""), keyFile: try dir.write("tls.key", ""), required: true)
        original.inbound.auth = InboundAuthSettings(
            usersFile: try dir.write("users \"list\"", ""), required: true, allowPlaintextLoopback: true)
        original.inbound.allowedSenderDomains = ["example.com", "xn--bcher-kva.example"]
        original.inbound.rate = InboundRateSettings(messagesPerMinute: 60, connectionsPerMinute: 20)
        let file = try dir.write("rendered.yaml", original.redactedDescription)
        let reloaded = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "other.test")
        #expect(reloaded == original)
        #expect(original.redactedDescription.contains("""
              smtp: ["127.0.0.1:2525", "[::]:25"]
              smtps: ["0.0.0.0:465", "[::]:465"]
              admin: ""
            """))
        #expect(original.redactedDescription.contains("""
              data_timeout: 10m
              tls:
                certificate_file: "\(dir.path)/tls \\"chain\\".crt"
                key_file: "\(dir.path)/tls.key"
                required: true
              auth:
                users_file: "\(dir.path)/users \\"list\\""
                required: true
                allow_plaintext_loopback: true
              allowed_sender_domains: ["example.com", "xn--bcher-kva.example"]
              rate:
                messages_per_minute: 60
                connections_per_minute: 20
            upstream:
            """))
        #expect(original.redactedDescription.contains("admin: \"\""))
        #expect(original.redactedDescription.contains("max_message_size: 25000000"))
        #expect(original.redactedDescription.contains("first: 1m30s"))
        #expect(original.redactedDescription.contains("multiplier: 2\n"))
        #expect(original.redactedDescription.contains("reload:\n  watch_interval: 0s\n"))
    }

    @Test func theDefaultsRedactedDescriptionSpellsOutTLSAuthAndLimitsOffAndLoadsBack() throws {
        let dir = try TemporaryDirectory()
        let original = RelaySettings.defaults(hostname: "mx.test")
        #expect(original.redactedDescription.contains("  smtps: []\n"))
        #expect(original.redactedDescription.contains("  tls:\n    certificate_file: \"\"\n    key_file: \"\"\n    required: false\n"))
        #expect(original.redactedDescription.contains("""
              auth:
                users_file: ""
                required: false
                allow_plaintext_loopback: false
              allowed_sender_domains: []
              rate:
                messages_per_minute: 0
                connections_per_minute: 0

            """))
        let file = try dir.write("rendered.yaml", original.redactedDescription)
        #expect(try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "other.test") == original)
    }

    @Test func withFallbacksTheRedactedDescriptionListsThemAndLoadsBack() throws {
        let dir = try TemporaryDirectory()
        var original = RelaySettings.defaults(hostname: "mx.test")
        original.upstream.host = "smtp-relay.brevo.com"
        original.upstream.username = "brevo-login"
        original.upstream.passwordFile = try dir.write("brevo", "brevo-key\n")
        original.upstream.password = "brevo-key"
        var ses = original.upstream
        ses.host = "email-smtp.eu-west-1.amazonaws.com"
        ses.port = 465
        ses.tls = .implicit
        ses.username = "AKIAEXAMPLE"
        ses.passwordFile = try dir.write("ses", "ses-key\n")
        ses.password = "ses-key"
        ses.idleTimeout = .seconds(5)
        var backup = RelaySettings.defaults(hostname: "mx.test").upstream
        backup.host = "backup.example.net"
        backup.caFile = try dir.write("ca.pem", "")
        original.fallbackUpstreams = [ses, backup]

        let rendered = original.redactedDescription
        let file = try dir.write("rendered.yaml", rendered)
        let reloaded = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "other.test")
        #expect(reloaded == original)
        #expect(rendered.contains("upstreams:\n  - host: \"smtp-relay.brevo.com\"\n    port: 587\n"))
        #expect(rendered.contains("  - host: \"email-smtp.eu-west-1.amazonaws.com\"\n    port: 465\n"))
        #expect(!rendered.contains("upstream:"))
        #expect(!rendered.contains("-key"), "passwords read from files are never shown")
    }
}
