import Foundation
import Testing

/// The documents people read: README, CONTRIBUTING and docs/ in English and Chinese, and the
/// benchmarks' README. Links must lead somewhere, the two languages must share one layout (so that
/// neither can drift), and every option a command line in them shows must exist in the binaries.
@Suite struct DocumentationTests {
    /// The checkout whose documents are read: this one, or `OPENIDD_DOCUMENTS_ROOT` (to check a draft
    /// in another work tree with binaries already built).
    static let root =
        ProcessInfo.processInfo.environment["OPENIDD_DOCUMENTS_ROOT"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every Markdown file that is documentation, relative to the repository's root.
    static func documents() -> [String] {
        var files = [
            "README.md", "README.zh-CN.md", "CONTRIBUTING.md", "CONTRIBUTING.zh-CN.md",
            "Benchmarks/README.md",
        ]
        if let walker = FileManager.default.enumerator(atPath: root + "/docs") {
            for case let path as String in walker where path.hasSuffix(".md") { files.append("docs/" + path) }
        }
        return files.filter { FileManager.default.fileExists(atPath: root + "/" + $0) }.sorted()
    }

    /// English documents and their Chinese twins.
    static func translations() -> [(english: String, chinese: String)] {
        documents().compactMap { english in
            if english == "README.md" || english == "CONTRIBUTING.md" {
                return (english, english.replacingOccurrences(of: ".md", with: ".zh-CN.md"))
            }
            if english.hasPrefix("docs/"), !english.hasPrefix("docs/zh-CN/") {
                return (english, "docs/zh-CN/" + english.dropFirst("docs/".count))
            }
            return nil
        }
    }

    static func read(_ file: String) throws -> String {
        try String(contentsOfFile: root + "/" + file, encoding: .utf8)
    }

    /// The text outside fenced code blocks, line by line, and the code blocks' lines.
    static func split(_ text: String) -> (prose: [String], code: [String]) {
        var prose: [String] = []
        var code: [String] = []
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inCode.toggle()
                continue
            }
            if inCode { code.append(String(line)) } else { prose.append(String(line)) }
        }
        return (prose, code)
    }

    /// The anchors GitHub makes for a document's headings: lower case, letters, digits, `-` and `_`
    /// kept, spaces turned into `-`, a repeated one numbered.
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var result: Set<String> = []
        for line in split(text).prose where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            var slug = ""
            for scalar in title.lowercased().unicodeScalars {
                if scalar == " " {
                    slug += "-"
                } else if scalar == "-" || scalar == "_" || CharacterSet.alphanumerics.contains(scalar) {
                    slug.unicodeScalars.append(scalar)
                }
            }
            let count = seen[slug, default: 0]
            seen[slug] = count + 1
            result.insert(count == 0 ? slug : "\(slug)-\(count)")
        }
        return result
    }

    /// The heading levels in order: the layout two translations share.
    static func outline(_ text: String) -> [Int] {
        split(text).prose.filter { $0.hasPrefix("#") }.map { $0.prefix { $0 == "#" }.count }
    }

    static func fencedBlocks(_ text: String) -> Int {
        text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }.count
            / 2
    }

    @Test func theDocumentsExist() {
        let documents = Self.documents()
        for required in ["README.md", "README.zh-CN.md", "CONTRIBUTING.md", "Benchmarks/README.md"] {
            #expect(documents.contains(required), "\(required) is missing")
        }
    }

    @Test func everyRelativeLinkResolves() throws {
        let link = try Regex(#"\]\(([^)\s]+)\)"#)
        var checked = 0
        for document in Self.documents() {
            let text = try Self.read(document)
            let directory = (document as NSString).deletingLastPathComponent
            for line in Self.split(text).prose {
                for match in line.matches(of: link) {
                    let target = String(line[match.range]).dropFirst(2).dropLast()
                    if target.contains("://") || target.hasPrefix("mailto:") { continue }
                    let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                    let path =
                        parts[0].isEmpty
                        ? document : (directory as NSString).appendingPathComponent(String(parts[0]))
                    let standardized = (path as NSString).standardizingPath
                    #expect(
                        FileManager.default.fileExists(atPath: Self.root + "/" + standardized),
                        "\(document): the link \(target) leads to \(standardized), which does not exist")
                    if parts.count == 2, standardized.hasSuffix(".md"),
                        let linked = try? Self.read(standardized)
                    {
                        #expect(
                            Self.anchors(linked).contains(String(parts[1])),
                            "\(document): the link \(target) names a heading \(standardized) does not have")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 0)
    }

    @Test func englishAndChineseShareOneLayout() throws {
        let pairs = Self.translations()
        #expect(pairs.contains { $0.english == "README.md" })
        for (english, chinese) in pairs {
            guard FileManager.default.fileExists(atPath: Self.root + "/" + chinese) else {
                Issue.record("\(english) has no Chinese twin at \(chinese)")
                continue
            }
            let (englishText, chineseText) = (try Self.read(english), try Self.read(chinese))
            #expect(
                Self.outline(englishText) == Self.outline(chineseText),
                "\(english) and \(chinese) have different headings (levels, in order)")
            #expect(
                Self.fencedBlocks(englishText) == Self.fencedBlocks(chineseText),
                "\(english) and \(chinese) have different numbers of code blocks")
        }
        for document in Self.documents() where document.hasPrefix("docs/zh-CN/") {
            let english = "docs/" + document.dropFirst("docs/zh-CN/".count)
            #expect(
                FileManager.default.fileExists(atPath: Self.root + "/" + english),
                "\(document) has no English original at \(english)")
        }
    }

    /// The words after `openidd` or `openidctl` where one of them is the command of a shell line (in a
    /// code block or an inline code span), e.g. `openidctl --json get u-42`.
    static func commandLines(_ text: String) throws -> [(binary: String, words: [String])] {
        let span = try Regex("`([^`]+)`")
        let (prose, code) = split(text)
        var candidates = code
        for line in prose {
            candidates += line.matches(of: span).map { String(line[$0.range].dropFirst().dropLast()) }
        }
        var result: [(String, [String])] = []
        for candidate in candidates {
            let uncommented = candidate.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[
                0]
            for segment in uncommented.split(whereSeparator: { "|;&".contains($0) }) {
                var words = segment.split(separator: " ").map(String.init)
                while let first = words.first,
                    first == "$" || first == "sudo" || first.contains("=") && !first.hasPrefix("-")
                {
                    words.removeFirst()
                }
                if words.count >= 2, words[0] == "swift", words[1] == "run" { words.removeFirst(2) }
                guard let command = words.first else { continue }
                let binary = (command as NSString).lastPathComponent
                if binary == "openidd" || binary == "openidctl" {
                    result.append((binary, Array(words.dropFirst())))
                }
            }
        }
        return result
    }

    @Test func everyOptionACommandLineShowsExists() throws {
        let help = [
            "openidd": try run(Binaries.openidd, ["--help"]).stdout,
            "openidctl": try run(Binaries.openidctl, ["--help"]).stdout,
        ]
        var checked = 0
        for document in Self.documents() {
            for (binary, words) in try Self.commandLines(try Self.read(document)) {
                for word in words where word.hasPrefix("--") && word.count > 2 {
                    let option = String(word.prefix { $0 != "=" && $0 != "]" && $0 != "," })
                    #expect(
                        help[binary]!.contains(option),
                        "\(document): `\(binary) \(words.joined(separator: " "))` shows \(option), which `\(binary) --help` does not list"
                    )
                    checked += 1
                }
            }
        }
        #expect(checked > 10, "only \(checked) options found in the documents' command lines")
    }

    /// The checks above must be able to fail: a made-up link, a made-up heading and a made-up option.
    @Test func theChecksSeeWhatIsWrong() throws {
        #expect(
            Self.anchors("# A `GET /v1/x?y=Z` b\n## 快速开始\n## Same\n## Same").isSuperset(of: [
                "a-get-v1xyz-b", "快速开始", "same", "same-1",
            ]))
        #expect(Self.outline("# A\n```\n# not a heading\n```\n## B") == [1, 2])
        let lines = try Self.commandLines(
            "Run `sudo openidctl --json get u` or\n```\nX=1 .build/debug/openidd --check-config | cat\n```\n`journalctl -u openidd --since x`"
        )
        #expect(lines.map(\.binary) == ["openidd", "openidctl"])
        #expect(lines.map(\.words) == [["--check-config"], ["--json", "get", "u"]])
    }
}
