import Foundation
import Testing
@testable import InferenceCore

/// Reading a file in blocks on several threads gives the one-thread reader's table bit for bit,
/// or its error: on every real dataset and on records made to straddle the blocks.
@Suite("CSV reading in blocks")
struct CSVBlockReadingTests {
    /// The table (or the error) on one thread, and on three threads in blocks of `blockBytes`.
    static func bothWays(_ bytes: [UInt8], blockBytes: Int) -> (one: Result<DataTable, any Error>, blocks: Result<DataTable, any Error>) {
        let one = Parallelism.$taskThreads.withValue(1) { Result { try CSVReader().read(bytes: bytes) } }
        var inBlocks = CSVReader()
        inBlocks.parallelBlockBytes = blockBytes
        let blocks = Parallelism.$taskThreads.withValue(3) { Result { try inBlocks.read(bytes: bytes) } }
        return (one, blocks)
    }

    static func expectSame(_ csv: [UInt8], blockBytes: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let (one, blocks) = bothWays(csv, blockBytes: blockBytes)
        switch (one, blocks) {
        case (.success(let a), .success(let b)):
            #expect(a.isIdentical(to: b), "blocks of \(blockBytes) bytes", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)):
            #expect("\(a)" == "\(b)", sourceLocation: sourceLocation)
        default:
            Issue.record("one thread: \(one); blocks of \(blockBytes) bytes: \(blocks)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["Chicago.csv", "Glass.csv", "Ionosphere.csv", "Ozone.csv", "PimaIndiansDiabetes2.csv", "Satellite.csv",
                      "Servo.csv", "Vehicle.csv", "biomass.csv", "mlc_churn.csv", "oils.csv"])
    func realDatasetsReadTheSameInBlocks(dataset: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: TestData.datasetPath(dataset))))
        // Blocks of about a line, of a few dozen lines and of a sixth of the file.
        for blockBytes in [97, 4096, max(1, bytes.count / 6), Int.max] {
            Self.expectSame(bytes, blockBytes: blockBytes)
            // None of these files quotes a line break, so no cut falls inside a record: the blocks are the ones read.
            #expect(try Parallelism.$taskThreads.withValue(3) { try CSVReader().readInBlocksOnly(bytes: bytes, blockBytes: blockBytes) } != nil)
        }
    }

    /// Quoted line breaks, doubled quotes, CRLF, blank lines, a last line without a break, and
    /// columns that turn to text in a later block: every block size from 1 to 80 bytes cuts
    /// them somewhere.
    @Test func recordsThatStraddleBlocksReadTheSame() {
        var csv = "name,value,code,late\r\n"
        for row in 0..<40 {
            let name = row % 3 == 0 ? "\"line \(row)\nwith \"\"quote\"\", and comma\"" : "plain \(row)"
            let code = row == 31 ? "X-\(row)" : "\(row * 7)"
            let late = row < 35 ? "" : "text"
            csv += "\(name),\(Double(row) / 8 - 2),\(code),\(late)\r\n"
            if row % 9 == 0 { csv += "\r\n" }
        }
        csv += "last,1e3,5,"
        let bytes = Array(csv.utf8)
        var readInBlocks = 0
        for blockBytes in 1...80 {
            Self.expectSame(bytes, blockBytes: blockBytes)
            if (try? CSVReader().readInBlocksOnly(bytes: bytes, blockBytes: blockBytes)) ?? nil != nil { readInBlocks += 1 }
        }
        // Most sizes cut some quoted line break and fall back to one thread; some cut none.
        #expect(readInBlocks > 0 && readInBlocks < 80)
        guard case .success(let table) = Self.bothWays(bytes, blockBytes: 13).blocks else { Issue.record("the blocks failed"); return }
        #expect(table.rowCount == 41)
        #expect(table.columns[0].values.text(at: 0) == "line 0\nwith \"quote\", and comma")
        #expect(table.columns[2].values.text(at: 0) == "0" && table.columns[2].values.text(at: 31) == "X-31")
    }

    /// Found by the `csv` fuzz target: the first read falls back to one thread (a block starts
    /// with `2e308` in a column that is text on one thread) and finds `x` lossy; the second read,
    /// in blocks, finds `y` lossy too, because its later block began with the number `186.`. A
    /// third read, `y` as text as well, keeps the spelling `186.` as one thread does.
    @Test func aColumnFoundLossyOnlyOnTheSecondReadIsReadAgain() throws {
        let bytes = Array("x,y\n1.078e3,11m\n-.mmmm7e30,186.\n2e308,3\n".utf8)
        for blockBytes in 1...40 { Self.expectSame(bytes, blockBytes: blockBytes) }
        guard case .success(let table) = Self.bothWays(bytes, blockBytes: 11).blocks else { Issue.record("the blocks failed"); return }
        #expect(table.columns[1].values.text(at: 1) == "186.")
    }

    /// Lines ended by CR alone leave no line feed to cut at: each block would read the rest of
    /// the file, so the block path gives up and one thread reads it, with the same table.
    @Test func lineEndsWithoutLineFeedsAreReadOnOneThread() throws {
        let csv = Array(("a,b\r" + (0..<20_000).map { "\($0),\($0 * 2)\r" }.joined()).utf8)
        Self.expectSame(csv, blockBytes: 1024)
        #expect(try Parallelism.$taskThreads.withValue(2) { try CSVReader().readInBlocksOnly(bytes: csv, blockBytes: 1024) } == nil)
        #expect(try CSVReader().read(bytes: csv).rowCount == 20_000)
    }

    /// Malformed files give the one-thread reader's error, line number included.
    @Test(arguments: ["a,b\n1,2\n3,4,5\n6,7\n", "a,b\n1,2\n\"open,3\n4,5\n", "a,b\n1,2\n3,1e400\n", "a,b\n1,\"x\"y\n",
                      "a,b\n1,2\n3,\u{FF}\u{FE}\n", "a,b\n"])
    func malformedFilesFailAsOnOneThread(csv: String) {
        let bytes = csv == "a,b\n1,2\n3,\u{FF}\u{FE}\n" ? Array("a,b\n1,2\n3,".utf8) + [0xFF, 0xFE, 0x0A] : Array(csv.utf8)
        for blockBytes in [1, 3, 8] {
            let (one, blocks) = Self.bothWays(bytes, blockBytes: blockBytes)
            guard case .failure(let expected) = one else { Issue.record("\(csv.debugDescription) should fail"); continue }
            guard case .failure(let error) = blocks else { Issue.record("\(csv.debugDescription) in blocks of \(blockBytes) should fail"); continue }
            #expect("\(error)" == "\(expected)")
        }
    }

    /// A file of several blocks, read by the default policy (files of 1 MB or more on every
    /// thread), gives the table it gives on one thread.
    @Test func aLargeFileReadsTheSameOnEveryThread() throws {
        var csv = "time,machine,reading,note\n"
        var generator = SeededGenerator(seed: 7)
        for row in 0..<60_000 {
            let reading = Double(Int(generator.next() % 2_000_000)) / 1000 - 1000
            csv += "\(1_767_225_600 + row * 10),press-\(generator.next() % 12),\(row % 250 == 0 ? "" : String(reading)),\(row % 1000 == 0 ? "\"cleaned,\nchecked\"" : "ok")\n"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("block-reading-\(UUID()).csv").path
        try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(csv.utf8.count >= 1 << 20)
        let one = try Parallelism.$taskThreads.withValue(1) { try CSVReader().read(file: path) }
        let three = try Parallelism.$taskThreads.withValue(3) { try CSVReader().read(file: path) }
        #expect(Parallelism.$taskThreads.withValue(3) { CSVReader.blockBytes(of: .file(path: path), dataBytes: csv.utf8.count) } != nil)
        #expect(one.rowCount == 60_000 && one.isIdentical(to: three))
    }
}
