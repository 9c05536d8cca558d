#!/usr/bin/env bash
# Retrains the demonstration models in models/ from the bundled datasets, reproducibly
# (fixed seeds; only the creation time in each file changes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product testbed
testbed=.build/release/testbed
$testbed train --data datasets/Servo.csv --target Class --algorithm gbdt --folds 10 --seed 1 --out models/servo-rise-time.json
$testbed train --data datasets/Glass.csv --target Type --algorithm random_forest --folds 10 --seed 1 --out models/glass-type.json
$testbed train --data datasets/oils.csv --target class --algorithm logistic --folds 5 --seed 1 --out models/oil-type.json
$testbed train --data datasets/Chicago.csv --target ridership --algorithm gbdt --seed 1 --out models/rail-ridership.json
