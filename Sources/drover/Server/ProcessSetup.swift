import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide set-up shared by `manager`, `node` and `dev`: logging to stderr at the
/// chosen level, and one Prometheus registry behind swift-metrics.
enum ProcessSetup {
    static func bootstrap(logLevel: Logger.Level, label: String) -> (logger: Logger, metrics: PrometheusCollectorRegistry) {
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return (logger, registry)
    }

    /// Prints a line to stdout at once (tests and scripts read these lines).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
