import Foundation
import Testing

/// The dashboard's files as the browser fetches them, and the API routes written for it. The
/// pages themselves are driven in a real browser by Tests/DashboardE2E.
@Suite("Dashboard", .serialized)
struct DashboardTests {
    @Test func theDashboardIsServedWithoutAKeyAndEveryFileItLoadsExists() async throws {
        let server = try ServerProcess()
        let page = try await server.send(.GET, "/", key: nil)
        #expect(page.status == 200)
        #expect(page.headers.first(name: "content-type") == "text/html; charset=utf-8")
        #expect(page.headers.first(name: "content-security-policy")?.contains("default-src 'self'") == true)
        // Everything index.html and the modules reference, followed transitively, is served with its type.
        var pending = page.text.matches(of: /(?:src|href)="(\/ui\/[^"]+)"/).map { String($0.output.1) }
        var seen: Set<String> = []
        while let path = pending.popLast() {
            guard seen.insert(path).inserted else { continue }
            let reply = try await server.send(.GET, path, key: nil)
            #expect(reply.status == 200, "\(path)")
            let type = reply.headers.first(name: "content-type") ?? ""
            if path.hasSuffix(".js") {
                #expect(type.hasPrefix("text/javascript"), "\(path): \(type)")
                pending += reply.text.matches(of: /from '\.\/([\w-]+\.js)'/).map { "/ui/\($0.output.1)" }
                // The SVG namespace is a name, not an address that is fetched.
                let text = reply.text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
                #expect(!text.contains("http://") && !text.contains("https://"), "\(path) refers to another site")
            }
        }
        #expect(seen.count >= 10, "\(seen.sorted())")
        #expect(seen.contains("/ui/try.js") && seen.contains("/ui/charts.js"))

        let missing = try await server.send(.GET, "/ui/secret.key", key: nil)
        #expect(missing.status == 404 && missing.error == "the dashboard has no file 'secret.key'")
        #expect(try await server.send(.GET, "/ui/..%2Fadmin.key", key: nil).status == 404)
    }

    @Test func aKeySaysWhoItBelongsTo() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("sawmill")
        let tenant = try await server.send(.GET, "/api/v1/me", key: key).object
        #expect(tenant["role"] as? String == "tenant" && tenant["tenant"] as? String == "sawmill")
        #expect(try await server.send(.GET, "/api/v1/me", key: server.adminKey).object["role"] as? String == "admin")
        let wrong = try await server.send(.GET, "/api/v1/me", key: "tb_0000000000000000_" + String(repeating: "0", count: 64))
        #expect(wrong.status == 401)
    }

    @Test func whatTheTrainingFormAndTheChartsNeedIsInTheAPI() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("lab")
        let algorithms = try await server.send(.GET, "/api/v1/algorithms", key: key).array
        let tasks = Dictionary(uniqueKeysWithValues: algorithms.map { ($0["name"] as? String ?? "", $0["tasks"] as? [String] ?? []) })
        #expect(tasks["logistic"] == ["classification"] && tasks["ridge"] == ["regression"])
        #expect(tasks["gbdt"] == ["regression", "classification"] && tasks.count == 7)

        let id = try await server.upload("Servo.csv", name: "servo", key: key)
        let columns = try await server.send(.GET, "/api/v1/datasets/\(id)", key: key).object["profile"] as? [String: Any]
        let profile = Dictionary(uniqueKeysWithValues: ((columns?["columns"] as? [[String: Any]]) ?? []).map { ($0["name"] as? String ?? "", $0) })
        #expect(profile["Class"]?["target_task"] as? String == "regression")
        #expect(profile["Motor"]?["target_task"] as? String == "classification")
        let histogram = profile["Pgain"]?["histogram"] as? [String: Any]
        #expect((histogram?["counts"] as? [Int])?.reduce(0, +) == 167)

        // The demonstration regression model carries its out-of-fold points for the scatter plot.
        let card = try await server.send(.GET, "/api/v1/models/servo-rise-time", key: key).object
        let points = try #require(card["predicted_vs_actual"] as? [[String: Double]])
        #expect(points.count == 167)
        let rmse = (points.reduce(0) { $0 + pow($1["actual"]! - $1["predicted"]!, 2) } / Double(points.count)).squareRoot()
        let reported = try #require((card["metrics"] as? [String: [String: Double]])?["rmse"]?["mean"])
        // Pooled over all rows rather than averaged over folds: close, not equal.
        #expect(abs(rmse - reported) / reported < 0.15, "pooled \(rmse), mean over folds \(reported)")
    }
}
