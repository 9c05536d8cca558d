#!/usr/bin/env python3
"""LightGBM as a peer of the testbed's gbdt, driven by `benchmark --suite gbdt --peer-python PYTHON`.

Reads the benchmark's table (float64, row-major, written by Sources/benchmark/TreeBenchmark.swift),
then answers one command per line on standard input with the seconds it took, so that the
benchmark can time LightGBM and its own gbdt in turn, on the same data, in one run:
  fit      train 100 rounds of 31 leaves (20 rows per leaf, 255 bins, learning rate 0.1, one thread)
  predict  predict every row
  explain  TreeSHAP contributions (pred_contrib) of the first --explain-rows rows
  version  the LightGBM version
"""
import argparse
import sys
import time

import lightgbm
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", required=True)
    parser.add_argument("--y", required=True)
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--explain-rows", type=int, default=2_000)
    arguments = parser.parse_args()
    x = np.fromfile(arguments.x, dtype="<f8").reshape(-1, arguments.columns)
    y = np.fromfile(arguments.y, dtype="<f8")
    model = lightgbm.LGBMRegressor(objective="regression", n_estimators=100, num_leaves=31, min_child_samples=20,
                                   min_child_weight=1e-3, max_bin=255, learning_rate=0.1, reg_lambda=0.0,
                                   subsample=1.0, colsample_bytree=1.0, num_threads=1, verbose=-1)
    model.fit(x, y)
    sample = x[: arguments.explain_rows]
    commands = {
        "fit": lambda: model.fit(x, y),
        "predict": lambda: model.predict(x, num_threads=1),
        "explain": lambda: model.predict(sample, pred_contrib=True, num_threads=1),
    }
    for line in sys.stdin:
        command = line.strip()
        if command == "version":
            print(lightgbm.__version__, flush=True)
            continue
        start = time.perf_counter()
        commands[command]()
        print(time.perf_counter() - start, flush=True)


if __name__ == "__main__":
    main()
