import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// How the node checks the manager's certificate on `https://` / `wss://`.
///
/// The trust roots are the system's, or only the private CA of `--ca` (PEM) when given. The
/// certificate must name the host of the manager URL (or `--tls-server-name`). For a manager
/// given by IP address, the WebSocket library can only send a DNS name in SNI, so before every
/// dial the node checks the certificate for that IP with a full HTTPS check of `/health`, and the
/// WebSocket itself then checks the chain against the same roots.
struct ManagerTLS: Sendable {
    /// Client configuration with the trust roots.
    let configuration: TLSConfiguration
    /// The name the certificate must carry, when not the URL's host.
    let serverName: String?
    /// The private CA file, when given.
    let caFile: String?

    /// Reads `caFile` (when given); throws a message naming the file when it is unusable.
    init(caFile: String?, serverName: String?) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile { configuration.trustRoots = .certificates(try Self.certificates(caFile)) }
        self.configuration = configuration
        self.serverName = serverName
        self.caFile = caFile
    }

    /// The certificates in a PEM file, or an error that says what is wrong with it.
    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        guard FileManager.default.fileExists(atPath: path) else { throw NodeConfigurationError("the CA file \(path) (--ca) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NodeConfigurationError("the CA file \(path) (--ca) cannot be read (check its permissions)")
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data)), !certificates.isEmpty else {
            throw NodeConfigurationError("the CA file \(path) (--ca) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// What the WebSocket client is given for `host`: the TLS configuration, the SNI name, and
    /// whether the certificate's name (an IP address) is checked only by the HTTPS preflight of
    /// `/health` that comes before every dial (the WebSocket then checks the chain).
    func webSocket(host: String) -> (configuration: TLSConfiguration, sniHostname: String?, nameCheckedOnlyByPreflight: Bool) {
        if let serverName { return (configuration, serverName, false) }
        guard Self.isIPAddress(host) else { return (configuration, nil, false) }
        var chainOnly = configuration
        chainOnly.certificateVerification = .noHostnameVerification
        // SNI may not carry an IP address (RFC 6066); any DNS name will do, the manager has one certificate.
        return (chainOnly, "drover-manager", true)
    }

    /// An HTTP client with these trust roots (plain HTTP too), kept for the life of the process.
    /// With `serverName`, it checks the chain only: the WebSocket checks that name itself.
    func httpClient() -> HTTPClient {
        Self.clients.withLock { clients in
            let key = "\(caFile ?? "")|\(serverName ?? "")"
            if let client = clients[key] { return client }
            var tls = configuration
            if serverName != nil { tls.certificateVerification = .noHostnameVerification }
            var settings = HTTPClient.Configuration(tlsConfiguration: tls)
            // Fail at once (a bad certificate does not get better by retrying within one request); the node retries with backoff.
            settings.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
            clients[key] = client
            return client
        }
    }

    private static let clients = Mutex<[String: HTTPClient]>([:])

    static func isIPAddress(_ host: String) -> Bool {
        var trimmed = host
        if trimmed.hasPrefix("["), trimmed.hasSuffix("]") { trimmed = String(trimmed.dropFirst().dropLast()) }
        return IPv4Address(trimmed) || trimmed.contains(":")
    }

    private static func IPv4Address(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    /// A sentence for a TLS failure, or `nil` when `error` is not about TLS.
    static func describe(_ error: any Error, managerURL: String, serverName: String? = nil) -> String? {
        let text = "\(error) \(String(reflecting: error))"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "TLS: the manager's certificate is not trusted (certificate verify failed): pass --ca with the CA that signed it"
        }
        if text.contains("failedToValidateHostname") || text.contains("unableToValidateCertificate") {
            if let serverName { return "TLS: the manager's certificate does not name '\(serverName)' (--tls-server-name)" }
            return "TLS: the manager's certificate does not name the host of \(managerURL) (use that name, or --tls-server-name)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "TLS: \(managerURL) does not speak TLS (a plain-HTTP manager? use http://)"
        }
        if text.contains("handshakeFailed") || text.contains("NIOSSL") || text.contains("BoringSSL") {
            return "TLS handshake with the manager failed: \(error)"
        }
        return nil
    }
}
