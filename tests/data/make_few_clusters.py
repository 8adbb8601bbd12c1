"""How tests/data/few_clusters.csv and few_clusters_reference.json were made (run once, from the
repository root, with the dev dependencies installed):

    .venv/bin/python tests/data/make_few_clusters.py

The data: 7 centers (A-G) observed over 6 months, 4 of them (A-D) switching to a treatment in
months 2, 3, 3 and 4 (``post``), a visit-level covariate ``x``, and an outcome with center and
month effects, a center-level shock and heteroskedastic noise; values rounded to 4 decimals, the
CSV is what the tests read.

The reference values come from the ``wildboottest`` package (version 0.3.2, by the pyfixest
authors; ``WildboottestCL`` with ``bootstrap_type="11"``, ``impose_null=True``): the restricted
wild cluster bootstrap p-value of ``H0: coefficient = 0`` for ``post`` and ``x`` in the OLS of
``y`` on ``post + x + center dummies + month dummies``, clustered by center,
* with Rademacher weights, all 2^7 = 128 vectors enumerated (the package enumerates them itself
  when 2^G < B);
* with Webb weights, all 6^7 = 279,936 vectors: the package draws Webb weights only, so its
  weight matrix is replaced by the full enumeration before the bootstrap numerator is formed.
Its p-value counts bootstrap |t*| strictly greater than |t|; the weight vectors proportional to
(1, ..., 1) give |t*| = |t| up to rounding, so it lies between cxlib's ``ties="exclude"`` and
``ties="count"`` p-values. Also stored: its CR1 t statistic.
"""

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def make_data() -> pd.DataFrame:
    rng = np.random.default_rng(20261113)
    switch = {"A": 2, "B": 3, "C": 3, "D": 4}
    rows = []
    for ci, c in enumerate("ABCDEFG"):
        shock = rng.normal(scale=0.6)
        for m in range(6):
            for _ in range(int(rng.integers(3, 9))):
                post = float(c in switch and m >= switch[c])
                x = rng.normal() + 0.3 * ci
                y = 7 + 0.2 * ci - 0.1 * m + 0.4 * post + 0.25 * x + shock * post \
                    + rng.normal(scale=1 + 0.2 * ci)
                rows.append({"center": c, "month": m, "post": post, "x": round(x, 4), "y": round(y, 4)})
    return pd.DataFrame(rows)


def design(df: pd.DataFrame) -> pd.DataFrame:
    X = pd.get_dummies(df[["post", "x"]].assign(center=df["center"], month=df["month"].astype(str)),
                       columns=["center", "month"], drop_first=True, dtype=float)
    X.insert(0, "Intercept", 1.0)
    return X


def main() -> None:
    from wildboottest.wildboottest import WildboottestCL

    df = make_data()
    df.to_csv(HERE / "few_clusters.csv", index=False)
    df = pd.read_csv(HERE / "few_clusters.csv")
    X = design(df)
    y = df["y"].to_numpy(float)
    g = pd.factorize(df["center"], sort=True)[0]  # integer codes in sorted order (numba needs numbers)
    out = {"source": "wildboottest 0.3.2 (WildboottestCL, bootstrap_type='11', impose_null=True)", "tests": []}
    for term in ("post", "x"):
        R = np.zeros(X.shape[1])
        R[list(X.columns).index(term)] = 1.0
        for weights in ("rademacher", "webb"):
            wb = WildboottestCL(X=X.to_numpy(float), Y=y, cluster=g, R=R, B=1_000_000, seed=1, parallel=False)
            wb.get_scores(bootstrap_type="11", impose_null=True)
            wb.get_weights(weights_type=weights)
            if weights == "webb":
                wb.v = np.array(list(itertools.product(WEBB, repeat=wb.N_G_bootcluster))).T
                wb.B = wb.v.shape[1]
            wb.get_numer()
            wb.get_denom()
            wb.get_tboot()
            wb.get_vcov()
            wb.get_tstat()
            wb.get_pvalue(pval_type="two-tailed")
            out["tests"].append({"term": term, "weights": weights, "replications": int(wb.B),
                                 "p_value": float(wb.pvalue), "t_stat": float(np.ravel(wb.t_stat)[0])})
    (HERE / "few_clusters_reference.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
