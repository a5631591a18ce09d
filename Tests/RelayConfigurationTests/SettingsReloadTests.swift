import Testing
import Transport
@testable import RelayConfiguration

/// `RelaySettings.reloaded(with:)`: what a configuration reload puts in force and what it reports, by key name.
@Suite struct SettingsReloadTests {
    static let running = RelaySettings.defaults(hostname: "mx.test")

    /// A relaying setup with two fallbacks, for the per-upstream key names.
    static var relaying: RelaySettings {
        var settings = running
        settings.upstream.host = "smtp-relay.brevo.com"
        settings.upstream.username = "brevo-login"
        settings.upstream.password = "brevo-key"
        var ses = settings.upstream
        ses.host = "email-smtp.eu-west-1.amazonaws.com"
        ses.port = 465
        ses.tls = .implicit
        var backup = RelaySettings.defaults(hostname: "mx.test").upstream
        backup.host = "backup.example.net"
        settings.fallbackUpstreams = [ses, backup]
        return settings
    }

    @Test func theSameSettingsChangeNothing() {
        let (settings, change) = Self.relaying.reloaded(with: Self.relaying)
        #expect(settings == Self.relaying)
        #expect(change.isEmpty)
        #expect(change == SettingsChange())
    }

    @Test func keysThatCanChangeAtOnceAreAppliedAndNamed() {
        var new = Self.running
        new.hostname = "relay.example.com"
        new.log.level = .debug
        new.inbound.allowedNetworks = [IPNetwork("10.0.0.0/8")!]
        new.inbound.maxMessageSize = 1 << 20
        new.inbound.maxRecipients = 5
        new.inbound.maxConnections = 7
        new.inbound.commandTimeout = .seconds(30)
        new.inbound.dataTimeout = .seconds(40)
        new.inbound.tls = InboundTLSSettings(
            certificateFile: "/etc/relay/tls/tls.crt", keyFile: "/etc/relay/tls/tls.key", required: true)
        new.inbound.auth = InboundAuthSettings(usersFile: "/etc/relay/secrets/users", required: true, allowPlaintextLoopback: true)
        new.inbound.allowedSenderDomains = ["example.com"]
        new.inbound.rate = InboundRateSettings(messagesPerMinute: 60, connectionsPerMinute: 20)
        new.retry.first = .seconds(30)
        new.retry.max = .seconds(600)
        new.retry.multiplier = 3
        new.retry.jitter = 0
        new.retry.lifetime = .seconds(86_400)
        new.bounces = .none
        new.shutdown.drain = .seconds(30)
        new.reload.watchInterval = .zero

        let (settings, change) = Self.running.reloaded(with: new)

        #expect(settings == new)
        #expect(change.needsRestart == [])
        #expect(change.applied == [
            "hostname", "log.level", "inbound.allowed_networks", "inbound.max_message_size", "inbound.max_recipients",
            "inbound.max_connections", "inbound.command_timeout", "inbound.data_timeout", "inbound.tls.certificate_file",
            "inbound.tls.key_file", "inbound.tls.required", "inbound.auth.users_file", "inbound.auth.required",
            "inbound.auth.allow_plaintext_loopback", "inbound.allowed_sender_domains", "inbound.rate.messages_per_minute",
            "inbound.rate.connections_per_minute", "retry.first", "retry.max", "retry.multiplier", "retry.jitter",
            "retry.lifetime", "bounces", "shutdown.drain", "reload.watch_interval",
        ])
    }

    /// Switching AUTH on or off, or changing the sender policy or the limits, takes no restart: new sessions get them.
    @Test func authSenderPolicyAndRateKeysAreAppliedEachByName() {
        var running = Self.running
        running.inbound.tls = InboundTLSSettings(certificateFile: "/etc/relay/tls/tls.crt", keyFile: "/etc/relay/tls/tls.key")
        running.inbound.auth = InboundAuthSettings(usersFile: "/etc/relay/secrets/users")
        running.inbound.allowedSenderDomains = ["example.com", "example.org"]
        running.inbound.rate = InboundRateSettings(messagesPerMinute: 60)

        var new = running
        new.inbound.allowedSenderDomains = ["example.com"]
        new.inbound.rate.connectionsPerMinute = 10
        var (settings, change) = running.reloaded(with: new)
        #expect(settings == new)
        #expect(change.applied == ["inbound.allowed_sender_domains", "inbound.rate.connections_per_minute"])
        #expect(change.needsRestart == [])

        new = running
        new.inbound.auth = InboundAuthSettings()
        new.inbound.rate = InboundRateSettings()
        (settings, change) = running.reloaded(with: new)
        #expect(settings == new)
        #expect(change.applied == ["inbound.auth.users_file", "inbound.rate.messages_per_minute"])
        #expect(change.needsRestart == [])
    }

    @Test func keysThatNeedARestartKeepTheirRunningValues() {
        var new = Self.running
        new.log.format = .json
        new.listen.smtp = [ListenAddress(host: "0.0.0.0", port: 25)]
        new.listen.smtps = [ListenAddress(host: "0.0.0.0", port: 465)]
        new.listen.admin = nil
        new.listen.control = "/run/other.sock"
        new.spool.path = "/var/spool/other"
        new.outbox.path = "/var/outbox/other"
        new.log.level = .warning  // a live key in the same reload still applies

        let (settings, change) = Self.running.reloaded(with: new)

        var expected = Self.running
        expected.log.level = .warning
        #expect(settings == expected)
        #expect(change.needsRestart == [
            "log.format", "listen.smtp", "listen.smtps", "listen.admin", "listen.control", "spool.path", "outbox.path",
        ])
        #expect(change.applied == ["log.level"])
    }

    @Test func upstreamKeysAreNamedAsOperatorsWriteThemForEachUpstream() {
        var new = Self.relaying
        new.upstream.password = "rotated-key"
        new.fallbackUpstreams[0].port = 587
        new.fallbackUpstreams[0].tls = .starttls
        new.fallbackUpstreams[1].idleTimeout = .seconds(3)

        let (settings, change) = Self.relaying.reloaded(with: new)

        #expect(settings == new)
        #expect(change.applied == ["upstream.password", "upstreams[1].port", "upstreams[1].tls", "upstreams[2].idle_timeout"])
        #expect(change.needsRestart == [])
        // Names only: the change is logged, so no value may be in it.
        #expect(!String(describing: change).contains("rotated-key"))
    }

    @Test func everyUpstreamKeyButConnectionsIsApplied() {
        var new = Self.relaying
        new.upstream.host = "smtp.example.org"
        new.upstream.port = 2525
        new.upstream.tls = .none
        new.upstream.verifyCertificate = false
        new.upstream.caFile = "/etc/ssl/ca.pem"
        new.upstream.username = "other-login"
        new.upstream.password = "other-key"
        new.upstream.passwordFile = "/run/secrets/password"
        new.upstream.connectTimeout = .seconds(5)
        new.upstream.commandTimeout = .seconds(6)
        new.upstream.dataTimeout = .seconds(7)
        new.upstream.idleTimeout = .seconds(8)

        let (settings, change) = Self.relaying.reloaded(with: new)

        #expect(settings == new)
        #expect(change.applied == [
            "upstream.host", "upstream.port", "upstream.tls", "upstream.verify_certificate", "upstream.ca_file",
            "upstream.username", "upstream.password", "upstream.password_file", "upstream.connect_timeout",
            "upstream.command_timeout", "upstream.data_timeout", "upstream.idle_timeout",
        ])
        #expect(change.needsRestart == [])
    }

    /// The primary's `connections` sizes the worker pool, fixed at start; a fallback's is not used, so a change
    /// to it is taken like any other.
    @Test func connectionsNeedARestartAndKeepTheirRunningValue() {
        var new = Self.relaying
        new.upstream.connections = 8
        new.fallbackUpstreams[0].connections = 2
        new.fallbackUpstreams[0].username = "AKIAEXAMPLE"

        let (settings, change) = Self.relaying.reloaded(with: new)

        #expect(change.needsRestart == ["upstream.connections"])
        #expect(change.applied == ["upstreams[1].username", "upstreams[1].connections"])
        #expect(settings.upstream.connections == Self.relaying.upstream.connections)
        #expect(settings.fallbackUpstreams[0].connections == 2)
        #expect(settings.fallbackUpstreams[0].username == "AKIAEXAMPLE")
    }

    @Test func addingAFallbackIsAppliedAsUpstreams() {
        var old = Self.relaying
        old.fallbackUpstreams = [Self.relaying.fallbackUpstreams[0]]

        let (settings, change) = old.reloaded(with: Self.relaying)

        #expect(settings == Self.relaying)
        #expect(change.applied == ["upstreams"])
        #expect(change.needsRestart == [])
    }

    @Test func removingAFallbackIsAppliedAndTheRemainingOnesAreStillCompared() {
        var new = Self.relaying
        new.fallbackUpstreams.removeLast()
        new.fallbackUpstreams[0].port = 2465

        let (settings, change) = Self.relaying.reloaded(with: new)

        #expect(settings == new)
        #expect(change.applied == ["upstreams", "upstreams[1].port"])
    }

    /// The transport (outbox or upstream) is chosen at start: a switch waits for the restart, and none of the
    /// upstream section takes effect meanwhile, not even the keys that could change on their own.
    @Test func switchingFromTheOutboxToAnUpstreamNeedsARestartAndKeepsTheWholeUpstreamSection() {
        var new = Self.relaying
        new.retry.first = .seconds(10)

        let (settings, change) = Self.running.reloaded(with: new)

        #expect(change.needsRestart == ["upstream.host"])
        #expect(change.applied == ["retry.first"])
        #expect(settings.upstream == Self.running.upstream)
        #expect(settings.fallbackUpstreams == [])
        #expect(settings.retry.first == .seconds(10))
    }

    @Test func switchingFromAnUpstreamToTheOutboxNeedsARestartAndKeepsTheWholeUpstreamSection() {
        var new = Self.running
        new.upstream.port = 25

        let (settings, change) = Self.relaying.reloaded(with: new)

        #expect(change.needsRestart == ["upstream.host"])
        #expect(change.applied == [])
        #expect(settings == Self.relaying)
    }

    /// The result is what runs, so reloading the same file again reports the restart keys again (until
    /// relayd restarts) and nothing as newly applied.
    @Test func reloadingAgainReportsTheRestartKeysAgainAndNothingElse() {
        var new = Self.relaying
        new.listen.control = "/run/other.sock"
        new.upstream.connections = 16
        new.upstream.password = "rotated-key"

        let (first, firstChange) = Self.relaying.reloaded(with: new)
        let (second, secondChange) = first.reloaded(with: new)

        #expect(firstChange.applied == ["upstream.password"])
        #expect(secondChange.applied == [])
        #expect(secondChange.needsRestart == firstChange.needsRestart)
        #expect(secondChange.needsRestart == ["listen.control", "upstream.connections"])
        #expect(second == first)
    }

    /// A password file rewritten in place (a rotated Kubernetes Secret) shows as a password change.
    @Test func aRotatedPasswordFileShowsAsAPasswordChange() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("password", "old-key\n")
        let file = try dir.write("relay.yaml", """
            upstream: { host: smtp.example.net, username: relay, password_file: "\(secret)" }
            reload: { watch_interval: 0s }
            """)
        let before = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")
        #expect(before.reload.watchInterval == .zero, "0s turns watching off rather than being refused")
        try dir.write("password", "new-key\n")
        let after = try RelaySettings.load(configFile: file, environment: [:], defaultHostname: "mx.test")

        let (settings, change) = before.reloaded(with: after)

        #expect(change.applied == ["upstream.password"])
        #expect(change.needsRestart == [])
        #expect(settings.upstream.password == "new-key")
    }

    /// The certificate is read again for new sessions, so switching STARTTLS on, off or to required needs no restart.
    @Test func inboundTLSKeysAreAppliedWhileImplicitTLSListenersWaitForARestart() {
        var running = Self.running
        running.inbound.tls = InboundTLSSettings(certificateFile: "/etc/relay/tls/old.crt", keyFile: "/etc/relay/tls/old.key")
        var new = running
        new.inbound.tls = InboundTLSSettings(
            certificateFile: "/etc/relay/tls/new.crt", keyFile: "/etc/relay/tls/new.key", required: true)
        new.listen.smtps = [ListenAddress(host: "0.0.0.0", port: 465)]

        let (settings, change) = running.reloaded(with: new)

        #expect(change.applied == ["inbound.tls.certificate_file", "inbound.tls.key_file", "inbound.tls.required"])
        #expect(change.needsRestart == ["listen.smtps"])
        #expect(settings.inbound.tls == new.inbound.tls)
        #expect(settings.listen.smtps == [], "the running listeners stay until the restart")
    }

    /// Implicit-TLS listeners that keep running until the restart cannot lose their certificate meanwhile, even
    /// though a file without both is valid.
    @Test func removingTheCertificateTogetherWithTheImplicitTLSListenersKeepsItUntilTheRestart() {
        var running = Self.running
        running.listen.smtps = [ListenAddress(host: "0.0.0.0", port: 465)]
        running.inbound.tls = InboundTLSSettings(
            certificateFile: "/etc/relay/tls/tls.crt", keyFile: "/etc/relay/tls/tls.key", required: true)
        var new = Self.running
        new.log.level = .debug

        let (settings, change) = running.reloaded(with: new)

        #expect(change.applied == ["log.level", "inbound.tls.required"])
        #expect(change.needsRestart == ["listen.smtps", "inbound.tls.certificate_file", "inbound.tls.key_file"])
        #expect(settings.listen.smtps == running.listen.smtps)
        #expect(settings.inbound.tls == InboundTLSSettings(
            certificateFile: "/etc/relay/tls/tls.crt", keyFile: "/etc/relay/tls/tls.key", required: false))
        #expect(settings.log.level == .debug)

        // After the restart there are no implicit-TLS listeners, and the certificate can go.
        let (restarted, nextChange) = new.reloaded(with: new)
        #expect(restarted == new)
        #expect(nextChange.isEmpty)
    }

    @Test func referencedFilesArePasswordFilesAndContentFiles() {
        var settings = Self.relaying
        settings.upstream.passwordFile = "/run/secrets/brevo"
        settings.upstream.caFile = "/etc/relay/brevo-ca.pem"
        settings.fallbackUpstreams[0].passwordFile = "/run/secrets/ses"
        settings.fallbackUpstreams[1].caFile = "/etc/relay/backup-ca.pem"
        settings.inbound.tls = InboundTLSSettings(certificateFile: "/etc/relay/tls/tls.crt", keyFile: "/etc/relay/tls/tls.key")
        settings.inbound.auth.usersFile = "/etc/relay/secrets/users"

        #expect(settings.referencedFiles == [
            "/run/secrets/brevo", "/run/secrets/ses", "/etc/relay/brevo-ca.pem", "/etc/relay/backup-ca.pem",
            "/etc/relay/tls/tls.crt", "/etc/relay/tls/tls.key", "/etc/relay/secrets/users",
        ])
        #expect(settings.contentFiles.map(\.key) == [
            "upstream.ca_file", "upstreams[2].ca_file", "inbound.tls.certificate_file", "inbound.tls.key_file",
            "inbound.auth.users_file",
        ])
        #expect(settings.contentFiles.map(\.path) == [
            "/etc/relay/brevo-ca.pem", "/etc/relay/backup-ca.pem", "/etc/relay/tls/tls.crt", "/etc/relay/tls/tls.key",
            "/etc/relay/secrets/users",
        ])
    }

    /// Without TLS (loopback only) the users file is still watched: its contents are what AUTH checks against.
    @Test func theUsersFileIsAContentFileOnItsOwn() {
        var settings = Self.running
        settings.inbound.auth = InboundAuthSettings(usersFile: "/etc/relay/secrets/users", allowPlaintextLoopback: true)

        #expect(settings.contentFiles.map(\.key) == ["inbound.auth.users_file"])
        #expect(settings.contentFiles.map(\.path) == ["/etc/relay/secrets/users"])
        #expect(settings.referencedFiles == ["/etc/relay/secrets/users"])
    }

    /// A certificate and key in one PEM file is named by both keys, so new contents count as a change of each.
    @Test func aCombinedCertificateAndKeyFileIsListedForBothKeys() {
        var settings = Self.running
        settings.inbound.tls = InboundTLSSettings(certificateFile: "/etc/relay/tls/combined.pem", keyFile: "/etc/relay/tls/combined.pem")

        #expect(settings.contentFiles.map(\.key) == ["inbound.tls.certificate_file", "inbound.tls.key_file"])
        #expect(settings.contentFiles.map(\.path) == ["/etc/relay/tls/combined.pem", "/etc/relay/tls/combined.pem"])
    }

    @Test func withoutPasswordOrContentFilesNothingIsReferenced() {
        #expect(Self.running.referencedFiles == [])
        #expect(Self.relaying.referencedFiles == [], "a password given inline is no file")
        #expect(Self.relaying.contentFiles.isEmpty)
        var flagsOnly = Self.running
        flagsOnly.inbound.tls.required = true
        flagsOnly.inbound.auth.allowPlaintextLoopback = true
        #expect(flagsOnly.contentFiles.isEmpty)
    }
}
