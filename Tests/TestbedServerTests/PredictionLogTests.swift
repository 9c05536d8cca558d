import Foundation
import Testing
@testable import TestbedServer

/// The compact form logged predictions are stored in reads back exactly, and refuses what it did not write.
@Suite("prediction log")
struct PredictionLogTests {
    static let rows: [LoggedPrediction] = {
        var classified = LoggedPrediction(seq: 7, at: Date(timeIntervalSince1970: 1_764_000_000.125), value: 2,
                                          probabilities: [0.1, 0.2, 0.7], set: [2, 1])
        classified.inputs = ["Motor": "E", "Pgain": "5"]
        return [
            LoggedPrediction(seq: 0, at: Date(timeIntervalSince1970: 0), value: -1.5e300, interval: [-2e300, 3]),
            classified,
            LoggedPrediction(seq: Int64.max, at: Date(timeIntervalSince1970: 2e9), value: .nan),
        ]
    }()

    @Test func rowsReadBackAsWritten() throws {
        let data = try PredictionLogCodec.encode(Self.rows)
        let read = try #require(PredictionLogCodec.decode(data))
        #expect(read.count == 3)
        for (a, b) in zip(read, Self.rows) {
            #expect(a.seq == b.seq && a.at == b.at && (a.value == b.value || (a.value.isNaN && b.value.isNaN)))
            #expect(a.probabilities == b.probabilities && a.interval == b.interval && a.set == b.set && a.inputs == b.inputs)
        }
        // A regression row without an interval takes 26 bytes, after the format byte.
        #expect(try PredictionLogCodec.encode([Self.rows[2]]).count == 1 + 25)
    }

    @Test func whatItDidNotWriteIsRefused() throws {
        let data = try PredictionLogCodec.encode(Self.rows)
        for cut in [0, 1, 10, 26, data.count - 1] {
            #expect(PredictionLogCodec.decode(data.prefix(cut)) == nil || cut == 1, "cut at \(cut)")
        }
        #expect(PredictionLogCodec.decode(Data("[{\"seq\":1}]".utf8)) == nil)
        #expect(PredictionLogCodec.decode(Data([1]))?.isEmpty == true)
    }
}
