import Testing

@testable import HTTP1

@Suite struct QueryDecodingTests {
    private func decode(_ query: Substring) throws(HTTPParseError) -> [String] {
        try QueryDecoding.decode(query).map { "\($0.name)=\($0.value)" }
    }

    @Test func decodesFormEncoding() throws {
        #expect(
            try decode("userId=u%2042&x=a+b&plus=%2B&eq=a=b&flag&=v&e=&&") == [
                "userId=u 42", "x=a b", "plus=+", "eq=a=b", "flag=", "=v", "e=",
            ])
    }

    @Test func decodesUTF8AndBothHexCases() throws {
        #expect(try decode("name=%E5%BC%A0%e4%b8%89") == ["name=张三"])
        #expect(try decode("%41%42=%43") == ["AB=C"])
    }

    @Test func keepsOrderAndDuplicates() throws {
        #expect(try decode("a=1&b=2&a=3") == ["a=1", "b=2", "a=3"])
    }

    @Test func decodesNothingFromAnEmptyQuery() throws {
        #expect(try decode("").isEmpty)
    }

    @Test(arguments: ["a=%", "a=%4", "a=%4g", "a=%%41", "%zz=1", "a=%C3", "a=%FF", "a=%ED%A0%80"])
    func refusesMalformedEncoding(query: String) {
        let error = #expect(throws: HTTPParseError.self) { try QueryDecoding.decode(Substring(query)) }
        #expect(error?.status == 400)
    }
}
