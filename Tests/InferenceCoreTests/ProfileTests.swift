import Testing
@testable import InferenceCore

@Suite("Column kinds and profiles")
struct ProfileTests {
    @Test func kindsOnRealData() throws {
        let churn = DatasetProfile(try TestData.table("mlc_churn.csv"))
        let kinds = Dictionary(uniqueKeysWithValues: churn.columns.map { ($0.name, $0.kind) })
        #expect(kinds["state"] == .categorical)
        #expect(kinds["international_plan"] == .boolean)
        #expect(kinds["account_length"] == .numeric)
        #expect(kinds["churn"] == .boolean)

        let biomass = DatasetProfile(try TestData.table("biomass.csv"))
        #expect(biomass.columns.first { $0.name == "sample" }?.kind == .identifier)
        #expect(biomass.warnings.contains { $0.hasPrefix("sample: a different value") })
    }

    @Test func missingSharesAndSummaries() throws {
        let ozone = DatasetProfile(try TestData.table("Ozone.csv"))
        let v9 = try #require(ozone.columns.first { $0.name == "V9" })
        #expect(v9.missingCount == 139)
        #expect(isClose(v9.missingShare, 139.0 / 366, tolerance: 1e-15))
        #expect(ozone.warnings.contains { $0.hasPrefix("V9: 38% of its cells are missing") })
        let summary = try #require(v9.summary)
        #expect(summary.min <= summary.median && summary.median <= summary.max)
    }

    @Test func identifierNeedsUniqueValues() {
        let ids = (0..<12).map { "SN-\($0)" }
        #expect(ColumnKind.infer(.text(codes: (0..<12).map(Int32.init), levels: ids)) == .identifier)
        #expect(ColumnKind.infer(.text(codes: [0, 1, 0, 1], levels: ["press", "lathe"])) == .categorical)
        #expect(ColumnKind.infer(.numeric([.nan, .nan])) == .empty)
        #expect(ColumnKind.infer(.text(codes: [0, 1, -1], levels: ["Yes", "No"])) == .boolean)
    }

    @Test func manyLevelsAreNotedAsCapped() throws {
        var csv = "machine,y\n"
        for row in 0..<400 { csv += "M\(row % 150),\(row)\n" }
        let profile = DatasetProfile(try TestData.table(csv: csv))
        #expect(profile.warnings.contains("machine: has 150 distinct values; the 99 most frequent are kept as categories and the rest grouped as 'other'"))
    }

    @Test func histogramsBinAsNumPy() throws {
        // numpy.histogram(range(21), bins=20): nineteen bins of one value, the last closed on both sides.
        let table = try TestData.table(csv: "x\n" + (0...20).map(String.init).joined(separator: "\n") + "\n")
        let histogram = try #require(DatasetProfile(table).columns[0].histogram)
        #expect(histogram.counts == [Int](repeating: 1, count: 19) + [2])
        #expect(histogram.lower == 0 && histogram.upper == 20)

        let ozone = DatasetProfile(try TestData.table("Ozone.csv"))
        let v9 = try #require(ozone.columns.first { $0.name == "V9" })
        #expect(v9.histogram?.counts.reduce(0, +) == 366 - 139)
        #expect(DatasetProfile(try TestData.table(csv: "a\n5\n5\n")).columns[0].histogram?.counts == [2])
    }

    @Test func eachColumnSaysWhatItWouldBeAsATarget() throws {
        let table = try TestData.table("mlc_churn.csv")
        let churn = DatasetProfile(table)
        let tasks = Dictionary(uniqueKeysWithValues: churn.columns.map { ($0.name, $0.targetTask) })
        #expect(tasks["churn"] == .classification)
        #expect(tasks["state"] == .classification)
        #expect(tasks["account_length"] == .regression)
        // Ten whole numbers are taken for class codes.
        #expect(tasks["number_customer_service_calls"] == .classification)
        // The profile says what training will infer.
        for column in churn.columns {
            #expect(try Target(table.column(named: column.name), task: nil).task == column.targetTask, "\(column.name)")
        }
        let codes = DatasetProfile(try TestData.table(csv: "grade,x\n1,0.5\n2,0.25\n3,1.5\n1,2.5\n"))
        #expect(codes.columns.map(\.targetTask) == [.classification, .regression])
        let biomass = DatasetProfile(try TestData.table("biomass.csv"))
        #expect(biomass.columns.first { $0.name == "sample" }?.targetTask == nil)
    }
}
