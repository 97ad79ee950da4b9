"""The reference side of classification_test.cc: scikit-learn 1.2.1 on the test's cases.

Usage: /usr/bin/python3 sklearn_classification.py CASES.json OUT.tsv

CASES.json is a list of {"name": ..., "fn": <a function of sklearn.metrics>, "kwargs": {...}}.
Lists become numpy arrays (integers stay integers, numbers written with a point or exponent are
float64). For each case OUT.tsv gets one line:
  name <TAB> ok <TAB> v1,v2,...      the result flattened (a tuple's parts one after another),
                                     each value as Python's repr of a float (exact round trip)
  name <TAB> err <TAB> Type: message  when scikit-learn raised
"""

import json
import sys
import warnings

import numpy as np
import sklearn

if not hasattr(sklearn, "__version__"):
    sys.exit(
        "scikit-learn is not importable by /usr/bin/python3 (only a leftover 'sklearn' folder "
        "was found): install python3-sklearn, or unpack it with scripts/sklearn.sh and put its "
        "folder on PYTHONPATH"
    )

from sklearn import metrics  # noqa: E402


def to_arrays(kwargs):
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, list) and key != "labels":
            out[key] = np.asarray(value)
        else:
            out[key] = value
    return out


def flatten(result):
    parts = result if isinstance(result, tuple) else (result,)
    values = []
    for part in parts:
        if part is None:
            continue
        values.extend(float(v) for v in np.ravel(np.asarray(part, dtype=np.float64)))
    return values


def main():
    if sklearn.__version__ != "1.2.1":
        sys.exit(f"scikit-learn 1.2.1 is the reference, found {sklearn.__version__}")
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    warnings.simplefilter("ignore")
    lines = []
    for case in cases:
        fn = getattr(metrics, case["fn"])
        try:
            values = flatten(fn(**to_arrays(case["kwargs"])))
            lines.append(f"{case['name']}\tok\t{','.join(repr(v) for v in values)}")
        except Exception as e:  # noqa: BLE001 - every refusal is reported to the test
            message = str(e).replace("\n", " ").replace("\t", " ")
            lines.append(f"{case['name']}\terr\t{type(e).__name__}: {message}")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
