import Foundation
import NIOSSL

/// Loads the manager's certificate and key into a server TLS configuration, with a message a
/// person can act on for every way the files can be wrong.
public enum ServerTLS {
    /// The TLS configuration for `certificatePath` (PEM chain, leaf first) and `keyPath` (PEM key).
    ///
    /// Checks at start that both files exist, are readable, are PEM, and that the key belongs
    /// to the certificate, so a bad file stops the manager with a clear error instead of failing
    /// every handshake later. TLS 1.2 is the minimum.
    public static func configuration(certificatePath: String, keyPath: String) throws -> TLSConfiguration {
        let certificateBytes = try read(certificatePath, what: "certificate (--tls-cert)")
        let keyBytes = try read(keyPath, what: "private key (--tls-key)")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificateBytes)
        } catch {
            throw ServerTLSError("the TLS certificate \(certificatePath) is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        guard !chain.isEmpty else {
            throw ServerTLSError("the TLS certificate \(certificatePath) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw ServerTLSError("the TLS private key \(keyPath) is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerTLSError(
                "the TLS private key \(keyPath) does not belong to the certificate \(certificatePath) (or they cannot be used together: \(error))"
            )
        }
        return configuration
    }

    private static func read(_ path: String, what: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw ServerTLSError("the TLS \(what) file \(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerTLSError("the TLS \(what) file \(path) cannot be read (check its permissions)")
        }
        guard !data.isEmpty else { throw ServerTLSError("the TLS \(what) file \(path) is empty") }
        return Array(data)
    }
}

/// A TLS file the manager cannot use; the message names the file and the problem.
public struct ServerTLSError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
