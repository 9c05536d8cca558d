/// A dense matrix of `Double` in contiguous row-major storage.
///
/// A value type: copies are cheap until written (the storage is a Swift array).
/// Numerical kernels reach its storage through ``BLAS``.
public struct Matrix: Sendable, Equatable {
    public private(set) var rows: Int
    public private(set) var columns: Int
    /// Row-major elements: element (i, j) is at `i * columns + j`.
    public var storage: [Double]

    /// A matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// A matrix over existing row-major storage.
    public init(rows: Int, columns: Int, storage: [Double]) {
        precondition(storage.count == rows * columns, "storage has \(storage.count) elements, expected \(rows * columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "rows must have equal length")
        self.init(rows: rowArrays.count, columns: columns, storage: rowArrays.flatMap { $0 })
    }

    public subscript(row: Int, column: Int) -> Double {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// The elements of one row, copied.
    public func row(_ index: Int) -> [Double] {
        Array(storage[index * columns ..< (index + 1) * columns])
    }

    /// The elements of one column, copied.
    public func column(_ index: Int) -> [Double] {
        (0..<rows).map { storage[$0 * columns + index] }
    }

    /// The rows at `indices`, in that order.
    public func selectingRows<C: Collection>(_ indices: C) -> Matrix where C.Element == Int {
        var result = [Double]()
        result.reserveCapacity(indices.count * columns)
        storage.withUnsafeBufferPointer { source in
            for index in indices {
                result.append(contentsOf: source[index * columns ..< (index + 1) * columns])
            }
        }
        return Matrix(rows: indices.count, columns: columns, storage: result)
    }

    /// The transpose, as a new row-major matrix.
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns {
                result.storage[j * rows + i] = storage[i * columns + j]
            }
        }
        return result
    }
}
