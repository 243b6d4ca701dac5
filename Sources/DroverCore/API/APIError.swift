import Foundation

/// The body of every error the API returns: `{"error": {"code": ..., "message": ...}}`.
public struct APIErrorBody: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
        /// Where in the request the fault is (`steps[2].depends_on[0]`), when it has one place.
        public var path: String?
        /// Every fault found, when there are several (workflow validation).
        public var problems: [WorkflowProblem]?

        public init(code: String, message: String, path: String? = nil, problems: [WorkflowProblem]? = nil) {
            self.code = code
            self.message = message
            self.path = path
            self.problems = problems
        }
    }

    public var error: Detail

    public init(code: String, message: String, path: String? = nil, problems: [WorkflowProblem]? = nil) {
        self.error = Detail(code: code, message: message, path: path, problems: problems)
    }
}
