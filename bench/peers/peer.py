#!/usr/bin/env python3
"""The peer side of `benchmark --suite train,infer,csv`: scikit-learn, LightGBM, ONNX Runtime (models
converted with skl2onnx) and pandas doing the same work as the testbed on the same data, one
operation at a time, so that the harness can alternate them with its own and report ratios.

Protocol: one JSON object per line on standard input, one JSON answer per line on standard output.
  {"op": "versions"}
  {"op": "load", "x", "test_x", "y_regression", "y_classification", "test_y_regression", "test_y_classification":
         float64 row-major files, "columns": n, "epochs": n}
  {"op": "fit", "algorithm", "task", "rows", "threads"}    fit on the first `rows` rows (threads: default 1,
                                                -1 every core); answers {"seconds", "library"}
  {"op": "cross_validate", "algorithm", "task", "rows", "folds", "threads"}   cross_val_score: {"seconds", "library"}
  {"op": "score", "algorithm", "rows", "metric"}   held-out figure on the first test rows (r2, accuracy, or
                                                "metric": "log_loss"): {"metric", "value"}
  {"op": "convert", "algorithm"}                the fitted scikit-learn model to ONNX, for "onnxruntime"
  {"op": "predict", "algorithm", "library", "batch", "calls"}   {"seconds"} for `calls` predictions of `batch` rows
  {"op": "latency", "algorithm", "library", "count"}            {"seconds": [...]} of single-row predictions
  {"op": "read_csv", "path", "library", "threads"}   pandas.read_csv or pyarrow.csv.read_csv ("library":
                                                "pandas" or "pyarrow"; "threads" 1: on one core, -1: every
                                                core): {"seconds", "rows"}
Everything runs on one thread (the harness sets OMP/OpenBLAS threads to 1 and the libraries' own
thread settings are 1), as the testbed's models do, except where a command asks for "threads".
"""
import json
import os
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def estimator(algorithm, task, epochs, threads=1):
    """The peer's model with the testbed's settings, on `threads` threads (-1: every core) where
    the library has a setting for it."""
    regression = task == "regression"
    if algorithm == "ridge":
        from sklearn.linear_model import Ridge
        return "scikit-learn", Ridge(alpha=1.0)
    if algorithm == "logistic":
        from sklearn.linear_model import LogisticRegression
        return "scikit-learn", LogisticRegression(C=1.0, max_iter=1000)
    if algorithm == "knn":
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
        return "scikit-learn", (KNeighborsRegressor if regression else KNeighborsClassifier)(n_neighbors=5, n_jobs=1)
    if algorithm == "gbdt":
        import lightgbm
        settings = dict(n_estimators=100, num_leaves=31, min_child_samples=20, min_child_weight=1e-3, max_bin=255,
                        learning_rate=0.1, reg_lambda=0.0, subsample=1.0, colsample_bytree=1.0, verbose=-1,
                        num_threads=os.cpu_count() if threads == -1 else threads)
        return "LightGBM", (lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier)(**settings)
    if algorithm == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
        forest = RandomForestRegressor if regression else RandomForestClassifier
        return "scikit-learn", forest(n_estimators=100, n_jobs=threads, random_state=0)
    if algorithm == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        network = MLPRegressor if regression else MLPClassifier
        # A fixed number of epochs, as the harness asks of the testbed's network: the same work.
        return "scikit-learn", network(hidden_layer_sizes=(100,), max_iter=epochs, tol=0.0, n_iter_no_change=10**6,
                                       early_stopping=False, random_state=0)
    raise ValueError(f"no peer for the algorithm '{algorithm}'")


