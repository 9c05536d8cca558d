"""The scikit-learn models the serving peers (mlserver_model.py, fastapi_peer.py) serve, fitted the
same way for both, as the equivalents of the testbed's demonstration models:

  glass-type  RandomForestClassifier(100 trees, random_state=1) on datasets/Glass.csv, target "Type"
              (integer labels: MLServer answers them as INT64);
  oil-type    Pipeline(StandardScaler(), LogisticRegression(C=1)) on datasets/oils.csv, target
              "class" (string labels: BYTES), multinomial (scikit-learn's default with lbfgs).

Both are fitted on every row, on float64 inputs, single-threaded.
"""
import pathlib

import pandas
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[2]

# name: (CSV under datasets/, target column, estimator factory)
MODELS = {
    "glass-type": ("Glass.csv", "Type",
                   lambda: RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=1)),
    "oil-type": ("oils.csv", "class",
                 lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))),
}


def training_data(name):
    """The model's inputs (float64, the CSV's column order without the target) and labels."""
    csv, target, _ = MODELS[name]
    table = pandas.read_csv(ROOT / "datasets" / csv)
    return table.drop(columns=[target]).to_numpy(dtype="float64"), table[target].to_numpy()


def fit(name):
    x, y = training_data(name)
    return MODELS[name][2]().fit(x, y)


def fit_all():
    return {name: fit(name) for name in MODELS}
