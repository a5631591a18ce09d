import Testing
@testable import RelayConfiguration

/// `upstreams:` — a primary followed by fallbacks, each a full upstream with its own credentials.
@Suite struct FallbackUpstreamsTests {
    /// An upstream with the built-in defaults for everything but `host`.
    func defaulted(_ host: String) -> UpstreamSettings {
        var upstream = RelaySettings.defaults(hostname: "mx.test").upstream
        upstream.host = host
        return upstream
    }

    func load(_ yaml: String, in dir: TemporaryDirectory, environment: [String: String] = [:]) throws -> RelaySettings {
        let file = try dir.write("relay.yaml", yaml)
        return try RelaySettings.load(configFile: file, environment: environment, defaultHostname: "mx.test")
    }

    func loadError(_ yaml: String?, environment: [String: String] = [:]) throws -> ConfigurationError? {
        let dir = try TemporaryDirectory()
        let file = try yaml.map { try dir.write("relay.yaml", $0) }
        return #expect(throws: ConfigurationError.self) {
            try RelaySettings.load(configFile: file, environment: environment, defaultHostname: "mx.test")
        }
    }

    @Test func aListLoadsInOrderAndEntriesTakeTheBuiltInDefaultsForKeysTheyLeaveOut() throws {
        let dir = try TemporaryDirectory()
        let brevoKey = try dir.write("brevo", "brevo-key\n")
        let sesKey = try dir.write("ses", "ses-key\n")
        let settings = try load("""
            upstreams:
              - host: smtp-relay.brevo.com
                username: brevo-login
                password_file: "\(brevoKey)"
                connections: 8
              - host: email-smtp.eu-west-1.amazonaws.com
                port: 465
                tls: implicit
                username: AKIAEXAMPLE
                password_file: "\(sesKey)"
                connect_timeout: 10s
              - { host: backup.example.net }
            """, in: dir)

        var brevo = defaulted("smtp-relay.brevo.com")
        brevo.username = "brevo-login"
        brevo.passwordFile = brevoKey
        brevo.password = "brevo-key"
        brevo.connections = 8
        var ses = defaulted("email-smtp.eu-west-1.amazonaws.com")
        ses.port = 465
        ses.tls = .implicit
        ses.username = "AKIAEXAMPLE"
        ses.passwordFile = sesKey
        ses.password = "ses-key"
        ses.connectTimeout = .seconds(10)
        #expect(settings.upstream == brevo)
        // Not inherited from the primary: no connections: 8, and no Brevo login sent to SES or the backup.
        #expect(settings.fallbackUpstreams == [ses, defaulted("backup.example.net")])
    }

    @Test func aListWithOneEntryIsJustThePrimary() throws {
        let dir = try TemporaryDirectory()
        let settings = try load("upstreams:\n  - { host: smtp.example.com, port: 2525 }\n", in: dir)
        var expected = defaulted("smtp.example.com")
        expected.port = 2525
        #expect(settings.upstream == expected)
        #expect(settings.fallbackUpstreams.isEmpty)
    }

    @Test func upstreamAndUpstreamsTogetherAreAnErrorNamingBoth() throws {
        let error = try loadError("""
            upstream: { host: a.example.com }
            upstreams:
              - host: b.example.com
            """)
        #expect(error?.key == "upstreams")
        #expect(error?.problem.hasPrefix("is set together with upstream;") == true, "\(error?.problem ?? "no error")")
    }

    @Test func anEmptyUpstreamOrUpstreamsNextToTheOtherSetsNothing() throws {
        // Commenting out every key of `upstream:` leaves the header; that is not a second primary.
        let dir = try TemporaryDirectory()
        let settings = try load("upstream:\n  # host: old.example.com\nupstreams:\n  - host: a.example.com\n", in: dir)
        #expect(settings.upstream == defaulted("a.example.com"))
        let both = try load("upstream: { host: a.example.com }\nupstreams:\n  # - host: b.example.com\n", in: dir)
        #expect(both.upstream == defaulted("a.example.com"))
        #expect(both.fallbackUpstreams.isEmpty)
    }

    @Test func eachEntryReadsItsOwnPasswordFileAndAFailureNamesTheEntry() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.path + "/ses-missing"
        let error = #expect(throws: ConfigurationError.self) {
            try load("""
                upstreams:
                  - { host: a.example.com, username: a, password: pa }
                  - { host: b.example.com, username: b, password_file: "\(missing)" }
                """, in: dir)
        }
        #expect(error?.file == dir.path + "/relay.yaml")
        #expect(error?.key == "upstreams[1].password_file")
        #expect(error?.problem == "cannot read \"\(missing)\": No such file or directory")
    }

    // MARK: Environment

    @Test func variablesOverrideThePrimaryAndTheFallbacksOfAList() throws {
        let dir = try TemporaryDirectory()
        let settings = try load("""
            upstreams:
              - { host: a.example.com, port: 2525 }
              - { host: b.example.com, port: 2526 }
            """, in: dir, environment: [
                "RELAY_UPSTREAM_PORT": "587",
                "RELAY_UPSTREAMS_1_HOST": "env-b.example.com",
            ])
        var primary = defaulted("a.example.com")
        primary.port = 587
        var fallback = defaulted("env-b.example.com")
        fallback.port = 2526
        #expect(settings.upstream == primary, "RELAY_UPSTREAM_* address entry 0, the primary")
        #expect(settings.fallbackUpstreams == [fallback], "keys not in the environment still come from the file")
    }

    @Test func aHostVariableForTheNextIndexAddsAFallback() throws {
        // Without a list in the file, and without a file at all: containers configured only by variables.
        let dir = try TemporaryDirectory()
        let secret = try dir.write("ses", "ses-key\n")
        let environment = [
            "RELAY_UPSTREAMS_1_HOST": "b.example.com",
            "RELAY_UPSTREAMS_1_USERNAME": "b",
            "RELAY_UPSTREAMS_1_PASSWORD_FILE": secret,
            "RELAY_UPSTREAMS_2_HOST": "c.example.com",
            "RELAY_UPSTREAMS_2_PASSWORD": "pc",
            "RELAY_UPSTREAMS_2_USERNAME": "c",
        ]
        var b = defaulted("b.example.com")
        b.username = "b"
        b.passwordFile = secret
        b.password = "ses-key"
        var c = defaulted("c.example.com")
        c.username = "c"
        c.password = "pc"

        let fromFile = try load("upstream: { host: a.example.com }\n", in: dir, environment: environment)
        #expect(fromFile.upstream == defaulted("a.example.com"))
        #expect(fromFile.fallbackUpstreams == [b, c])

        let fromEnvironment = try RelaySettings.load(
            configFile: nil, environment: environment.merging(["RELAY_UPSTREAM_HOST": "a.example.com"]) { $1 },
            defaultHostname: "mx.test")
        #expect(fromEnvironment == fromFile)
    }

    @Test func everyUpstreamKeyOfAFallbackCanBeSetFromTheEnvironment() throws {
        let dir = try TemporaryDirectory()
        let secret = try dir.write("secret", "pw\n")
        let environment = [
            "RELAY_UPSTREAMS_1_HOST": "up.example.com",
            "RELAY_UPSTREAMS_1_PORT": "2587",
            "RELAY_UPSTREAMS_1_TLS": "none",
            "RELAY_UPSTREAMS_1_VERIFY_CERTIFICATE": "false",
            "RELAY_UPSTREAMS_1_CA_FILE": secret,
            "RELAY_UPSTREAMS_1_USERNAME": "u",
            "RELAY_UPSTREAMS_1_PASSWORD_FILE": secret,
            "RELAY_UPSTREAMS_1_CONNECTIONS": "2",
            "RELAY_UPSTREAMS_1_CONNECT_TIMEOUT": "7s",
            "RELAY_UPSTREAMS_1_COMMAND_TIMEOUT": "45s",
            "RELAY_UPSTREAMS_1_DATA_TIMEOUT": "3m",
            "RELAY_UPSTREAMS_1_IDLE_TIMEOUT": "2s",
        ]
        let settings = try RelaySettings.load(
            configFile: nil, environment: environment.merging(["RELAY_UPSTREAM_HOST": "primary.example.com"]) { $1 },
            defaultHostname: "mx.test")
        #expect(settings.fallbackUpstreams == [UpstreamSettings(
            host: "up.example.com", port: 2587, tls: .none, verifyCertificate: false, caFile: secret,
            username: "u", password: "pw", passwordFile: secret, connections: 2, connectTimeout: .seconds(7),
            commandTimeout: .seconds(45), dataTimeout: .seconds(180), idleTimeout: .seconds(2))])
        // The table above must cover every key, or this test silently stops testing new ones.
        #expect(Set(environment.keys)
            == Set(SettingKey.upstreamKeys.map { $0.fallbackEnvironmentName(1) }).subtracting(["RELAY_UPSTREAMS_1_PASSWORD"]))
    }

    @Test func aBadFallbackVariableNamesTheVariableAndTheEntry() throws {
        let error = try loadError("upstreams:\n  - host: a.example.com\n  - host: b.example.com\n",
                                  environment: ["RELAY_UPSTREAMS_1_PORT": "70000"])
        #expect(error?.description == "environment variable RELAY_UPSTREAMS_1_PORT: upstreams[1].port: 70000 is not a port (1-65535)")
    }

    @Test(arguments: [
        // An entry that neither the file has nor the variables add (no HOST) is a miscounted index.
        ([
            "RELAY_UPSTREAM_HOST": "a.example.com", "RELAY_UPSTREAMS_1_PORT": "2525",
        ], "environment variable RELAY_UPSTREAMS_1_PORT: upstreams[1].port: there is no upstreams[1] to override; "
            + "set RELAY_UPSTREAMS_1_HOST to add it as a fallback"),
        ([
            "RELAY_UPSTREAM_HOST": "a.example.com", "RELAY_UPSTREAMS_2_HOST": "c.example.com",
        ], "environment variable RELAY_UPSTREAMS_2_HOST: upstreams[2].host: adds upstreams[2], but there is no "
            + "upstreams[1]; number fallbacks from 1 without gaps"),
        (["RELAY_UPSTREAMS_0_HOST": "a.example.com"], "environment variable RELAY_UPSTREAMS_0_HOST: is not a "
            + "configuration variable (upstreams[0] is the primary upstream: use RELAY_UPSTREAM_HOST)"),
        (["RELAY_UPSTREAMS_1_HOTS": "b.example.com"], "environment variable RELAY_UPSTREAMS_1_HOTS: is not a "
            + "configuration variable (did you mean RELAY_UPSTREAMS_1_HOST?)"),
        (["RELAY_UPSTREAM_1_HOST": "b.example.com"], "environment variable RELAY_UPSTREAM_1_HOST: is not a "
            + "configuration variable (did you mean RELAY_UPSTREAMS_1_HOST?)"),
        (["RELAY_UPSTREAMS_01_HOST": "b.example.com"], "environment variable RELAY_UPSTREAMS_01_HOST: is not a "
            + "configuration variable (did you mean RELAY_UPSTREAMS_1_HOST?)"),
        // A fallback list without a primary would never be used: mail would go to the outbox.
        (["RELAY_UPSTREAMS_1_HOST": "b.example.com"], "environment variable RELAY_UPSTREAMS_1_HOST: upstream.host: "
            + "is empty, but upstreams[1].host is set; fallbacks need a primary upstream"),
        ([
            "RELAY_UPSTREAM_HOST": "a.example.com", "RELAY_UPSTREAMS_1_HOST": "b.example.com",
            "RELAY_UPSTREAMS_1_PASSWORD": "p",
        ], "environment variable RELAY_UPSTREAMS_1_PASSWORD: upstreams[1].password: is set but upstreams[1].username is empty"),
    ])
    func wrongFallbackVariablesAreErrors(environment: [String: String], message: String) throws {
        let error = try loadError(nil, environment: environment)
        #expect(error?.description == message)
    }

    @Test func theFallbacksPasswordsAreSecretsToo() throws {
        var settings = RelaySettings.defaults(hostname: "mx.test")
        settings.upstream.host = "a.example.com"
        var fallback = defaulted("b.example.com")
        fallback.username = "b"
        fallback.password = "hunter2-fallback"
        settings.fallbackUpstreams = [fallback]
        #expect(!settings.redactedDescription.contains("hunter2"))
        #expect(settings.redactedDescription.contains("password: \"<redacted>\""))
    }
}
