import Foundation

/// Secret values inside an agent's `agent_config`: how they are marked, sealed for the store,
/// opened for the agent and redacted everywhere else. Pure: the cipher is passed in.
///
/// A value is secret when
/// - it is a string written `"secret://VALUE"`, anywhere in the config (the agent gets `VALUE`), or
/// - it sits under the top-level `secrets` object (`{"secrets": {"API_KEY": "..."}}`); the agent
///   gets the value as written (any JSON; a `secret://` prefix there is dropped too).
///
/// Sealed, each secret becomes one string `drover-secret:v1:<base64 ciphertext>` whose plaintext
/// is the JSON text of the value. Shown to anyone, each secret is `"***"`.
public enum ConfigSecrets {
    /// The prefix that marks a string value secret.
    public static let marker = "secret://"
    /// The prefix of a sealed secret in the stored config.
    public static let sealedPrefix = "drover-secret:v1:"
    /// What every secret is shown as.
    public static let redacted = "***"
    /// The top-level key whose members are all secret.
    public static let secretsKey = "secrets"

    /// Replaces every secret in `config` by `seal(value)`, which returns the sealed token
    /// (without the prefix). Throws what `seal` throws, or when a value already looks sealed
    /// (that prefix is reserved, so nobody can smuggle in a ciphertext of another agent).
    public static func seal(_ config: JSONValue, using seal: (JSONValue) throws -> String) throws -> JSONValue {
        try transform(config, atTop: true) { value, inSecrets in
            switch value {
            case .string(let text) where text.hasPrefix(sealedPrefix):
                throw ConfigSecretsError("agent_config values may not start with '\(sealedPrefix)' (reserved for sealed secrets)")
            case .string(let text) where text.hasPrefix(marker):
                return .string(sealedPrefix + (try seal(.string(String(text.dropFirst(marker.count))))))
            default:
                return inSecrets ? .string(sealedPrefix + (try seal(value))) : nil
            }
        }
    }

    /// Replaces every sealed token in `config` by the value `open(token)` returns (token without the prefix).
    public static func open(_ config: JSONValue, using open: (String) throws -> JSONValue) throws -> JSONValue {
        try transform(config, atTop: true) { value, _ in
            guard case .string(let text) = value, text.hasPrefix(sealedPrefix) else { return nil }
            return try open(String(text.dropFirst(sealedPrefix.count)))
        }
    }

    /// `config` with every secret, sealed or still marked, shown as `"***"`: safe for API answers, events and logs.
    public static func redact(_ config: JSONValue) -> JSONValue {
        // The closure never throws, so neither does the walk.
        (try? transform(config, atTop: true) { value, inSecrets in
            if inSecrets { return .string(redacted) }
            guard case .string(let text) = value, text.hasPrefix(sealedPrefix) || text.hasPrefix(marker) else { return nil }
            return .string(redacted)
        }) ?? .object([:])
    }

    /// Whether `config` holds any secret (marked or sealed).
    public static func containsSecrets(_ config: JSONValue) -> Bool {
        redact(config) != config
    }

    /// Walks `value`; `replace(leaf, insideSecrets)` returns a replacement for a value or `nil`
    /// to keep walking into it. Members of the top-level `secrets` object are offered whole.
    private static func transform(
        _ value: JSONValue, atTop: Bool, inSecrets: Bool = false, _ replace: (JSONValue, Bool) throws -> JSONValue?
    ) throws -> JSONValue {
        if let replaced = try replace(value, inSecrets) { return replaced }
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                if atTop, key == secretsKey, case .object(let secrets) = member {
                    var sealed: [String: JSONValue] = [:]
                    for (name, secret) in secrets { sealed[name] = try replace(secret, true) ?? secret }
                    result[key] = .object(sealed)
                } else {
                    result[key] = try transform(member, atTop: false, inSecrets: false, replace)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(try items.map { try transform($0, atTop: false, inSecrets: false, replace) })
        default:
            return value
        }
    }
}

/// A secret in a config that cannot be sealed or opened; the message never contains the secret.
public struct ConfigSecretsError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension AgentRecord {
    /// The record with every secret of its config shown as `"***"` (what the API answers).
    public var redacted: AgentRecord {
        var copy = self
        copy.config = ConfigSecrets.redact(config)
        return copy
    }
}
