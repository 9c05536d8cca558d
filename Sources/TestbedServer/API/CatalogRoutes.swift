import Hummingbird
import InferenceCore

/// `/api/v1/algorithms` and `/api/v1/metrics`: what the core can train and measure, with titles
/// and descriptions in plain words, so that every client (the dashboard among them) names them
/// as the core does.
struct CatalogRoutes {
    /// A line of `GET /api/v1/algorithms`: what `algorithms` of a job may name.
    struct AlgorithmView: ResponseEncodable, Decodable {
        var name: String
        var title: String
        var description: String
        var tasks: [String]
    }

    /// A line of `GET /api/v1/metrics`: a key of the `metrics` of cards, leaderboards and live quality.
    struct MetricView: ResponseEncodable, Decodable {
        var name: String
        var title: String
        var description: String
        var task: String
        var higherIsBetter: Bool
        enum CodingKeys: String, CodingKey { case name, title, description, task; case higherIsBetter = "higher_is_better" }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("algorithms") { _, _ -> [AlgorithmView] in
            AlgorithmRegistry.all.map { algorithm in
                AlgorithmView(name: algorithm.name, title: algorithm.title, description: algorithm.summary,
                              tasks: LearningTask.allCases.filter(algorithm.tasks.contains).map(\.rawValue))
            }
        }
        router.get("metrics") { _, _ -> [MetricView] in
            MetricCatalog.all.map { metric in
                MetricView(name: metric.name, title: metric.title, description: metric.summary, task: metric.task.rawValue,
                           higherIsBetter: metric.higherIsBetter)
            }
        }
    }
}
