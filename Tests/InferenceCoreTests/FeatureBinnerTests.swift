import Testing
@testable import InferenceCore

@Suite("Binning features for the trees")
struct FeatureBinnerTests {
    /// What a value's bin must be: the number of bounds below it, after the last one for missing values.
    static func expectedBin(_ value: Double, _ bounds: [Double]) -> UInt8 {
        UInt8(value.isNaN ? bounds.count + 1 : bounds.firstIndex { $0 >= value } ?? bounds.count)
    }

    /// Real columns (readings with missing cells, a count with few values) and the values that bin oddly.
    static let columns: [(name: String, values: [Double])] = {
        let ozone = try! TestData.table("Ozone.csv")
        func numbers(_ name: String) -> [Double] {
            let column = try! ozone.column(named: name)
            guard case .numeric(let values) = column.values else { fatalError("\(name) is not numeric") }
            return values
        }
        let special: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1e308, -1e308, .leastNonzeroMagnitude, 1, 1, 2, 3]
        return [("Ozone V9, with missing cells", numbers("V9")), ("Ozone V1, twelve months", numbers("V1")),
                ("infinities, zeros and huge values", (0..<600).map { special[$0 % special.count] * Double($0 % 7 + 1) })]
    }()

    @Test(arguments: columns.map(\.name), [255, 16, 2])
    func everyValueGoesToTheFirstBinWhoseBoundHoldsIt(_ name: String, maxBins: Int) {
        let values = Self.columns.first { $0.name == name }!.values
        let binner = FeatureBinner(fitting: Matrix(rows: values.count, columns: 1, storage: values), maxBins: maxBins, seed: 1)
        let bounds = binner.thresholds[0]
        #expect(bounds == FeatureBinner.bounds(sortedValues: values.filter { !$0.isNaN }.sorted(), maxBins: maxBins))
        #expect(bounds.count < maxBins)
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 })
        #expect(binner.binned == values.map { Self.expectedBin($0, bounds) })
    }

    /// Beyond ``FeatureBinner/boundSampleRows`` rows, the bounds come from a random sample of that
    /// many rows (as scikit-learn's and LightGBM's come from a sample), every row is still binned,
    /// and a column that repeats every other row keeps both its values.
    @Test func largeTablesFitTheirBoundsOnARandomSample() throws {
        let rows = FeatureBinner.boundSampleRows + 50_000
        var generator = SeededGenerator(seed: 3)
        var storage: [Double] = []
        storage.reserveCapacity(3 * rows)
        for row in 0..<rows {
            let reading = Double(generator.next() % 1_000_000) / 1000 - 500
            storage += [row % 97 == 0 ? .nan : reading, Double(row % 2), Double(row % 9)]
        }
        let x = Matrix(rows: rows, columns: 3, storage: storage)
        let binner = FeatureBinner(fitting: x, maxBins: 255, seed: 5)
        let sample = try #require(FeatureBinner.sampleRows(rows, seed: 5))
        #expect(sample.count == FeatureBinner.boundSampleRows)
        #expect(zip(sample, sample.dropFirst()).allSatisfy { $0 < $1 } && sample.last! < rows)
        #expect(FeatureBinner.sampleRows(rows, seed: 6) != sample)
        #expect(FeatureBinner.sampleRows(FeatureBinner.boundSampleRows, seed: 5) == nil)
        for feature in 0..<3 {
            let bounds = binner.thresholds[feature]
            #expect(bounds == FeatureBinner.bounds(sortedValues: sample.map { x[$0, feature] }.filter { !$0.isNaN }.sorted(), maxBins: 255))
            // Each value lies between the bounds on either side of its bin.
            let misplaced = (0..<rows).filter { row in
                let (value, bin) = (x[row, feature], Int(binner.binned[feature * rows + row]))
                if value.isNaN { return bin != bounds.count + 1 }
                return !((bin == 0 || bounds[bin - 1] < value) && (bin == bounds.count || value <= bounds[bin]))
            }
            #expect(misplaced.isEmpty, "feature \(feature): rows \(misplaced.prefix(5)) are in the wrong bin")
        }
        #expect(binner.thresholds[1] == [0.5])
        #expect(binner.thresholds[2] == (0..<8).map { Double($0) + 0.5 })
    }
}
