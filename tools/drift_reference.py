"""write_drift_reference(): a modelgate drift reference (README, "Input drift")
from training data, for config.json's "drift": {"reference": ...}.

    import sys; sys.path.insert(0, "tools")
    from drift_reference import write_drift_reference
    write_drift_reference(train_df, "models/m/1/reference.json")
    # a model taking one [n, 4] matrix input "features":
    write_drift_reference({"sepal_length": X[:, 0], ...}, "reference.json", input="features")

Or from a CSV file: python3 tools/drift_reference.py train.csv reference.json
[--buckets 10] [--input features].

`data` is a pandas DataFrame or a dict of 1-D arrays (column name -> values).
Numeric and boolean columns get `buckets` quantile buckets: edges are the
distinct linear-interpolated quantiles at 1/buckets, 2/buckets, ... (numpy's
default, R's type 7) to 15 significant digits, proportions the share of the data in each left-closed
bucket (x < e[0], e[0] <= x < e[1], ...: the daemon's rule). String,
object and categorical columns get their categories' shares; beyond the
`max_categories` most frequent, the rest is "other". NaN/None are left out, as
the daemon skips NaN. With `input`, every column is a column of that 2-D
input, in order. Needs numpy only (pandas for DataFrames and CSV).
"""
import argparse
import json
from collections import Counter

import numpy as np

FORMAT = 1
RESERVED_CATEGORY = "_other"


def _columns(data):
    if hasattr(data, "columns"):  # a pandas DataFrame
        return [(str(c), data[c].to_numpy()) for c in data.columns]
    return [(str(k), np.asarray(v)) for k, v in data.items()]


def _numeric_entry(x, buckets):
    x = x.astype(np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        raise ValueError("no values that are not NaN")
    probs = np.arange(1, buckets) / buckets
    # 15 significant digits, as the R helper writes them; counted with the
    # edges as written.
    edges = np.unique([float("%.15g" % q) for q in np.quantile(x, probs)])
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1)
    return {"edges": edges.tolist(), "proportions": (counts / x.size).tolist()}


def _categorical_entry(x, max_categories):
    values = [str(v) for v in x if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if not values:
        raise ValueError("no values that are not missing")
    kept = Counter(values).most_common(max_categories)
    if any(name == RESERVED_CATEGORY for name, _ in kept):
        raise ValueError(f"category {RESERVED_CATEGORY!r} is reserved")
    shares = {name: n / len(values) for name, n in kept}
    return {"categories": shares, "other": 1 - sum(n for _, n in kept) / len(values)}


def drift_reference(data, buckets=10, max_categories=50, input=None):
    """The reference as a dict (see write_drift_reference)."""
    if not 2 <= buckets <= 100 or not 1 <= max_categories <= 100:
        raise ValueError("buckets must be 2..100 and max_categories 1..100")
    columns = _columns(data)
    if not columns:
        raise ValueError("no columns")
    entries = {}
    rows = 0
    for j, (name, x) in enumerate(columns):
        rows = max(rows, len(x))
        try:
            if x.dtype.kind in "biuf":
                entry = _numeric_entry(x, buckets)
            elif input is not None:
                raise ValueError("a matrix input holds numbers only")
            else:
                entry = _categorical_entry(x, max_categories)
        except ValueError as e:
            raise ValueError(f"column {name!r}: {e}") from None
        if input is not None:
            entry = {"input": input, "column": j, **entry}
        entries[name] = entry
    return {"format": FORMAT, "rows": rows, "inputs": entries}


def write_drift_reference(data, path, buckets=10, max_categories=50, input=None):
    """Writes the reference of `data` to `path` as JSON; returns it as a dict."""
    ref = drift_reference(data, buckets, max_categories, input)
    with open(path, "w") as f:
        json.dump(ref, f, indent=2)  # repr of floats: exact round trip
        f.write("\n")
    return ref


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("csv", help="training data, with a header row")
    p.add_argument("out", help="reference.json to write")
    p.add_argument("--buckets", type=int, default=10)
    p.add_argument("--max-categories", type=int, default=50)
    p.add_argument("--input", help="the 2-D input whose columns the CSV's columns are")
    a = p.parse_args()
    import pandas as pd

    write_drift_reference(pd.read_csv(a.csv), a.out, a.buckets, a.max_categories, a.input)


if __name__ == "__main__":
    main()
