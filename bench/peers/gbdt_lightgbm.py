#!/usr/bin/env python3
"""LightGBM on the gbdt benchmark's table, for the ratios `benchmark --suite gbdt --peer-python` prints.

Builds the same synthetic regression table as Sources/benchmark/TreeBenchmark.swift (SplitMix64
uniforms in [-1, 1), the same target and missing cells), then times LightGBM with one thread and
the testbed's gbdt settings (100 rounds, 31 leaves, 20 rows per leaf, 255 bins, learning rate 0.1,
no early stopping): fit, batch predict and TreeSHAP (pred_contrib). Prints one JSON object.
"""
import argparse
import json
import math
import time

import lightgbm
import numpy as np

MASK = (1 << 64) - 1


def uniforms(count, seed):
    state, values = seed, np.empty(count)
    for index in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        values[index] = (z >> 11) / float(1 << 53) * 2 - 1
    return values


def table(rows, columns=20):
    x = uniforms(rows * columns, 5).reshape(rows, columns)
    y = np.array([math.sin(3 * r[0]) + r[1] * r[2] + (1 if r[3] > 0 else -1) + 0.1 * r[4] for r in x])
    for row in range(0, rows, 37):
        x[row, row % columns] = np.nan
    return x, y


def timed(repetitions, body):
    body()
    seconds = []
    for _ in range(repetitions):
        start = time.perf_counter()
        body()
        seconds.append(time.perf_counter() - start)
    return {"median": float(np.median(seconds)), "min": min(seconds), "max": max(seconds), "seconds": seconds}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--explain-rows", type=int, default=2_000)
    arguments = parser.parse_args()
    x, y = table(arguments.rows)
    parameters = dict(objective="regression", n_estimators=100, num_leaves=31, min_child_samples=20, max_bin=255,
                      learning_rate=0.1, reg_lambda=0.0, num_threads=1, verbose=-1, min_child_weight=1e-3,
                      min_split_gain=0.0, subsample=1.0, colsample_bytree=1.0)
    model = lightgbm.LGBMRegressor(**parameters)
    fit = timed(max(1, arguments.repetitions // 2), lambda: model.fit(x, y))
    predict = timed(arguments.repetitions, lambda: model.predict(x, num_threads=1))
    sample = x[: arguments.explain_rows]
    explain = timed(arguments.repetitions, lambda: model.predict(sample, pred_contrib=True, num_threads=1))
    print(json.dumps({"lightgbm": lightgbm.__version__, "rows": arguments.rows, "explain_rows": len(sample),
                      "fit": fit, "predict": predict, "explain": explain}))


if __name__ == "__main__":
    main()
