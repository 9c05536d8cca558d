import Testing
@testable import InferenceCore

/// The catalog the API and the dashboard take titles from never falls behind the metric
/// functions: every key they return has an entry, and every entry is a key they return.
@Suite("MetricCatalog")
struct MetricCatalogTests {
    /// The keys the metric functions return on small examples where every metric is defined.
    static var computed: [LearningTask: Set<String>] {
        let regression = RegressionMetrics.compute(actual: [1, 2, 3, 4], predicted: [1.5, 1.8, 3.3, 3.9])
        let binary = ClassificationMetrics.compute(actual: [0, 1, 1, 0], probabilities: Matrix([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]]))
        let three = ClassificationMetrics.compute(actual: [0, 1, 2, 2, 1, 0],
                                                  probabilities: Matrix([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6],
                                                                         [0.3, 0.3, 0.4], [0.5, 0.4, 0.1], [0.4, 0.4, 0.2]]))
        return [.regression: Set(regression.keys), .classification: Set(binary.keys).union(three.keys)]
    }

    @Test func everyComputedMetricHasAnEntryForItsTask() {
        for (task, keys) in Self.computed {
            for key in keys.sorted() {
                let entry = MetricCatalog.named(key)
                #expect(entry != nil, "\(task.rawValue) metric '\(key)' has no catalog entry")
                #expect(entry?.task == task, "'\(key)' is catalogued for \(entry?.task.rawValue ?? "nothing"), computed for \(task.rawValue)")
            }
        }
    }

    @Test func everyEntryIsAMetricTheCoreComputes() {
        let computed = Self.computed
        for entry in MetricCatalog.all {
            #expect(computed[entry.task]?.contains(entry.name) == true, "'\(entry.name)' is catalogued but never computed")
        }
        #expect(Set(MetricCatalog.all.map(\.name)).count == MetricCatalog.all.count, "a metric is catalogued twice")
    }

    @Test func entriesHaveWordsAndThePrimaryMetricsAreThere() {
        for entry in MetricCatalog.all {
            #expect(!entry.title.isEmpty && !entry.summary.isEmpty, "'\(entry.name)' lacks a title or a description")
            #expect(entry.title != entry.name, "'\(entry.name)' has its key as its title")
        }
        for task in LearningTask.allCases {
            #expect(MetricCatalog.named(ModelSearch.primaryMetric(for: task))?.task == task)
        }
        #expect(MetricCatalog.named("rmse")?.higherIsBetter == false && MetricCatalog.named("macro_f1")?.higherIsBetter == true)
    }

    @Test func everyAlgorithmHasATitleAndADescription() {
        for algorithm in AlgorithmRegistry.all {
            #expect(AlgorithmRegistry.titles[algorithm.name] != nil, "algorithm '\(algorithm.name)' has no title")
            #expect(algorithm.title != algorithm.name && !algorithm.summary.isEmpty)
        }
        #expect(Set(AlgorithmRegistry.titles.keys) == Set(AlgorithmRegistry.all.map(\.name)), "a title for an algorithm that is not registered")
    }
}
