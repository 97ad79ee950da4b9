"""Reference values for openlab's regression and ranking metrics, from scikit-learn itself.

Usage: /usr/bin/python3 sklearn_regression.py CASES.json OUT.json

CASES.json is {"cases": [{"name", "fn", "y_true", "y_pred", ...}]}, written by
regression_test.cc. For each case this calls the scikit-learn function named by "fn" and
writes {"results": {name: {"value": v} | {"error": "Type: message"}}}, v a number or a list
(multioutput="raw_values"). Numbers that JSON cannot hold travel as the strings "nan", "inf"
and "-inf", both ways. Warnings are recorded beside the value.
"""

import json
import math
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, str):
        return float(v)
    return v


def encode(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return [encode(x) for x in v]
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def arrays(case):
    y_true = np.asarray(decode(case["y_true"]), dtype=np.float64)
    y_pred = np.asarray(decode(case["y_pred"]), dtype=np.float64)
    weight = case.get("sample_weight")
    weight = None if weight is None else np.asarray(decode(weight), dtype=np.float64)
    return y_true, y_pred, weight


def run(case):
    fn = case["fn"]
    y_true, y_pred, w = arrays(case)
    multioutput = case.get("multioutput", "uniform_average")
    if fn == "mae":
        return metrics.mean_absolute_error(y_true, y_pred, sample_weight=w, multioutput=multioutput)
    if fn == "mse":
        return metrics.mean_squared_error(y_true, y_pred, sample_weight=w, multioutput=multioutput)
    if fn == "rmse":
        return metrics.mean_squared_error(
            y_true, y_pred, sample_weight=w, multioutput=multioutput, squared=False
        )
    if fn == "r2":
        return metrics.r2_score(y_true, y_pred, sample_weight=w, multioutput=multioutput)
    if fn == "mape":
        return metrics.mean_absolute_percentage_error(
            y_true, y_pred, sample_weight=w, multioutput=multioutput
        )
    if fn == "pinball":
        return metrics.mean_pinball_loss(
            y_true, y_pred, sample_weight=w, alpha=case["alpha"], multioutput=multioutput
        )
    k = case.get("k")
    if fn == "dcg":
        return metrics.dcg_score(
            y_true, y_pred, k=k, log_base=case.get("log_base", 2), sample_weight=w
        )
    if fn == "ndcg":
        return metrics.ndcg_score(y_true, y_pred, k=k, sample_weight=w)
    if fn == "lrap":
        return metrics.label_ranking_average_precision_score(y_true, y_pred, sample_weight=w)
    if fn == "coverage":
        return metrics.coverage_error(y_true, y_pred, sample_weight=w)
    raise KeyError("unknown metric " + fn)


def main():
    if sklearn.__version__ != "1.2.1":
        sys.exit("expected scikit-learn 1.2.1, found " + sklearn.__version__)
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    results = {}
    for case in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = {"value": encode(run(case))}
            except KeyError:
                raise
            except Exception as e:  # the refusal is the answer
                result = {"error": type(e).__name__ + ": " + str(e)}
        if caught:
            result["warnings"] = [str(w.message) for w in caught]
        results[case["name"]] = result
    with open(sys.argv[2], "w") as f:
        json.dump({"results": results}, f, allow_nan=False)


if __name__ == "__main__":
    main()
