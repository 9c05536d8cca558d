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
}
