import Testing
@testable import DroverStore

@Suite("Record cache")
struct RecordCacheTests {
    @Test("reads are served from the cache after the first; a write replaces the entry")
    func readThrough() async throws {
        let cache = RecordCache<Int>()
        var loads = 0
        #expect(await cache.read("a") { loads += 1; return 1 } == 1)
        #expect(await cache.read("a") { loads += 1; return 2 } == 1)
        #expect(loads == 1)
        await cache.write("a", record: 5) {}
        #expect(await cache.read("a") { loads += 1; return 9 } == 5)
        await cache.write("a", record: nil) {}
        #expect(await cache.read("a") { nil } == nil)
        #expect(await cache.read("a") { 7 } == 7)
    }

    @Test("a read that raced a write does not cache what it read; overlapping writes cache nothing")
    func races() async throws {
        let cache = RecordCache<Int>()
        // The read loads the old value while a write happens: the old value must not stick.
        let stale = await cache.read("a") {
            await cache.write("a", record: 2) {}
            return 1
        }
        #expect(stale == 1)
        #expect(await cache.read("a") { 2 } == 2)
        // A write that overlaps another write of the same id leaves the entry empty.
        await cache.write("b", record: 1) {
            await cache.write("b", record: 2) {}
        }
        #expect(await cache.read("b") { 3 } == 3)
        // A failed write caches nothing.
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await cache.write("c", record: 1) { throw Boom() } }
        #expect(await cache.read("c") { 4 } == 4)
    }

    @Test("the cache holds at most its capacity")
    func capacity() async {
        let cache = RecordCache<Int>(capacity: 2)
        for (index, id) in ["a", "b", "c"].enumerated() { await cache.write(id, record: index) {} }
        var loads = 0
        for id in ["a", "b", "c"] { _ = await cache.read(id) { loads += 1; return -1 } }
        #expect(loads >= 1)
    }
}
