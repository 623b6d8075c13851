import MicroHTTPServer
import Testing

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test("lookup ignores ASCII case and answers the first match")
    func caseInsensitiveFirstMatch() {
        var headers = HTTPHeaders([(name: "Content-Type", value: "a")])
        headers.add(name: "content-type", value: "b")
        #expect(headers["CONTENT-TYPE"] == "a")
        #expect(headers["content-type"] == "a")
        #expect(headers["Content-Typ"] == nil)
        #expect(headers["Content-Types"] == nil)
    }

    @Test("iteration keeps insertion order and repeated names")
    func orderedIteration() {
        var headers = HTTPHeaders()
        headers.add(name: "B", value: "1")
        headers.add(name: "A", value: "2")
        headers.add(name: "B", value: "3")
        #expect(headers.map(\.name) == ["B", "A", "B"])
        #expect(headers.map(\.value) == ["1", "2", "3"])
        #expect(headers.count == 3)
    }
}
