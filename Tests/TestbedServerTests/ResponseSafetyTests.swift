import Foundation
import Testing
@testable import TestbedServer

/// What the server hands back is safe to open and to log: spreadsheet formulas arrive as text,
/// and a huge value sent by a client is quoted only in part.
@Suite("safe answers", .serialized)
struct ResponseSafetyTests {
    @Test("Text a spreadsheet would run is neutralised; numbers stay numbers", arguments: [
        ("=CMD|' /C calc'!A0", "'=CMD|' /C calc'!A0"), ("+1+1", "'+1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"),
        ("\tx", "\"'\tx\""), ("\rx", "\"'\rx\""), ("=A1,B1", "\"'=A1,B1\""), ("-1.5", "-1.5"), ("+7", "+7"), ("-1e5", "-1e5"), ("plain", "plain"),
    ])
    func csvCells(_ cell: String, _ written: String) {
        #expect(PredictionCSV.quoted(cell) == written)
    }

    @Test func predictionCSVsCarryNoFormulas() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("formula-lab")
        let labels = ["=CMD|' /C calc'!A0", "@SUM(1+1)"]
        let csv = "x,verdict\n" + (0..<40).map { "\($0),\"\(labels[$0 % 2].replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: "\n") + "\n"
        let upload = try await server.send(.POST, "/api/v1/datasets?name=formulas", key: key, body: Data(csv.utf8), contentType: "text/csv")
        let dataset = try #require(upload.object["id"] as? String, "\(upload.text)")
        let job = try await server.send(.POST, "/api/v1/jobs", key: key,
                                        json: ["dataset": dataset, "target": "verdict", "algorithms": "logistic", "model_name": "formulas"])
        let id = try #require(job.object["id"] as? String, "\(job.text)")
        let final = try await server.watchJob(id, key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }
        #expect(final.last?["state"] as? String == "succeeded", "\(final.last ?? [:])")
        let answer = try await server.send(.POST, "/api/v1/models/formulas/predict", key: key,
                                           body: Data("x,\"=HYPERLINK(\"\"http://x\"\")\"\n1,2\n-3,4\n".utf8), contentType: "text/csv",
                                           headers: [("Accept", "text/csv")])
        #expect(answer.status == 200, "\(answer.text)")
        let lines = answer.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("prediction,proba_") && lines[0].hasSuffix(",decision,prediction_set,prediction_id,warnings"))
        for line in lines {
            for field in line.split(separator: ",") {
                let text = field.hasPrefix("\"") ? String(field.dropFirst()) : String(field)
                #expect(!(text.first.map { "=+@\t\r".contains($0) } ?? false), "a cell starts a formula: \(line)")
                #expect(!(text.hasPrefix("-") && Double(text) == nil), "a cell starts a formula: \(line)")
            }
        }
        for line in lines.dropFirst() { #expect(line.contains("'=CMD") || line.contains("'@SUM")) }
        #expect(lines[1].hasSuffix(",\"'=HYPERLINK(\"\"http://x\"\"): not used by the model; ignored\""), "\(lines[1])")
    }

    @Test func aTenMegabyteValueIsQuotedOnlyInPart() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("echo-lab")
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let huge = String(repeating: "A", count: 10 << 20)
        for (path, body) in [("/api/v1/jobs", ["dataset": dataset, "target": huge]),
                             ("/api/v1/models/glass-type/whatif", ["row": ["RI": 1.5], "feature": huge, "values": [1]] as [String: Any]),
                             ("/api/v1/models/\(String(repeating: "m", count: 60_000))", [:])] {
            let reply = try await server.send(.POST, path, key: key, json: body)
            #expect((400..<500).contains(reply.status), "\(reply.text.prefix(300))")
            #expect(reply.body.count < 4_000, "an answer of \(reply.body.count) bytes")
            #expect(reply.error.contains("characters)"), "\(reply.text.prefix(300))")
        }
        let longest = server.logText.split(separator: "\n").map(\.count).max() ?? 0
        #expect(longest < 6_000, "a log line of \(longest) characters")
    }
}
