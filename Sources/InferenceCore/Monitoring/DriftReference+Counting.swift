extension DriftReference {
    /// Counts the rows of an input table (as a client sent it: columns by name, numeric features possibly as text
    /// columns, as the Preprocessor accepts them; a feature column missing from the table counts every row as missing)
    /// and their predictions into `counts`.
    ///
    /// Cheap enough for the request hot path: no allocation per row; the levels of a text column
    /// are mapped to bins once per table (in a stack buffer for a small table), then each row
    /// costs a lookup and an increment. Text cells are read as the preprocessor reads them:
    /// numbers with either decimal mark, yes/no in any letter case or as 1 and 0, categories by
    /// their exact text. Never throws: anything unreadable counts as missing.
    ///
    /// - Parameters:
    ///   - predictions: the predictions of `table`'s rows; regression values are binned, a
    ///     classification's predicted class indices counted.
    ///   - counts: made by `DriftCounts(reference:)` from this reference; counts laid out for
    ///     another reference are left unchanged.
    public func count(_ table: DataTable, predictions: Predictions, into counts: inout DriftCounts) {
        guard counts.fits(self) else { return }
        counts.rows += table.rowCount
        let rows = table.rowCount
        let columns = table.columns
        // Through pointers, so that quantities and columns are borrowed rather than copied.
        features.withUnsafeBufferPointer { quantities in
            columns.withUnsafeBufferPointer { columns in
                // Clients mostly send the columns in the model's order: look from after the last one found.
                var start = 0
                for index in quantities.indices {
                    let quantity = quantities.baseAddress! + index
                    var found: UnsafePointer<Column>?
                    for step in 0..<columns.count {
                        let position = (start + step) % columns.count
                        if columns[position].name == quantity.pointee.name {
                            found = columns.baseAddress! + position
                            start = position + 1
                            break
                        }
                    }
                    // Kept alive by `features`, which nothing changes during the call: no retain needed.
                    unowned(unsafe) let counter = quantity.pointee.counter
                    let outside = counts.features[index].withUnsafeMutableBufferPointer { bins -> Int in
                        guard let found else {
                            bins[counter.missingBin] += rows
                            return 0
                        }
                        return counter.count(found.pointee.values, into: bins)
                    }
                    counts.outside[index] += outside
                }
            }
        }
        let counter = prediction.counter
        counts.prediction.withUnsafeMutableBufferPointer { bins in
            switch counter.kind {
            case .numeric: _ = counter.count(numbers: predictions.values, into: bins)
            case .categorical: counter.count(classIndices: predictions.values, into: bins)
            }
        }
    }
}
