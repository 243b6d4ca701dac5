import Foundation
import Testing
@testable import DroverStore

@Suite("Store locations")
struct StoreLocationTests {
    @Test("store locations parse", arguments: [
        ("sqlite:./drover.db", StoreLocation.sqlite(path: "./drover.db")),
        ("sqlite:/var/lib/drover.db", .sqlite(path: "/var/lib/drover.db")),
        ("sqlite:///var/lib/drover.db", .sqlite(path: "/var/lib/drover.db")),
        ("sqlite:.drover/drover.db", .sqlite(path: ".drover/drover.db")),
        ("memory:", .memory),
    ])
    func locations(text: String, expected: StoreLocation) throws {
        #expect(try StoreLocation.parse(text) == expected)
    }

    @Test("unsupported store locations are refused with a clear message", arguments: [
        ("postgres://db/drover", "PostgreSQL support is not built yet; use sqlite:PATH"),
        ("postgresql://u@db/drover", "PostgreSQL support is not built yet"),
        ("sqlite:", "needs a file path"),
        ("redis://x", "use sqlite:PATH or memory:"),
        ("", "use sqlite:PATH or memory:"),
        ("./drover.db", "use sqlite:PATH or memory:"),
    ])
    func badLocations(text: String, message: String) {
        let error = #expect(throws: StoreLocationError.self) { try StoreLocation.parse(text) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }

    @Test("opening a location gives the store and, for SQLite, the service that closes it")
    func open() async throws {
        let memory = try await StoreLocation.memory.open(logger: .test)
        #expect(memory.store is InMemoryStore)
        #expect(memory.service == nil)
        try await TemporaryFolder.with { folder in
            let path = folder.appendingPathComponent("drover.db").path
            let opened = try await StoreLocation.parse("sqlite:\(path)").open(logger: .test)
            let store = try #require(opened.store as? SQLiteStore)
            #expect(opened.service != nil)
            #expect(store.path == path)
            try await store.close()
        }
    }
}