class Peer:
    def __init__(self):
        self.models, self.tasks, self.onnx = {}, {}, {}

    def versions(self, _):
        found = {"python": sys.version.split()[0], "numpy": np.__version__}
        for module, name in [("sklearn", "scikit-learn"), ("lightgbm", "LightGBM"), ("onnxruntime", "ONNX Runtime"),
                             ("skl2onnx", "skl2onnx"), ("pandas", "pandas"), ("pyarrow", "pyarrow")]:
            try:
                found[name] = __import__(module).__version__
            except ImportError:
                pass
        return found

    def load(self, command):
        def read(key):
            return np.fromfile(command[key], dtype="<f8")
        columns = command["columns"]
        self.x = read("x").reshape(-1, columns)
        self.test_x = read("test_x").reshape(-1, columns)
        tasks = ("regression", "classification")
        self.y = {task: read(f"y_{task}") for task in tasks}
        self.test_y = {task: read(f"test_y_{task}") for task in tasks}
        self.epochs = command.get("epochs", 10)
        self.models, self.tasks, self.onnx = {}, {}, {}
        return {"rows": len(self.x)}

    def fit(self, command):
        task = command["task"]
        library, model = estimator(command["algorithm"], task, self.epochs, command.get("threads", 1))
        rows = command["rows"]
        x, y = self.x[:rows], self.y[task][:rows]
        start = time.perf_counter()
        model.fit(x, y)
        seconds = time.perf_counter() - start
        self.models[command["algorithm"]] = model
        self.tasks[command["algorithm"]] = task
        return {"seconds": seconds, "library": library}

    def cross_validate(self, command):
        """5-fold (or `folds`) cross-validation with scikit-learn's cross_val_score, the folds on
        `threads` workers (joblib; -1: every core), each fold's model on one thread."""
        from sklearn.model_selection import KFold, cross_val_score
        task = command["task"]
        library, model = estimator(command["algorithm"], task, self.epochs)
        rows = command["rows"]
        x, y = self.x[:rows], self.y[task][:rows]
        folds = KFold(n_splits=command.get("folds", 5), shuffle=True, random_state=0)
        start = time.perf_counter()
        cross_val_score(model, x, y, cv=folds, n_jobs=command.get("threads", 1))
        return {"seconds": time.perf_counter() - start, "library": library}

    def score(self, command):
        rows, task = command["rows"], self.tasks[command["algorithm"]]
        x, y = self.test_x[:rows], self.test_y[task][:rows]
        model = self.models[command["algorithm"]]
        if command.get("metric") == "log_loss":
            from sklearn.metrics import log_loss
            return {"metric": "log_loss", "value": float(log_loss(y, model.predict_proba(x), labels=[0.0, 1.0]))}
        predicted = model.predict(x)
        if task == "regression":
            residual = np.sum((y - predicted) ** 2)
            return {"metric": "r2", "value": 1 - residual / np.sum((y - y.mean()) ** 2)}
        return {"metric": "accuracy", "value": float(np.mean(predicted == y))}

    def convert(self, command):
        import onnxruntime
        from skl2onnx import to_onnx
        model = self.models[command["algorithm"]]
        onnx_model = to_onnx(model, self.x[:1].astype(np.float32), target_opset=17, options={"zipmap": False} if self.tasks[command["algorithm"]] == "classification" else None)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.onnx[command["algorithm"]] = (session, session.get_inputs()[0].name)
        return {"library": "ONNX Runtime"}

    def predictor(self, command):
        if command["library"] == "onnxruntime":
            session, name = self.onnx[command["algorithm"]]
            return lambda rows: session.run(None, {name: rows.astype(np.float32)})
        model = self.models[command["algorithm"]]
        if command["algorithm"] == "gbdt":
            return lambda rows: model.predict(rows, num_threads=1)
        return model.predict

    def predict(self, command):
        predict = self.predictor(command)
        # ONNX Runtime takes float32: converting the batch is part of serving it, inside the timing.
        batches = [self.test_x[start:start + command["batch"]] for start in batch_starts(command["batch"], command["calls"], len(self.test_x))]
        start = time.perf_counter()
        for batch in batches:
            predict(batch)
        return {"seconds": time.perf_counter() - start}

    def latency(self, command):
        predict = self.predictor(command)
        rows = [self.test_x[index:index + 1] for index in range(command["count"])]
        seconds = []
        for row in rows:
            start = time.perf_counter()
            predict(row)
            seconds.append(time.perf_counter() - start)
        return {"seconds": seconds}

    def read_csv(self, command):
        """pandas.read_csv or pyarrow.csv.read_csv of the file, timed in a process of its own, on
        its second read (the first warms it up, as the harness's repetitions warm its own side):
        each library then starts from the same state whatever ran before (pyarrow's allocator
        and thread pools outlive a call and slowed pandas' next read by half). On one thread
        ("threads": 1) that process is pinned to one CPU before anything starts (pandas 3
        converts text columns with pyarrow, whose threads would otherwise use every core) and
        pyarrow reads without threads; on every core ("threads": -1) both keep their defaults,
        pyarrow's pool sized to the CPUs (not to OMP_NUM_THREADS, which the harness sets to 1)."""
        import subprocess
        one_core = command.get("threads", 1) == 1
        library = command.get("library", "pandas")
        answer = subprocess.run([sys.executable, "-c", READ_CSV, command["path"], library, "1" if one_core else "-1"],
                                check=True, capture_output=True, text=True).stdout
        return json.loads(answer)


READ_CSV = """
import json, os, sys, time
path, library, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
allowed = os.sched_getaffinity(0)
if threads == 1:
    os.sched_setaffinity(0, {max(allowed)})  # not CPU 0, which takes most interrupts
import pandas, pyarrow, pyarrow.csv
if threads != 1:
    pyarrow.set_cpu_count(len(allowed))
def read():
    if library == "pyarrow":
        return pyarrow.csv.read_csv(path, read_options=pyarrow.csv.ReadOptions(use_threads=threads != 1)).num_rows
    return len(pandas.read_csv(path))
read()
start = time.perf_counter()
rows = read()
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
"""


def batch_starts(batch, calls, rows):
    """Where each call's batch begins: call after call moves on through the test rows (as the
    harness's own side does), so that no call finds the previous one's tree paths in cache."""
    return [(call * batch) % (rows - batch + 1) for call in range(calls)]


def main():
    peer = Peer()
    for line in sys.stdin:
        command = json.loads(line)
        try:
            answer = getattr(peer, command["op"])(command)
        except Exception as error:  # the harness reports it and goes on without this peer figure
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
