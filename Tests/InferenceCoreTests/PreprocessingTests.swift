import Testing
@testable import InferenceCore

@Suite("Preprocessing")
struct PreprocessingTests {
    let training = """
        speed,shift,ok
        10,day,yes
        ,night,no
        30,,yes
        40,day,no

        """

    func fitted(missingIndicators: Bool = false) throws -> (Preprocessor, DataTable) {
        let table = try TestData.table(csv: training)
        let features = [FeatureSpec(name: "speed", kind: .numeric), FeatureSpec(name: "shift", kind: .categorical), FeatureSpec(name: "ok", kind: .boolean)]
        return (try Preprocessor.fit(table, features: features, options: PreprocessingOptions(missingIndicators: missingIndicators)), table)
    }

    @Test func medianImputationStandardisationAndOneHot() throws {
        let (preprocessor, table) = try fitted()
        #expect(preprocessor.outputNames == ["speed", "shift=day", "shift=night", "shift=(missing)", "ok"])
        let x = try preprocessor.transform(table)
        // speed: median of 10, 30, 40 is 30; imputed column 10, 30, 30, 40 has mean 27.5.
        let imputed = [10.0, 30, 30, 40]
        let std = (imputed.map { ($0 - 27.5) * ($0 - 27.5) }.reduce(0, +) / 4).squareRoot()
        #expect(maxRelativeError(x.column(0), imputed.map { ($0 - 27.5) / std }) < 1e-15)
        #expect(x.column(1) == [1, 0, 0, 1])
        #expect(x.column(2) == [0, 1, 0, 0])
        #expect(x.column(3) == [0, 0, 1, 0])
        #expect(x.column(4) == [1, -1, 1, -1])  // yes/no as 1/0, standardised
    }

    @Test func unseenCategoryIsAllZeroWithAWarning() throws {
        let (preprocessor, _) = try fitted()
        let input = try TestData.table(csv: "speed,shift,ok\n20,weekend,yes\n")
        let (x, warnings) = try preprocessor.transformWithWarnings(input)
        #expect(Array(x.row(0)[1...3]) == [0, 0, 0])
        #expect(warnings[0] == ["shift: category 'weekend' was not among the training categories; it adds nothing to the prediction"])
    }

    @Test func missingIndicatorMarksImputedCells() throws {
        let (preprocessor, table) = try fitted(missingIndicators: true)
        #expect(preprocessor.outputNames.prefix(2) == ["speed", "speed (missing)"])
        #expect(try preprocessor.transform(table).column(1) == [0, 1, 0, 0])
    }

    @Test func constantColumnGetsScaleOne() throws {
        let table = try TestData.table(csv: "c,y\n5,1\n5,2\n5,3\n")
        let preprocessor = try Preprocessor.fit(table, features: [FeatureSpec(name: "c", kind: .numeric)])
        #expect(try preprocessor.transform(table).column(0) == [0, 0, 0])
    }

    @Test func absentColumnIsRejectedOrImputed() throws {
        let (preprocessor, _) = try fitted()
        let input = try TestData.table(csv: "speed,ok\n20,yes\n")
        let error = try #require(throws: TestbedError.self) { try preprocessor.transform(input) }
        #expect(error.message.hasPrefix("the input lacks the column 'shift'"))
        let (_, warnings) = try preprocessor.transformWithWarnings(input, missingColumns: .impute)
        #expect(warnings[0] == ["shift: column not given; treated as missing"])
    }

    @Test func textInNumericFeatureIsAClearError() throws {
        let (preprocessor, _) = try fitted()
        let input = try TestData.table(csv: "speed,shift,ok\nfast,day,yes\n")
        #expect(throws: TestbedError(.unsuitableData, "column 'speed', row 1: 'fast' is not a number; the model was trained with numbers in this column")) {
            try preprocessor.transform(input)
        }
    }

    @Test func manyLevelsKeepTheMostFrequentAndGroupTheRest() throws {
        var csv = "machine,y\n"
        for row in 0..<300 { csv += "M\(row < 100 ? 0 : row % 150),\(row)\n" }
        let table = try TestData.table(csv: csv)
        let preprocessor = try Preprocessor.fit(table, features: [FeatureSpec(name: "machine", kind: .categorical)])
        #expect(preprocessor.width == 100)
        #expect(preprocessor.outputNames.last == "machine=other")
        let x = try preprocessor.transform(try TestData.table(csv: "machine\nM0\nnever-seen\n"))
        #expect(x[0, preprocessor.outputNames.firstIndex(of: "machine=M0")!] == 1)
        #expect(x[1, 99] == 1)  // unseen grouped with the rare ones
    }
}
