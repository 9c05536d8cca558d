import Foundation
import Testing
@testable import InferenceCore

/// Input that once stopped the process (a trap on an integer conversion or overflow) or cost
/// memory out of proportion to its size: each now gets an error that says what was wrong, or a
/// result with only finite numbers in it.
@Suite("Hostile input to the core")
struct HostileInputTests {
    @Test("Numbers beyond a double's range are refused with the line and column",
          arguments: ["1e400", "-1e400", "123e99999"])
    func overflowingNumbersAreRefused(_ spelling: String) throws {
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "x,y\n1,1\n\(spelling),2\n") }
        #expect(error.code == .malformedCSV)
        #expect(error.message.contains("line 3, column 'x'") && error.message.contains("beyond the range"))
    }

    @Test("Profiles of values at the ends of the double range are finite",
          arguments: ["x,y\n1,1\n1.7e308,2\n-1.7e308,3\n", "x,y\n1.7e308,1\n1.79e308,2\n", "x,y\n-1.7976931348623157e308,1\n1.7976931348623157e308,2\n0,3\n"])
    func extremeValuesProfileToFiniteNumbers(_ csv: String) throws {
        let profile = DatasetProfile(try TestData.table(csv: csv))
        let x = try #require(profile.columns.first { $0.name == "x" })
        let summary = try #require(x.summary)
        for value in [summary.min, summary.max, summary.mean, summary.std, summary.median] { #expect(value.isFinite) }
        #expect(summary.min <= summary.mean && summary.mean <= summary.max)
        let histogram = try #require(x.histogram)
        #expect(histogram.counts.reduce(0, +) == 3 || histogram.counts.reduce(0, +) == 2)
        // The profile is what an upload answers: it must encode as JSON.
        _ = try JSONEncoder().encode(profile)
    }

    @Test func extremeMeanMatchesTheExactValue() {
        let (mean, std) = [1.7e308, -1.7e308, 1.7e308, -1.7e308].meanAndStandardDeviation()
        #expect(mean == 0)
        #expect(isClose(std, 1.7e308, tolerance: 1e-12))
    }

    @Test func aHeaderOfMillionsOfDelimitersIsRefusedWhileSplit() throws {
        let header = [UInt8](repeating: UInt8(ascii: ","), count: 5_000_000) + Array("\n".utf8)
        let reader = CSVReader(options: CSVReadOptions(maxColumns: 1_000))
        let error = try #require(throws: TestbedError.self) { try reader.read(bytes: header + header) }
        #expect(error.message == "line 1: more than 1000 fields; at most 1000 columns are accepted (--max-columns)")
    }

    @Test func theDefaultColumnLimitAppliesToo() throws {
        let header = String(repeating: "c,", count: CSVReadOptions.defaultMaxColumns) + "c\n"
        let error = try #require(throws: TestbedError.self) { try CSVReader().read(bytes: Array((header + header).utf8)) }
        #expect(error.message.contains("more than \(CSVReadOptions.defaultMaxColumns) fields"))
    }

    @Test func longNamesAreClippedInMessages() throws {
        let name = String(repeating: "n", count: 1_000_000)
        let error = try #require(throws: TestbedError.self) { try TestData.table(csv: "\(name),\(name)\n1,2\n") }
        #expect(error.message.count < 300)
        #expect(error.message.contains("(1000000 characters)"))
    }

    @Test("What-if grids are checked before they are built", arguments: [
        (0.0, 1.0, 1e-300), (-1.7e308, 1.7e308, 1.0), (0.0, 1e308, 1e-308), (0.0, 1.0, .ulpOfOne), (0.0, 2000.0, 1.0),
    ])
    func whatIfGridsThatAreTooLargeAreRefused(_ from: Double, _ to: Double, _ step: Double) throws {
        let error = try #require(throws: TestbedError.self) { try WhatIfGrid.values(from: from, to: to, step: step) }
        #expect(error.code == .invalidParameter && error.message.contains("more than 1000 points"))
    }

    @Test("What-if ranges that are not ranges are refused", arguments: [
        (1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 1.0, -1.0), (0.0, .infinity, 1.0), (.nan, 1.0, 1.0), (0.0, 1.0, .nan),
    ])
    func malformedRangesAreRefused(_ from: Double, _ to: Double, _ step: Double) throws {
        let error = try #require(throws: TestbedError.self) { try WhatIfGrid.values(from: from, to: to, step: step) }
        #expect(error.message.contains("range needs from <= to and step > 0"))
    }

    @Test func whatIfGridsKeepTheirPoints() throws {
        #expect(try WhatIfGrid.values(from: 0, to: 1, step: 0.25) == [0, 0.25, 0.5, 0.75, 1])
        #expect(try WhatIfGrid.values(from: 0, to: 999, step: 1).count == 1000)
        let span = WhatIfGrid.span(low: -1.7e308, high: 1.7e308)
        #expect(span.count == 21 && span.first == -1.7e308 && span.last == 1.7e308 && span.allSatisfy(\.isFinite))
        #expect(span[10] == 0)
    }
}
