/// What a metric the core computes is called and means, in words for people who are not
/// specialists: the one place the command line, the API and the dashboard take them from.
public struct MetricDefinition: Sendable, Equatable {
    /// The key in the metric dictionaries (`rmse`, `macro_f1`, …).
    public let name: String
    /// A short title ("F1 score (macro)").
    public let title: String
    /// One or two sentences: what it measures and how to read it.
    public let summary: String
    public let task: LearningTask
    /// Whether a larger value is a better model.
    public let higherIsBetter: Bool
}

/// Every metric ``RegressionMetrics`` and ``ClassificationMetrics`` return. A test computes them
/// on small examples and checks that each key has an entry here.
public enum MetricCatalog {
    public static let all: [MetricDefinition] = [
        MetricDefinition(name: "rmse", title: "Typical error (RMSE)",
                         summary: "Root mean squared error: how far predictions typically are from the actual value, in the target's units; large misses weigh more. Lower is better.",
                         task: .regression, higherIsBetter: false),
        MetricDefinition(name: "mae", title: "Mean absolute error",
                         summary: "The average distance between prediction and actual value, in the target's units. Lower is better.",
                         task: .regression, higherIsBetter: false),
        MetricDefinition(name: "r2", title: "Share of variation explained (R²)",
                         summary: "1 is perfect, 0 is no better than always predicting the average, below 0 is worse than that.",
                         task: .regression, higherIsBetter: true),
        MetricDefinition(name: "accuracy", title: "Accuracy",
                         summary: "The share of cases whose most probable category is the actual one.",
                         task: .classification, higherIsBetter: true),
        MetricDefinition(name: "balanced_accuracy", title: "Balanced accuracy",
                         summary: "The share found of each category, averaged over the categories: a rare category counts as much as a frequent one.",
                         task: .classification, higherIsBetter: true),
        MetricDefinition(name: "macro_precision", title: "Precision (macro)",
                         summary: "Of the cases predicted as a category, the share that were that category; averaged over the categories.",
                         task: .classification, higherIsBetter: true),
        MetricDefinition(name: "macro_recall", title: "Recall (macro)",
                         summary: "Of the cases of a category, the share predicted as that category; averaged over the categories.",
                         task: .classification, higherIsBetter: true),
        MetricDefinition(name: "macro_f1", title: "F1 score (macro)",
                         summary: "Precision and recall of each category in one figure (their harmonic mean), averaged over the categories.",
                         task: .classification, higherIsBetter: true),
        MetricDefinition(name: "log_loss", title: "Log loss",
                         summary: "How little probability the model gave to what happened (the mean negative logarithm); confident mistakes cost most. Lower is better, 0 is perfect.",
                         task: .classification, higherIsBetter: false),
        MetricDefinition(name: "brier", title: "Brier score",
                         summary: "The mean squared distance between the predicted probabilities and what happened. Lower is better, 0 is perfect.",
                         task: .classification, higherIsBetter: false),
        MetricDefinition(name: "roc_auc", title: "ROC AUC",
                         summary: "How well the probabilities rank the cases of a category above the others: 1 is perfect, 0.5 is chance. Averaged over the categories against the rest when there are more than two.",
                         task: .classification, higherIsBetter: true),
    ]

    /// The entry for `name`, if the core computes such a metric.
    public static func named(_ name: String) -> MetricDefinition? {
        all.first { $0.name == name }
    }

    /// The metrics of one task, in catalog order.
    public static func metrics(for task: LearningTask) -> [MetricDefinition] {
        all.filter { $0.task == task }
    }
}
