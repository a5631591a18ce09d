import Authentication
import Delivery
import Logging
import Receiving
import RelayConfiguration
import SMTPProtocol
import Transport

/// The settings as each layer takes them, built the same way at start-up and at every reload.
extension RelaySettings {
    /// The SMTP listener's configuration, with the certificate and the users file loaded now (so a bad one
    /// stops start-up or refuses a reload instead of failing every client's handshake or login).
    func smtpServerConfiguration() throws(ComponentSetupError) -> SMTPServerConfiguration {
        var credentials: CredentialStore?
        if inbound.auth.isEnabled {
            do {
                credentials = CredentialStore(try UsersFile.load(path: inbound.auth.usersFile))
            } catch {
                throw ComponentSetupError(subject: "inbound.auth.users_file", reason: "\(error)")
            }
        }
        var tls: TLSContext?
        if inbound.tls.isEnabled {
            do {
                tls = try TLSContext.server(
                    certificateChainFile: inbound.tls.certificateFile, privateKeyFile: inbound.tls.keyFile)
            } catch {
                throw ComponentSetupError(subject: "inbound.tls", reason: "\(error)")
            }
        }
        return SMTPServerConfiguration(
            hostname: hostname,
            listen: listen.smtp,
            policy: RelayPolicy(allowedNetworks: inbound.allowedNetworks),
            maxMessageSize: inbound.maxMessageSize,
            maxRecipients: inbound.maxRecipients,
            maxConnections: inbound.maxConnections,
            commandTimeout: inbound.commandTimeout,
            dataTimeout: inbound.dataTimeout,
            tls: tls, tlsRequired: inbound.tls.required, listenTLS: listen.smtps,
            credentials: credentials, authRequired: inbound.auth.required,
            authWithoutTLSOnLoopback: inbound.auth.allowPlaintextLoopback,
            allowedSenderDomains: inbound.allowedSenderDomains,
            messagesPerMinute: inbound.rate.messagesPerMinute, connectionsPerMinute: inbound.rate.connectionsPerMinute)
    }

    func queueRunnerConfiguration(workers: Int, executor: EventLoop) -> QueueRunner.Configuration {
        QueueRunner.Configuration(
            workers: workers,
            retry: RetryPolicy(
                first: retry.first, maximum: retry.max, multiplier: retry.multiplier, jitter: retry.jitter,
                lifetime: retry.lifetime),
            bounceReportingHost: bounces == .dsn ? hostname : nil, executor: executor, drain: shutdown.drain)
    }

    /// The primary upstream and its fallbacks, TLS contexts loaded now so that a bad CA file is reported
    /// here (stopping start-up, or refusing a reload) rather than at the first delivery.
    func upstreamConfigurations(loop: EventLoop, logger: Logger) throws(ComponentSetupError) -> [UpstreamConfiguration] {
        var configurations: [UpstreamConfiguration] = []
        for upstream in [upstream] + fallbackUpstreams {
            configurations.append(try upstreamConfiguration(upstream, loop: loop, logger: logger))
        }
        return configurations
    }

    private func upstreamConfiguration(
        _ upstream: UpstreamSettings, loop: EventLoop, logger: Logger
    ) throws(ComponentSetupError) -> UpstreamConfiguration {
        let security: ClientSession.Security = switch upstream.tls {
        case .starttls: .startTLS
        case .implicit: .implicitTLS
        case .none: .none
        }
        var tlsContext: TLSContext?
        if security != .none {
            do {
                tlsContext = try TLSContext.client(
                    caFile: upstream.caFile.isEmpty ? nil : upstream.caFile, verifyCertificate: upstream.verifyCertificate)
            } catch {
                throw ComponentSetupError(subject: "upstream \(upstream.host)", reason: "\(error)")
            }
        }
        let configuration = UpstreamConfiguration(
            host: upstream.host, port: upstream.port, security: security, tlsContext: tlsContext,
            credentials: upstream.username.isEmpty ? nil : SASLCredentials(username: upstream.username, password: upstream.password),
            heloName: hostname, connections: upstream.connections,
            connectTimeout: upstream.connectTimeout, commandTimeout: upstream.commandTimeout,
            dataTimeout: upstream.dataTimeout, idleTimeout: upstream.idleTimeout, loop: loop)
        if security == .none {
            logger.warning("upstream.tls is none: mail crosses the network unencrypted; use it only for a local test upstream",
                           metadata: ["upstream": "\(configuration.endpoint)"])
        } else if !upstream.verifyCertificate {
            logger.warning("upstream.verify_certificate is false: the upstream's certificate is NOT checked, anyone in the path can read and alter mail",
                           metadata: ["upstream": "\(configuration.endpoint)"])
        }
        return configuration
    }
}

/// Settings whose files cannot be used: an unreadable or invalid upstream `ca_file`, an inbound certificate
/// or key that does not load or match, a users file that does not parse.
struct ComponentSetupError: Error, CustomStringConvertible {
    /// `upstream smtp.example.com`, `inbound.tls`, `inbound.auth.users_file`.
    var subject: String
    var reason: String
    var description: String { "\(subject): \(reason)" }
}
