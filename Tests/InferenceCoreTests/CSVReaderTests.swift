import Foundation
import Testing
@testable import InferenceCore

@Suite("CSV reader")
struct CSVReaderTests {
    @Test func quotedFieldsWithDelimitersNewlinesAndDoubledQuotes() throws {
        let table = try TestData.table(csv: "\"id\",\"note\",value\n1,\"a, b\",2.5\n2,\"line one\nline two\",3\n3,\"say \"\"hi\"\"\",4\n")
        #expect(table.columnNames == ["id", "note", "value"])
        #expect(table.rowCount == 3)
        let note = try table.column(named: "note").values
        #expect(note.text(at: 0) == "a, b")
        #expect(note.text(at: 1) == "line one\nline two")
        #expect(note.text(at: 2) == "say \"hi\"")
        #expect(try table.column(named: "value").values == .numeric([2.5, 3, 4]))
    }

    /// Text cells are coded through a cache of ASCII spellings, then a dictionary of strings: the
    /// codes must be those of the dictionary alone, past the cache's capacity, and spellings that
    /// Swift holds equal (é composed and decomposed) stay one level.
    @Test func textCodesAreTheLevelsInOrderOfFirstAppearance() throws {
        var generator = SeededGenerator(seed: 5)
        let distinct = SpellingCache.capacity + 500
        let cells = (0..<3 * distinct).map { row in row < distinct ? "id-\(row)" : "id-\(generator.next() % UInt64(distinct))" }
            + ["Sk\u{E9}vde", "Ske\u{301}vde", "", "Sk\u{E9}vde", "x y", "x y "]
        let table = try TestData.table(csv: "name\n" + cells.map { "\"\($0)\"" }.joined(separator: "\n") + "\n")
        guard case .text(let codes, let levels) = try table.column(named: "name").values else { Issue.record("name should be text"); return }
        var expected = LevelIndex()
        let expectedCodes = cells.map { $0.isEmpty ? -1 : expected.code(for: $0) }
        #expect(levels == expected.levels)
        #expect(codes == expectedCodes)
        #expect(levels.filter { $0 == "Sk\u{E9}vde" }.count == 1 && levels.count == distinct + 3)
    }

    @Test func crlfLineEndsAndByteOrderMark() throws {
        let table = try CSVReader().read(bytes: [0xEF, 0xBB, 0xBF] + Array("a,b\r\n1,2\r\n3,4\r\n".utf8))
        #expect(table.columnNames == ["a", "b"])
        #expect(try table.column(named: "b").values == .numeric([2, 4]))
    }

    @Test func nordicExcelDialectIsSniffed() throws {
        let table = try TestData.table(csv: "temperatur;tryck;linje\n12,5;1013,2;A\n-3,75;998;B\n")
        #expect(table.dialect == CSVDialect(delimiter: UInt8(ascii: ";"), decimalMark: UInt8(ascii: ",")))
        #expect(try table.column(named: "temperatur").values == .numeric([12.5, -3.75]))
        #expect(try table.column(named: "tryck").values == .numeric([1013.2, 998]))
    }

    @Test func dialectCanBeOverridden() throws {
        let csv = "a|b\n1,5|2\n"
        let table = try TestData.table(csv: csv, options: CSVReadOptions(delimiter: UInt8(ascii: "|"), decimalMark: UInt8(ascii: ",")))
        #expect(try table.column(named: "a").values == .numeric([1.5]))
    }

    @Test func tabAndSemicolonWithPeriodDecimals() throws {
        #expect(try TestData.table(csv: "a\tb\n1.5\t2\n").dialect.delimiter == UInt8(ascii: "\t"))
        let semicolon = try TestData.table(csv: "a;b\n1.5;2\n")
        #expect(semicolon.dialect == CSVDialect(delimiter: UInt8(ascii: ";"), decimalMark: UInt8(ascii: ".")))
        #expect(try semicolon.column(named: "a").values == .numeric([1.5]))
    }

    @Test("Missing-value spellings", arguments: ["", "NA", "na", "N/A", "NaN", "null", "NULL", "?", "  "])
    func missingSpellings(_ token: String) throws {
        let table = try TestData.table(csv: "x,y\n1,a\n\(token),b\n")
        guard case .numeric(let values) = try table.column(named: "x").values else { Issue.record("x should be numeric"); return }
        #expect(values[0] == 1 && values[1].isNaN)
    }

    @Test func numbersAreParsedExactlyAsStrtod() throws {
        let spellings = ["0.1", "1e-7", "123456789012345678901234", "-0.000123", "2.2250738585072014e-308", "+7", "1.", ".5", "9007199254740993", "3.14159265358979323846"]
        let table = try TestData.table(csv: "x\n" + spellings.joined(separator: "\n") + "\n")
        guard case .numeric(let values) = try table.column(named: "x").values else { Issue.record("x should be numeric"); return }
        #expect(values == spellings.map { strtod($0, nil) })
    }

