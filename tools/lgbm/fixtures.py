#!/usr/bin/env python3
"""Trains small LightGBM models and writes them with LightGBM's own predictions, as the
fixtures of mako's model inference (tests/fixtures/lgbm/).

Generated with the PyPI packages lightgbm 4.7.0 and numpy 2.4.6 on CPython 3.11:

    pip install lightgbm==4.7.0 numpy==2.4.6
    python3 tools/lgbm/fixtures.py

For each model <name> it writes:

- `<name>.model.txt`: the model as `Booster.save_model` writes it (`binary_120.model.txt.gz`:
  gzipped, to keep the fixtures small; the tests and the bench read it through flate2);
- `<name>.rows.csv`: rows to predict, a header of the model's feature names, an empty
  field for a missing value (NaN), every value written so it reads back as the same double;
- `<name>.raw.csv`: LightGBM's raw scores (`raw0[,raw1...]`), from the model file read back
  with `lgb.Booster(model_file=...)`;
- `<name>.pred.csv`: LightGBM's predictions after the objective's transform (`pred0...`);
- `<name>.iter<k>.raw.csv` / `.pred.csv` where a model is also predicted with `num_iteration=k`.

The data are seeded, training is single-threaded and deterministic, so running the script
again writes the same files.
"""

import gzip
import os
import shutil

import lightgbm as lgb
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "lgbm")


def fmt(x):
    x = float(x)
    return "" if np.isnan(x) else repr(x)


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) for v in r) + "\n")


def train(name, X, y, params, rounds, rows, categorical=None, iters=(), gz=False):
    names = [f"f{i}" for i in range(X.shape[1])] if "names" not in params else params.pop("names")
    base = {"verbose": -1, "num_threads": 1, "deterministic": True, "seed": 7}
    base.update(params)
    ds = lgb.Dataset(X, y, feature_name=names,
                     categorical_feature=categorical if categorical is not None else "auto",
                     free_raw_data=False)
    booster = lgb.train(base, ds, num_boost_round=rounds)
    model_path = os.path.join(OUT, f"{name}.model.txt")
    booster.save_model(model_path)
    loaded = lgb.Booster(model_file=model_path)
    write_csv(os.path.join(OUT, f"{name}.rows.csv"), names, rows)
    for suffix, kw in [("", {})] + [(f".iter{k}", {"num_iteration": k}) for k in iters]:
        raw = np.asarray(loaded.predict(rows, raw_score=True, **kw), dtype=np.float64).reshape(len(rows), -1)
        pred = np.asarray(loaded.predict(rows, **kw), dtype=np.float64).reshape(len(rows), -1)
        write_csv(os.path.join(OUT, f"{name}{suffix}.raw.csv"), [f"raw{i}" for i in range(raw.shape[1])], raw)
        write_csv(os.path.join(OUT, f"{name}{suffix}.pred.csv"), [f"pred{i}" for i in range(pred.shape[1])], pred)
    size = os.path.getsize(model_path)
    if gz:
        # mtime=0 keeps the bytes the same from run to run.
        with open(model_path, "rb") as src, open(model_path + ".gz", "wb") as raw_out:
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw_out, mtime=0) as dst:
                shutil.copyfileobj(src, dst)
        os.remove(model_path)
    print(name, size, "bytes,", booster.num_trees(), "trees")


def with_nans(rng, X, frac):
    X = X.copy()
    X[rng.random(X.shape) < frac] = np.nan
    return X


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(17)

    # Binary with NaN missing values in training and in the rows (missing type NaN).
    X = rng.normal(size=(600, 4))
    y = ((X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2] + rng.normal(0, 0.5, 600)) > 0).astype(float)
    X = with_nans(rng, X, 0.15)
    rows = with_nans(rng, rng.normal(size=(80, 4)), 0.2)
    rows[0] = [0.0, -0.0, 1e-40, -1e-40]
    rows[1] = [np.nan] * 4
    train("binary_nan", X, y, {"objective": "binary", "num_leaves": 8, "learning_rate": 0.2}, 20, rows,
          iters=(5,))

    # zero_as_missing: zeros (and NaN) are the missing value (missing type Zero).
    X = rng.normal(size=(600, 4))
    X[rng.random(X.shape) < 0.25] = 0.0
    y = 2.0 * X[:, 0] - X[:, 1] + 0.5 * X[:, 3] * X[:, 2] + rng.normal(0, 0.2, 600)
    rows = rng.normal(size=(80, 4))
    rows[rng.random(rows.shape) < 0.25] = 0.0
    rows = with_nans(rng, rows, 0.1)
    rows[0] = [0.0, -0.0, 1e-40, -1e-36]
    train("zero_missing", X, y, {"objective": "regression", "zero_as_missing": True, "num_leaves": 8,
                                 "learning_rate": 0.2}, 20, rows)

    # Categorical features (bitset splits), rows with unseen, negative, fractional and NaN categories.
    n = 800
    cat0 = rng.integers(0, 40, n).astype(float)
    cat1 = rng.integers(0, 5, n).astype(float)
    num = rng.normal(size=n)
    logit = np.where(np.isin(cat0, [1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]), 1.5, -1.0) + (cat1 == 2) * 1.0 + num
    y = (logit + rng.normal(0, 0.5, n) > 0).astype(float)
    X = np.column_stack([cat0, cat1, num])
    rows = np.column_stack([rng.integers(-2, 45, 80).astype(float), rng.integers(0, 6, 80).astype(float),
                            rng.normal(size=80)])
    rows[0] = [np.nan, np.nan, np.nan]
    rows[1] = [3.7, 2.2, 0.0]
    rows[2] = [-0.5, 1e10, 1.0]
    train("categorical", X, y, {"objective": "binary", "num_leaves": 8, "learning_rate": 0.2,
                                "min_data_per_group": 5, "cat_smooth": 1.0, "max_cat_to_onehot": 4,
                                "names": ["cat_a", "cat_b", "x"]}, 20, rows, categorical=[0, 1])

    # Multiclass (softmax over per-class trees), 3 classes: down / flat / up.
    X = rng.normal(size=(900, 5))
    s = X[:, 0] - 0.7 * X[:, 1] + 0.3 * X[:, 4] + rng.normal(0, 0.4, 900)
    y = np.digitize(s, [-0.5, 0.5]).astype(float)
    X = with_nans(rng, X, 0.05)
    rows = with_nans(rng, rng.normal(size=(80, 5)), 0.05)
    train("multiclass", X, y, {"objective": "multiclass", "num_class": 3, "num_leaves": 8,
                               "learning_rate": 0.2}, 15, rows, iters=(4,))

    # Regression (L2) on a smooth function.
    X = rng.uniform(-3, 3, size=(700, 3))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] ** 2 - X[:, 2] + rng.normal(0, 0.1, 700)
    rows = rng.uniform(-4, 4, size=(80, 3))
    train("regression", X, y, {"objective": "regression", "num_leaves": 8, "learning_rate": 0.2}, 25, rows)

    # Binary, 120 trees of 31 leaves: the speed target's model, and the at-least-100-trees case.
    X = rng.normal(size=(5000, 10))
    y = ((X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.5 * X[:, 3] - 0.2 * X[:, 4] ** 2
          + rng.normal(0, 0.5, 5000)) > 0).astype(float)
    X = with_nans(rng, X, 0.02)
    rows = with_nans(rng, rng.normal(size=(100, 10)), 0.02)
    train("binary_120", X, y, {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05,
                               "min_data_in_leaf": 10}, 120, rows, iters=(37,), gz=True)


if __name__ == "__main__":
    main()
