#!/usr/bin/env bash
# Binary classification metrics on 10,000,000 scored rows: openlab's (bench/metrics_binary.cc)
# against scikit-learn 1.2.1's roc_auc_score, average_precision_score, f1_score and log_loss on
# the same data in the same run. Checks that the values agree within 1e-12 relative and prints
# one table: each side's median time, the ratio, and whether openlab is at least 20x faster.
#
# Usage: bench/metrics_binary.sh [BUILD_DIR] [ROWS] [RUNS]
#   BUILD_DIR  where metrics_binary was built (default build); its sklearn/ folder, if present,
#              goes on PYTHONPATH (scripts/sklearn.sh unpacks Debian's scikit-learn there)
#   ROWS       default 10000000;  RUNS: openlab's runs per metric, default 5 (scikit-learn: 3)
set -euo pipefail

build="${1:-build}"
rows="${2:-10000000}"
runs="${3:-5}"
site="$build/sklearn/usr/lib/python3/dist-packages"
if [ -z "${PYTHONPATH:-}" ] && [ -d "$site" ]; then
  export PYTHONPATH="$site"
fi
[ -x "$build/metrics_binary" ] || {
  echo "metrics_binary: build it first: ninja -C $build metrics_binary" >&2
  exit 1
}

data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
"$build/metrics_binary" --rows "$rows" --runs "$runs" --out "$data" > "$data/openlab.txt"

/usr/bin/python3 - "$data" <<'EOF'
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, f1_score, log_loss, roc_auc_score

warnings.simplefilter("ignore")
data = sys.argv[1]
y_true = np.fromfile(f"{data}/y_true.int8", dtype=np.int8)
y_pred = np.fromfile(f"{data}/y_pred.int8", dtype=np.int8)
y_score = np.fromfile(f"{data}/y_score.f64", dtype=np.float64)

ours = {}
with open(f"{data}/openlab.txt") as f:
    for line in f:
        parts = line.split()
        if parts[0] == "metric":
            ours[parts[1]] = (float(parts[2]), float(parts[3]))

calls = {
    "roc_auc": lambda: roc_auc_score(y_true, y_score),
    "average_precision": lambda: average_precision_score(y_true, y_score),
    "f1": lambda: f1_score(y_true, y_pred),
    "log_loss": lambda: log_loss(y_true, y_score),
}
print(f"rows {len(y_true):,}, positives {y_true.mean():.1%}, "
      f"distinct scores {len(np.unique(y_score)):,}; scikit-learn {sklearn.__version__}, "
      f"numpy {np.__version__}")
print()
print("| metric | openlab ms | scikit-learn ms | ratio | >= 20x | value (openlab) | relative difference |")
print("| --- | ---: | ---: | ---: | --- | --- | ---: |")
ok = True
for name, call in calls.items():
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        value = float(call())
        times.append((time.perf_counter() - t0) * 1000)
    ref_ms = statistics.median(times)
    our_value, our_ms = ours[name]
    rel = abs(our_value - value) / max(abs(value), 1e-300)
    agree = rel <= 1e-12
    ok &= agree
    ratio = ref_ms / our_ms
    print(f"| {name} | {our_ms:.1f} | {ref_ms:.0f} | {ratio:.0f}x | "
          f"{'yes' if ratio >= 20 else 'NO'} | {our_value:.17g} | {rel:.1e}"
          f"{'' if agree else ' DISAGREE'} |")
value, ms = ours["curve_auc_and_ap"]
print()
print(f"One BinaryCurve read for both ROC AUC and AP: {ms:.1f} ms.")
if not ok:
    sys.exit("openlab and scikit-learn disagree beyond 1e-12 relative")
EOF