    @Test("Random numbers read back exactly as strtod reads them", arguments: [(",", "."), (";", ","), ("\t", ".")])
    func randomNumbersAreExact(_ delimiter: String, _ decimalMark: String) throws {
        var generator = SeededGenerator(seed: 11)
        var spellings: [[String]] = []
        for _ in 0..<3000 {
            spellings.append((0..<3).map { column in
                let digits = String(generator.next() % 10_000_000_000_000_000_000).prefix(Int(1 + generator.next() % 19))
                let split = Int(generator.next() % UInt64(digits.count + 1))
                let sign = generator.next() % 3 == 0 ? "-" : ""
                let exponent = column == 2 && generator.next() % 2 == 0 ? "e\(Int(generator.next() % 40) - 20)" : ""
                return sign + digits.prefix(split) + "." + digits.dropFirst(split) + exponent
            })
        }
        let csv = "a\(delimiter)b\(delimiter)c\n" + spellings.map { row in
            row.map { $0.replacingOccurrences(of: ".", with: decimalMark) }.joined(separator: delimiter)
        }.joined(separator: "\n") + "\n"
        let table = try TestData.table(csv: csv)
        for (column, name) in ["a", "b", "c"].enumerated() {
            guard case .numeric(let values) = try table.column(named: name).values else { Issue.record("\(name) should be numeric"); return }
            #expect(values.map(\.bitPattern) == spellings.map { strtod($0[column], nil).bitPattern })
        }
    }

    @Test func delimiterAndDecimalMarkMustDiffer() {
        #expect(throws: TestbedError(.invalidParameter, "the delimiter and the decimal mark are both ',' (comma); they must differ (for example ';' with ',')")) {
            try TestData.table(csv: "a,b\n1,2\n", options: CSVReadOptions(decimalMark: UInt8(ascii: ",")))
        }
    }

    @Test func columnThatTurnsToTextKeepsItsSpelling() throws {
        // The first rows look numeric; the second pass keeps "007" and "1.50" as written.
        let table = try TestData.table(csv: "code,v\n007,1\n1.50,2\nX-9,3\n")
        #expect(try table.column(named: "code").values == .text(codes: [0, 1, 2], levels: ["007", "1.50", "X-9"]))
    }

    @Test func recordsAcrossChunkBoundaries() throws {
        var csv = "name,value\n"
        for row in 0..<500 { csv += "\"item \(row), with \"\"quote\"\"\",\(Double(row) / 8)\r\n" }
        var reader = CSVReader()
        reader.chunkSize = 7  // forces every record to straddle reads
        let table = try reader.read(bytes: Array(csv.utf8))
        #expect(table.rowCount == 500)
        #expect(try table.column(named: "name").values.text(at: 499) == "item 499, with \"quote\"")
        #expect(try table.column(named: "value").values == .numeric((0..<500).map { Double($0) / 8 }))
    }

    @Test func readsFromFileAsFromMemory() throws {
        let path = TestData.datasetPath("Glass.csv")
        let fromFile = try CSVReader().read(file: path)
        let fromMemory = try CSVReader().read(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(fromFile == fromMemory)
        #expect(fromFile.rowCount == 214 && fromFile.columns.count == 10)
    }

    @Test func blankLinesAreSkipped() throws {
        #expect(try TestData.table(csv: "a,b\n1,2\n\n3,4\n\n").rowCount == 2)
    }

    @Test func tableFromRowsOfCells() throws {
        // As a JSON request delivers rows: numbers as text, missing as nil or a missing spelling.
        let table = DataTable(names: ["temp", "line"], rows: [["21.5", "A"], [nil, "B"], ["NA", nil], ["-3", "A"]])
        guard case .numeric(let temp) = try table.column(named: "temp").values else { Issue.record("temp should be numeric"); return }
        #expect(temp[0] == 21.5 && temp[1].isNaN && temp[2].isNaN && temp[3] == -3)
        #expect(try table.column(named: "line").values == .text(codes: [0, 1, -1, 0], levels: ["A", "B"]))
    }

    // MARK: bad input

    @Test func raggedRowNamesItsLineAndCounts() {
        #expect(throws: TestbedError(.malformedCSV, "line 3: found 3 fields, expected 2 as in the header (delimiter ',' (comma)); a value that contains the delimiter must be quoted")) {
            try TestData.table(csv: "a,b\n1,2\n3,4,5\n")
        }
    }

    @Test func raggedRowAfterQuotedNewlineCountsPhysicalLines() throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "a,b\n\"x\ny\",2\n3\n") }
        #expect(error.message.hasPrefix("line 4: found 1 fields, expected 2"))
    }

    @Test("Empty input", arguments: ["", "\n\n", "   \r\n"])
    func emptyFile(_ csv: String) throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: csv) }
        #expect(error.code == .malformedCSV && error.message.contains("the file is empty"))
    }

    @Test func headerOnly() throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "a,b,c\n") }
        #expect(error.message == "the file has a header (3 columns) but no data rows; expected at least one row below the header")
    }

    @Test func invalidUTF8NamesLineAndColumn() throws {
        let bytes = Array("name,v\nok,1\n".utf8) + [0x66, 0xFF, 0x6F] + Array(",2\n".utf8)
        let error = try #require(throws: TestbedError.self) { try CSVReader().read(bytes: bytes) }
        #expect(error.message.hasPrefix("line 3, column 'name': the bytes are not valid UTF-8"))
    }

    @Test func unterminatedQuote() throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "a,b\n1,\"open\n") }
        #expect(error.message.hasPrefix("line 2: a quoted field is not closed"))
    }

    @Test func textAfterClosingQuote() throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "a,b\n\"x\"y,1\n") }
        #expect(error.message.hasPrefix("line 2: unexpected text after a closing quote"))
    }

    @Test func duplicateColumnNames() throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "a,b,a\n1,2,3\n") }
        #expect(error.message.contains("'a' appears twice (columns 1 and 3)"))
    }

    @Test func unknownColumnListsTheColumns() {
        #expect(throws: TestbedError(.unknownColumn, "there is no column 'Typ'; the columns are: 'a', 'b'")) {
            try TestData.table(csv: "a,b\n1,2\n").column(named: "Typ")
        }
    }
}
