#!/usr/bin/env python3
"""Writes the reference outputs that the Swift tests compare InferenceCore against.

Everything here is scikit-learn's own code on the real datasets in ../../datasets; the Swift
tests only read the JSON this writes (Tests/InferenceCoreTests/Fixtures), so they need no Python.

    scripts/reference/setup.sh && .venv-reference/bin/python scripts/reference/make_fixtures.py [drift.json ...]

With file names, only those fixtures are written (the logistic probabilities can differ in the
last digits from run to run with the BLAS threads, so regenerating everything rewrites them).

Column types follow the testbed's rules, written out here so that both sides see the same
features: numeric columns are imputed with the median and standardised; yes/no columns become
0/1 and are treated as numeric; other text columns are one-hot encoded (categories sorted,
unseen ones ignored).
"""
import json
import pathlib
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, brier_score_loss, confusion_matrix, log_loss,
                             mean_absolute_error, precision_recall_fscore_support, r2_score,
                             roc_auc_score, root_mean_squared_error)
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "datasets"
OUT = ROOT / "Tests" / "InferenceCoreTests" / "Fixtures"
BOOLEAN = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}
MAX_ROWS_STORED = 400  # predictions are stored for the first rows only, to keep fixtures small


def load(name, target, exclude=()):
    frame = pd.read_csv(DATA / f"{name}.csv", keep_default_na=True)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    return typed_columns(frame, target, exclude)


def typed_columns(frame, target, exclude=()):
    """The features of `frame` split into numeric and categorical: yes/no columns become 0/1,
    other text becomes categories (as the testbed reads them)."""
    features = [c for c in frame.columns if c != target and c not in exclude]
    numeric, categorical = [], []
    for column in features:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            numeric.append(column)
        elif set(values.dropna().str.lower()) <= set(BOOLEAN):
            frame[column] = values.str.lower().map(BOOLEAN)
            numeric.append(column)
        else:
            frame[column] = frame[column].astype(object)
            categorical.append(column)
    return frame, features, numeric, categorical


def preprocessor(numeric, categorical):
    return ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ])


def output_names(fitted, numeric, categorical):
    names = list(numeric)
    if categorical:
        encoder = fitted.named_transformers_["categorical"]
        for column, categories in zip(categorical, encoder.categories_):
            names += [f"{column}=(missing)" if pd.isna(c) else f"{column}={c}" for c in categories]
    return names


def floats(array):
    return [float(v) for v in np.asarray(array, dtype=float).ravel()]


def preprocessing_fixture(name, target, exclude=(), rows=None):
    frame, features, numeric, categorical = load(name, target, exclude)
    if rows:
        frame = frame.iloc[:rows]
    fitted = preprocessor(numeric, categorical).fit(frame[features])
    matrix = fitted.transform(frame[features])
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "rows": rows or len(frame),
            "columns": output_names(fitted, numeric, categorical), "shape": list(matrix.shape), "matrix": floats(matrix)}


def regression_fixture(name, target, model, label, exclude=()):
    frame, features, numeric, categorical = load(name, target, exclude)
    pipeline = Pipeline([("prepare", preprocessor(numeric, categorical)), ("model", model)]).fit(frame[features], frame[target])
    names = output_names(pipeline.named_steps["prepare"], numeric, categorical)
    predictions = pipeline.predict(frame[features])
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "algorithm": label,
            "parameters": {"alpha": model.alpha} if hasattr(model, "alpha") else {},
            "columns": names, "coefficients": floats(pipeline.named_steps["model"].coef_),
            "intercept": float(pipeline.named_steps["model"].intercept_),
            "predictions": floats(predictions[:MAX_ROWS_STORED])}


