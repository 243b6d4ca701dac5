import AsyncHTTPClient
import Foundation
import NIOSSL
import Synchronization

/// HTTP clients that trust a private CA, for a manager serving HTTPS with its own certificates.
public enum ClientTLS {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// An HTTP client that trusts only the CA certificates in `caFile` (PEM), or the system's
    /// roots when `nil`, made once per file and kept for the life of the process. It does not retry
    /// a failed connection within a request, so a refused certificate is reported at once. The
    /// error names the file and what is wrong with it.
    public static func httpClient(caFile: String?) throws -> HTTPClient {
        try clients.withLock { clients in
            if let client = clients[caFile ?? ""] { return client }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let caFile { configuration.trustRoots = .certificates(try certificates(caFile)) }
            var settings = HTTPClient.Configuration(tlsConfiguration: configuration)
            settings.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
            clients[caFile ?? ""] = client
            return client
        }
    }

    /// The certificates of a PEM file.
    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        guard FileManager.default.fileExists(atPath: path) else { throw DroverClientError.transport("the CA file \(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DroverClientError.transport("the CA file \(path) cannot be read (check its permissions)")
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(data)), !certificates.isEmpty else {
            throw DroverClientError.transport("the CA file \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// A sentence for a TLS failure talking to `baseURL`, or `nil` when `error` is not about TLS.
    static func describe(_ error: any Error, baseURL: String) -> String? {
        let text = "\(error) \(String(reflecting: error))"
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "the manager's TLS certificate at \(baseURL) is not trusted (certificate verify failed): pass --ca or set DROVER_CA to the CA that signed it"
        }
        if text.contains("failedToValidateHostname") || text.contains("unableToValidateCertificate") {
            return "the manager's TLS certificate does not name the host of \(baseURL)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "\(baseURL) does not speak TLS: use an http:// URL"
        }
        if text.contains("handshakeFailed") || text.contains("BoringSSL") {
            return "TLS handshake with the manager at \(baseURL) failed: \(error)"
        }
        return nil
    }
}

extension DroverClient {
    /// A client that trusts the private CA in `caFile` (PEM) for an `https://` manager; with
    /// `caFile` `nil`, the system's roots. A failed connection is reported at once, not retried.
    public init(baseURL: String, token: String?, caFile: String?, timeout: Duration = .seconds(30)) throws {
        self.init(baseURL: baseURL, token: token, httpClient: try ClientTLS.httpClient(caFile: caFile), timeout: timeout)
    }
}
