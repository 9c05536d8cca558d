import Synchronization

/// Reading a large file on every core: the records after the header are cut into blocks of
/// whole lines, each block is read and parsed on whichever thread is free into columns of its
/// own, and each parsed block is appended to the table's columns in file order as soon as the
/// blocks before it are, then freed.
///
/// A cut at a line break may fall inside a quoted field. The block before such a cut then ends
/// inside that field, which its parser reports, because it started at a true record start (the
/// first block starts after the header; each later one where the one before it ended cleanly).
/// That, and any malformed record, sends the whole file to the one-thread reader, whose answer
/// (table or error message, with its line number) is the reference. So a file gives the same
/// table on any number of threads, bit for bit.
extension CSVReader {
    /// The largest block: small, because what the threads hold beyond the table is a block's
    /// bytes and its parsed columns each; large enough that a block's start costs little.
    static let largestBlockBytes = 2 << 20

    /// The block size for a file of `dataBytes` bytes of records on ``Parallelism/threads``
    /// threads: every thread gets the same number of blocks, at least four each while blocks stay
    /// 1 MB or more, so that a thread slowed down by others on the machine holds up the rest by
    /// little. `nil` (one thread reads) for text held in memory (a request's body, served on the
    /// server's own threads), for files under 1 MB, and when one thread is allowed.
    static func blockBytes(of source: ByteSource, dataBytes: Int) -> Int? {
        let threads = Parallelism.threads
        guard case .file = source, threads > 1, dataBytes >= 1 << 20 else { return nil }
        let perRound = min(max(dataBytes / 4, threads << 20), threads * largestBlockBytes)
        let blocks = threads * ((dataBytes + perRound - 1) / perRound)
        return (dataBytes + blocks - 1) / blocks
    }

    /// One block's columns.
    struct ParsedBlock {
        var columns: [ColumnBuilder]
        var rows: Int
        /// The bytes of its records.
        var bytes: Int
    }

    /// The blocks parsed ahead of their turn to be appended to the table's columns.
    private struct Queue {
        /// Blocks parsed out of turn, by index, until every block before them is appended.
        var waiting: [Int: ParsedBlock] = [:]
        /// The block to append next.
        var next = 0
        /// A thread is appending blocks: the others leave theirs in `waiting` for it.
        var appending = false

        /// Adds a parsed block; returns the blocks due for appending, in file order, when no other
        /// thread is appending (this one then is, until ``handBack()`` returns none).
        mutating func add(_ index: Int, _ block: ParsedBlock) -> [ParsedBlock] {
            waiting[index] = block
            guard !appending else { return [] }
            appending = true
            return handBack()
        }

        /// The blocks now due; when there are none, the appending thread stops appending.
        mutating func handBack() -> [ParsedBlock] {
            var due: [ParsedBlock] = []
            while let block = waiting.removeValue(forKey: next) {
                due.append(block)
                next += 1
            }
            if due.isEmpty { appending = false }
            return due
        }
    }

    /// Reads the records in blocks, handed out to ``Parallelism/threads`` threads as each comes
    /// free; `nil` when a block does not end cleanly or holds a malformed record (the caller then
    /// reads the file on one thread), and the blocks not yet started are then skipped.
    ///
    /// A thread that parses the block due next appends it, and those parsed after it that are
    /// waiting, to the table's columns (sized from the first block's bytes per row, as the
    /// one-thread reader sizes them) and frees them; a block that finishes out of turn waits. So
    /// beyond the table, memory holds the blocks in flight and those waiting for a slow one before
    /// them: holding every block's columns until the end had made the peak 1.57× the parsed table
    /// for a 100 MB export (bench/results/2026-12-02/csv-blocks.md), 1.16× now (linear-kernels.md).
    func parseInBlocks(_ opening: Opening, blockBytes requestedBlockBytes: Int, textColumns: Set<String>) -> (table: DataTable, lossyColumns: Set<String>)? {
        let stream = opening.input.stream
        let dataStart = opening.input.consumed, end = stream.size
        guard requestedBlockBytes > 0, end > dataStart else { return nil }
        // No block is larger than the records: every offset below then stays within the file's size.
        let blockBytes = min(requestedBlockBytes, end - dataStart)
        let blockCount = (end - dataStart + blockBytes - 1) / blockBytes
        let failed = Atomic<Bool>(false)
        let queue = Mutex(Queue())
        // Touched only by the thread appending, which the queue's lock hands them over to.
        var columns = opening.emptyColumns(textColumns: textColumns), rowCount = 0
        _ = Parallelism.map(blockCount) { index in
            guard !failed.load(ordering: .relaxed),
                  let lines = LineBlock(stream, index: index, blockBytes: blockBytes, dataStart: dataStart),
                  let block = parseBlock(lines, opening, textColumns: textColumns) else {
                failed.store(true, ordering: .relaxed)
                return
            }
            var due = queue.withLock { $0.add(index, block) }
            while !due.isEmpty {
                // Each block is freed as soon as it is appended.
                while !due.isEmpty {
                    let next = due.removeFirst()
                    if rowCount == 0 {
                        let estimate = Int(Double(end - dataStart) / Double(max(next.bytes, 1)) * Double(next.rows) * 1.02) + 16
                        for column in columns.indices { columns[column].reserve(estimate) }
                    }
                    for column in columns.indices { columns[column].append(contentsOf: next.columns[column]) }
                    rowCount += next.rows
                }
                due = queue.withLock { $0.handBack() }
            }
        }
        guard !failed.load(ordering: .relaxed), rowCount > 0 else { return nil }
        let lossy = Set(columns.filter(\.lostNumberSpelling).map(\.name))
        return (DataTable(columns: columns.map { $0.build() }, dialect: opening.dialect), lossy)
    }

