import Foundation

/// A throwaway CA and a server certificate it signed for `127.0.0.1`, `::1` and `localhost`,
/// made with the `openssl` command line in a folder of their own (PEM, unencrypted keys).
public struct TestCertificates: Sendable {
    public let directory: URL
    /// The CA's certificate: what a node or client is told to trust (`--ca`).
    public var caCertificate: String { directory.appendingPathComponent("ca.pem").path }
    /// The server's certificate (`--tls-cert`).
    public var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    /// The server's private key (`--tls-key`).
    public var serverKey: String { directory.appendingPathComponent("server.key").path }

    /// Generates a new CA and server certificate under `directory` (created when missing).
    public static func make(in directory: URL) throws -> TestCertificates {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let extensions = directory.appendingPathComponent("server.ext")
        try """
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
            """.write(to: extensions, atomically: true, encoding: .utf8)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                     "-subj", "/CN=Drover Test CA", "-keyout", "ca.key", "-out", "ca.pem",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: directory)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"], in: directory)
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-extfile", "server.ext", "-out", "server.pem"], in: directory)
        return certificates
    }

    /// Runs `openssl ARGS` in `directory`; throws with its output when it fails.
    static func openssl(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: data, as: UTF8.self))")
        }
    }
}
