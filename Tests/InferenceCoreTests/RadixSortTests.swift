import Testing
@testable import InferenceCore

@Suite("The radix sort of whole columns")
struct RadixSortTests {
    /// Columns as real exports have them, and the doubles that sort oddly by their bits.
    static let columns: [(name: String, values: [Double])] = {
        var generator = SeededGenerator(seed: 7)
        func uniform() -> Double { Double(generator.next() % 1_000_000_007) / 1_000_000_007 }
        let sensors = (0..<5_000).map { _ in uniform() * 2000 - 1000 }
        let counts = (0..<3_000).map { _ in Double(generator.next() % 12) }
        let epochs = (0..<4_000).map { index in 1_767_225_600 + Double(index) * 10 + (generator.next() % 50 == 0 ? .nan : 0) }
        let special: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                 .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 1, -1]
        let odd = (0..<2_000).map { index in special[index % special.count] * (index % 3 == 0 ? 1 : uniform() + 0.5) }
        let wide = (0..<3_000).map { _ in Double(bitPattern: generator.next()) }  // every exponent, NaNs among them
        return [("sensor readings", sensors), ("counts with many repeats", counts), ("times with gaps", epochs),
                ("zeros, infinities and subnormals", odd), ("arbitrary bit patterns", wide), ("a few values", Array(sensors.prefix(50)))]
    }()

    @Test(arguments: columns.map(\.name))
    func sortsAsTheStandardLibrary(_ name: String) {
        let values = Self.columns.first { $0.name == name }!.values
        let expected = values.filter { !$0.isNaN }.sorted()
        let sorted = values.sortedPresent()
        #expect(sorted.count == expected.count)
        // Equal as values (-0.0 and 0.0 may trade places), and in order.
        #expect(zip(sorted, expected).allSatisfy { $0 == $1 })
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0 <= $1 })
        // The same values bit for bit: a permutation of the present ones.
        #expect(sorted.map(\.bitPattern).sorted() == expected.map(\.bitPattern).sorted())
    }
}