    /// The table read in blocks, or `nil` where the reader falls back to one thread (for tests:
    /// the block path must be the one taken where it can be).
    func readInBlocksOnly(bytes: [UInt8], blockBytes: Int) throws -> DataTable? {
        parseInBlocks(try open(.memory(bytes)), blockBytes: blockBytes, textColumns: options.textColumns)?.table
    }

    /// Where block `index` nominally starts (the input's end past the last block).
    static func blockStart(_ index: Int, blockBytes: Int, dataStart: Int, end: Int) -> Int {
        min(dataStart + index * blockBytes, end)
    }

    /// Parses one block's records into columns of its own; `nil` at the first problem.
    private func parseBlock(_ block: LineBlock, _ opening: Opening, textColumns: Set<String>) -> ParsedBlock? {
        var columns = opening.emptyColumns(textColumns: textColumns)
        var fields: [FieldRange] = []
        fields.reserveCapacity(columns.count)
        var scratch: [UInt8] = []
        var rows = 0
        let parser = opening.numberParser, recordParser = opening.recordParser
        let clean = block.bytes.withUnsafeBufferPointer { whole -> Bool in
            let bytes = UnsafeBufferPointer(rebasing: whole[block.range])
            return columns.withUnsafeMutableBufferPointer { columns in
                var position = 0
                while position < bytes.count {
                    // A record cut off at the block's end (a quoted line break) comes back nil.
                    guard let record = try? recordParser.parse(bytes, from: position, atEndOfInput: block.endsInput, into: &fields) else { return false }
                    position = record.next
                    switch appendRecord(fields, of: bytes, to: columns, parser: parser, scratch: &scratch) {
                    case .appended: rows += 1
                    case .blank: continue
                    case .fieldCount, .cell: return false
                    }
                    if rows == 1024 { Self.reserve(columns, rows: rows, bytesRead: position, of: bytes.count) }
                }
                return true
            }
        }
        guard clean else { return nil }
        for index in columns.indices { columns[index].finishCells() }
        return ParsedBlock(columns: columns, rows: rows, bytes: block.range.count)
    }
}

/// The whole lines of one block, read from the source.
///
/// Block `index` nominally covers `blockBytes` bytes from `dataStart + index × blockBytes`. It
/// starts just after the first line break at or after one byte before that (the first block at
/// `dataStart`) and ends just after the first line break at or after one byte before its nominal
/// end (the last at the input's end), so that each block ends where the next one starts. A
/// block inside one long line is empty.
struct LineBlock {
    /// The bytes read; the block is `range` of them.
    let bytes: [UInt8]
    let range: Range<Int>
    /// The block runs to the input's end (its last record may lack a line break).
    let endsInput: Bool

    /// `nil` when the source cannot be read (the one-thread reader then reports why), and when
    /// a line runs on for more than two blocks (or 64 KB) past the block's nominal end: a file
    /// without line feeds (old Mac exports end lines with CR alone) would otherwise have every
    /// block read the rest of the file at once, where the one-thread reader streams it.
    init?(_ stream: ByteStream, index: Int, blockBytes: Int, dataStart: Int) {
        let end = stream.size
        let nominalStart = CSVReader.blockStart(index, blockBytes: blockBytes, dataStart: dataStart, end: end)
        let nominalEnd = CSVReader.blockStart(index + 1, blockBytes: blockBytes, dataStart: dataStart, end: end)
        let origin = index == 0 ? dataStart : nominalStart - 1
        var bytes: [UInt8] = []
        /// Reads on from `origin + bytes.count`, up to `count` more bytes; `false` on a read error.
        func readMore(_ count: Int) -> Bool {
            let wanted = min(count, end - origin - bytes.count)
            guard wanted > 0 else { return true }
            let already = bytes.count
            var failed = false
            bytes.append(contentsOf: repeatElement(0, count: wanted))
            bytes.withUnsafeMutableBufferPointer { buffer in
                let target = UnsafeMutableBufferPointer(rebasing: buffer[already...])
                if let read = stream.read(at: origin + already, into: target) { if read < wanted { failed = true } } else { failed = true }
            }
            return !failed
        }
        let readLimit = nominalEnd - origin + max(2 * blockBytes, 1 << 16)
        /// The index just after the first line break at or after `from` (reading on as needed),
        /// or the input's end.
        func lineEnd(from: Int) -> Int? {
            var cursor = from
            while true {
                while cursor < bytes.count {
                    if bytes[cursor] == ASCII.newline { return cursor + 1 }
                    cursor += 1
                }
                if origin + bytes.count >= end { return bytes.count }
                guard bytes.count < readLimit, readMore(1 << 16) else { return nil }
            }
        }
        // The nominal block and a little more: most lines end within it.
        guard readMore(nominalEnd - origin + min(4096, blockBytes)) else { return nil }
        let start: Int
        if index == 0 {
            start = 0
        } else {
            guard let found = lineEnd(from: 0) else { return nil }
            start = found
        }
        let stop: Int
        if nominalEnd >= end {
            guard readMore(end - origin - bytes.count) else { return nil }
            stop = bytes.count
        } else {
            guard let found = lineEnd(from: nominalEnd - 1 - origin) else { return nil }
            stop = found
        }
        self.bytes = bytes
        self.range = start..<max(start, stop)
        self.endsInput = origin + stop >= end
    }
}