def logistic_fixture(name, target, C, exclude=()):
    frame, features, numeric, categorical = load(name, target, exclude)
    labels = frame[target].astype(str) if not pd.api.types.is_numeric_dtype(frame[target]) else frame[target]
    def fit(solver):
        model = LogisticRegression(C=C, tol=1e-10, max_iter=100_000, solver=solver)
        return Pipeline([("prepare", preprocessor(numeric, categorical)), ("model", model)]).fit(frame[features], labels)
    # The exact Newton solver is the reference, confirmed by the other Newton solver. Even at
    # tol=1e-10, lbfgs stops on its relative-decrease test short of the optimum (recorded below).
    pipeline = fit("newton-cholesky")
    probabilities = pipeline.predict_proba(frame[features])
    newton_cg = fit("newton-cg").predict_proba(frame[features])
    assert np.max(np.abs(newton_cg - probabilities)) < 1e-8, f"{name}: the Newton solvers disagree"
    lbfgs_gap = float(np.max(np.abs(fit("lbfgs").predict_proba(frame[features]) - probabilities)))
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "C": C,
            "classes": [str(c) for c in pipeline.named_steps["model"].classes_],
            "solver": "newton-cholesky", "lbfgs_max_difference": lbfgs_gap,
            "probabilities": floats(probabilities[:MAX_ROWS_STORED]), "stored_rows": min(len(frame), MAX_ROWS_STORED)}


RIDGE_PATH_ALPHAS = [0.0, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5]
LOGISTIC_PATH_CS = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3]
PATH_ROWS_STORED = 60


def ridge_path_fixture(name, target, exclude=()):
    """Ridge at every penalty of RIDGE_PATH_ALPHAS, each fitted on its own (0: LinearRegression,
    the minimum-norm least-squares solution)."""
    frame, features, numeric, categorical = load(name, target, exclude)
    prepare = preprocessor(numeric, categorical).fit(frame[features])
    x, y = prepare.transform(frame[features]), frame[target].to_numpy(dtype=float)
    models = [(LinearRegression() if alpha == 0 else Ridge(alpha=alpha)).fit(x, y) for alpha in RIDGE_PATH_ALPHAS]
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "alphas": RIDGE_PATH_ALPHAS,
            "columns": output_names(prepare, numeric, categorical),
            "coefficients": [floats(m.coef_) for m in models], "intercepts": [float(m.intercept_) for m in models],
            "predictions": [floats(m.predict(x[:PATH_ROWS_STORED])) for m in models]}


def logistic_path_fixture(name, target, exclude=()):
    """Logistic regression at every C of LOGISTIC_PATH_CS, each fitted from scratch by the exact Newton solver."""
    frame, features, numeric, categorical = load(name, target, exclude)
    labels = frame[target].astype(str) if not pd.api.types.is_numeric_dtype(frame[target]) else frame[target]
    prepare = preprocessor(numeric, categorical).fit(frame[features])
    x = prepare.transform(frame[features])
    models = [LogisticRegression(C=C, tol=1e-10, max_iter=100_000, solver="newton-cholesky").fit(x, labels) for C in LOGISTIC_PATH_CS]
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "Cs": LOGISTIC_PATH_CS,
            "classes": [str(c) for c in models[0].classes_], "stored_rows": min(len(frame), PATH_ROWS_STORED),
            "probabilities": [floats(m.predict_proba(x[:PATH_ROWS_STORED])) for m in models]}


def knn_fixture(name, target, task, k=5, exclude=()):
    """Fits on the first 70% of rows and predicts the rest (no row is its own neighbour)."""
    frame, features, numeric, categorical = load(name, target, exclude)
    cut = int(len(frame) * 0.7)
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    model = KNeighborsRegressor(n_neighbors=k) if task == "regression" else KNeighborsClassifier(n_neighbors=k)
    labels = train[target] if task == "regression" or pd.api.types.is_numeric_dtype(train[target]) else train[target].astype(str)
    pipeline = Pipeline([("prepare", preprocessor(numeric, categorical)), ("model", model)]).fit(train[features], labels)
    output = pipeline.predict(test[features]) if task == "regression" else pipeline.predict_proba(test[features])
    return {"dataset": f"{name}.csv", "target": target, "exclude": list(exclude), "task": task, "k": k, "train_rows": cut,
            "classes": [str(c) for c in getattr(pipeline.named_steps["model"], "classes_", [])], "output": floats(output)}


def metric_fixtures():
    rng = np.random.default_rng(7)
    cases = []
    for classes, n in [(2, 300), (4, 500)]:
        actual = rng.integers(0, classes, n)
        scores = rng.random((n, classes)) + np.eye(classes)[actual] * rng.random((n, 1))
        # Round so that scores tie, as real model outputs often do.
        probabilities = np.round(scores / scores.sum(axis=1, keepdims=True), 2)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        predicted = probabilities.argmax(axis=1)
        precision, recall, f1, _ = precision_recall_fscore_support(actual, predicted, average="macro", zero_division=0)
        auc = roc_auc_score(actual, probabilities[:, 1]) if classes == 2 else roc_auc_score(actual, probabilities, multi_class="ovr", average="macro")
        cases.append({
            "kind": "classification", "classes": classes, "actual": [int(a) for a in actual], "probabilities": floats(probabilities),
            "metrics": {"accuracy": accuracy_score(actual, predicted), "balanced_accuracy": balanced_accuracy_score(actual, predicted),
                        "macro_precision": precision, "macro_recall": recall, "macro_f1": f1,
                        "log_loss": log_loss(actual, probabilities, labels=list(range(classes))), "roc_auc": auc,
                        "brier": brier_score_loss(actual, probabilities, labels=list(range(classes)))},
            "confusion_matrix": confusion_matrix(actual, predicted, labels=list(range(classes))).tolist()})
        if classes == 2:
            observed, mean_predicted = calibration_curve(actual, probabilities[:, 1], n_bins=10)
            cases[-1]["reliability"] = {"observed_frequency": floats(observed), "mean_predicted": floats(mean_predicted)}
    actual = rng.normal(20, 5, 200)
    predicted = actual + rng.normal(0, 2, 200)
    cases.append({"kind": "regression", "actual": floats(actual), "predicted": floats(predicted),
                  "metrics": {"rmse": root_mean_squared_error(actual, predicted), "mae": mean_absolute_error(actual, predicted),
                              "r2": r2_score(actual, predicted)}})
    return cases


DRIFT_QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
DRIFT_MAX_LEVELS = 20
PSI_EPSILON = 1e-4


def drift_bins(values, rows):
    """A column's drift bins as DriftReference builds them: deciles (numpy's default linear
    quantiles, duplicates removed) and the range for numbers; otherwise the levels, most frequent
    first (ties in code-point order), at most 20, then "other or unseen"; then "missing"."""
    missing = int(values.isna().sum())
    if pd.api.types.is_numeric_dtype(values):
        present = values.dropna().to_numpy(dtype=float)
        edges = np.unique(np.quantile(present, DRIFT_QUANTILES))
        counts = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
        return {"name": values.name, "kind": "numeric", "edges": floats(edges), "min": float(present.min()), "max": float(present.max()),
                "counts": [int(c) for c in counts] + [missing], "shares": floats(list(counts / rows) + [missing / rows])}
    frequency = values.dropna().astype(str).value_counts()
    ordered = sorted(frequency.index, key=lambda level: (-frequency[level], level))
    levels, rare = ordered[:DRIFT_MAX_LEVELS], ordered[DRIFT_MAX_LEVELS:]
    counts = [int(frequency[level]) for level in levels] + [int(frequency[rare].sum()) if rare else 0, missing]
    return {"name": values.name, "kind": "categorical", "levels": levels, "counts": counts, "shares": floats(np.array(counts) / rows)}


def drift_counts(reference, values):
    """Counts served values into a reference's bins (unseen levels as "other or unseen")."""
    if reference["kind"] == "numeric":
        present = values.dropna().to_numpy(dtype=float)
        counts = np.bincount(np.searchsorted(reference["edges"], present, side="right"), minlength=len(reference["edges"]) + 1)
        outside = int(((present < reference["min"]) | (present > reference["max"])).sum())
        return [int(c) for c in counts] + [int(values.isna().sum())], outside
    index = {level: bin for bin, level in enumerate(reference["levels"])}
    counts = [0] * (len(index) + 2)
    for value in values:
        counts[len(index) + 1 if pd.isna(value) else index.get(str(value), len(index))] += 1
    return counts, 0


def population_stability(expected, observed):
    observed = np.asarray(observed, dtype=float)
    o = np.maximum(observed / observed.sum(), PSI_EPSILON)
    e = np.maximum(np.asarray(expected, dtype=float), PSI_EPSILON)
    return float(np.sum((o - e) * np.log(o / e)))


def drift_fixture(name, target, columns, train_rows, target_bins=False):
    """Drift bins of some training columns (and of the target as if it were the predictions), then
    a reference on the first `train_rows` rows against the counts and PSI of the rest."""
    frame = pd.read_csv(DATA / f"{name}.csv", keep_default_na=True)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    train, served = frame.iloc[:train_rows], frame.iloc[train_rows:]
    holdout = []
    for column in columns + ([target] if target_bins else []):
        reference = drift_bins(train[column], len(train))
        counts, outside = drift_counts(reference, served[column])
        holdout.append({"name": column, "reference": reference, "counts": counts, "outside": outside,
                        "psi": population_stability(reference["shares"], counts)})
    return {"dataset": f"{name}.csv", "target": target, "rows": len(frame),
            "quantities": [drift_bins(frame[column], len(frame)) for column in columns],
            "target_bins": drift_bins(frame[target], len(frame)) if target_bins else None,
            "train_rows": train_rows, "holdout": holdout}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    fixtures = {
        "preprocessing.json": [
            preprocessing_fixture("Servo", "Class"),
            preprocessing_fixture("Ozone", "V4"),
            preprocessing_fixture("PimaIndiansDiabetes2", "diabetes"),
            preprocessing_fixture("mlc_churn", "churn", rows=300),
        ],
        "linear.json": [
            regression_fixture("biomass", "HHV", LinearRegression(), "linear", exclude=("sample",)),
            regression_fixture("biomass", "HHV", Ridge(alpha=1.0), "ridge", exclude=("sample",)),
            regression_fixture("Ozone", "V4", Ridge(alpha=10.0), "ridge"),
            regression_fixture("Servo", "Class", Ridge(alpha=1.0), "ridge"),
            # One-hot columns with an intercept are collinear: the minimum-norm solution is compared.
            regression_fixture("Servo", "Class", LinearRegression(), "linear"),
        ],
        "logistic.json": [
            logistic_fixture("Ionosphere", "Class", 1.0),
            logistic_fixture("PimaIndiansDiabetes2", "diabetes", 0.1),
            logistic_fixture("Glass", "Type", 1.0),
            logistic_fixture("Satellite", "classes", 1.0),
            logistic_fixture("mlc_churn", "churn", 1.0),
        ],
        "ridge_path.json": [
            # Servo's one-hot columns with the intercept are collinear: the 0 end is the minimum-norm solution.
            ridge_path_fixture("Servo", "Class"),
            ridge_path_fixture("biomass", "HHV", exclude=("sample",)),
            ridge_path_fixture("Ozone", "V4"),
        ],
        "logistic_path.json": [
            logistic_path_fixture("PimaIndiansDiabetes2", "diabetes"),
            logistic_path_fixture("Glass", "Type"),
            logistic_path_fixture("Ionosphere", "Class"),
        ],
        "knn.json": [
            knn_fixture("biomass", "HHV", "regression", exclude=("sample",)),
            knn_fixture("Ozone", "V4", "regression"),
            knn_fixture("Ionosphere", "Class", "classification"),
            knn_fixture("Glass", "Type", "classification", k=3),
        ],
        "metrics.json": metric_fixtures(),
        "drift.json": [
            drift_fixture("Servo", "Class", ["Motor", "Screw", "Pgain", "Vgain"], train_rows=100, target_bins=True),
            drift_fixture("Glass", "Type", ["RI", "Mg", "K", "Ba", "Fe"], train_rows=150),
            drift_fixture("PimaIndiansDiabetes2", "diabetes", ["glucose", "triceps", "insulin"], train_rows=500),
            drift_fixture("mlc_churn", "churn", ["state", "international_plan", "area_code", "total_day_minutes"], train_rows=3000),
            drift_fixture("Chicago", "ridership", ["Clark_Lake", "temp", "Bears_Away"], train_rows=4500, target_bins=True),
        ],
    }
    wanted = set(sys.argv[1:]) or set(fixtures)
    if unknown := wanted - set(fixtures):
        sys.exit(f"unknown fixture(s) {', '.join(sorted(unknown))}; the fixtures are {', '.join(fixtures)}")
    for name, content in fixtures.items():
        if name not in wanted:
            continue
        document = {"generator": "scripts/reference/make_fixtures.py", "scikit_learn": sklearn.__version__, "cases": content}
        (OUT / name).write_text(json.dumps(document, indent=None, separators=(",", ":")) + "\n")
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
