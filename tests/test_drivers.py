"""Key-driver analysis: Johnson (2000) relative weights against published reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.drivers import Bootstrap, bootstrap_relative_weights, relative_weights
from cxlib.errors import DataError

# R datasets::mtcars (Henderson & Velleman 1981), columns mpg, cyl, disp, hp, wt, gear
MTCARS = pd.DataFrame(
    {
        "mpg": [
            21.0,
            21.0,
            22.8,
            21.4,
            18.7,
            18.1,
            14.3,
            24.4,
            22.8,
            19.2,
            17.8,
            16.4,
            17.3,
            15.2,
            10.4,
            10.4,
            14.7,
            32.4,
            30.4,
            33.9,
            21.5,
            15.5,
            15.2,
            13.3,
            19.2,
            27.3,
            26.0,
            30.4,
            15.8,
            19.7,
            15.0,
            21.4,
        ],
        "cyl": [6, 6, 4, 6, 8, 6, 8, 4, 4, 6, 6, 8, 8, 8, 8, 8, 8, 4, 4, 4, 4, 8, 8, 8, 8, 4, 4, 4, 8, 6, 8, 4],
        "disp": [
            160.0,
            160.0,
            108.0,
            258.0,
            360.0,
            225.0,
            360.0,
            146.7,
            140.8,
            167.6,
            167.6,
            275.8,
            275.8,
            275.8,
            472.0,
            460.0,
            440.0,
            78.7,
            75.7,
            71.1,
            120.1,
            318.0,
            304.0,
            350.0,
            400.0,
            79.0,
            120.3,
            95.1,
            351.0,
            145.0,
            301.0,
            121.0,
        ],
        "hp": [
            110,
            110,
            93,
            110,
            175,
            105,
            245,
            62,
            95,
            123,
            123,
            180,
            180,
            180,
            205,
            215,
            230,
            66,
            52,
            65,
            97,
            150,
            150,
            245,
            175,
            66,
            91,
            113,
            264,
            175,
            335,
            109,
        ],
        "wt": [
            2.620,
            2.875,
            2.320,
            3.215,
            3.440,
            3.460,
            3.570,
            3.190,
            3.150,
            3.440,
            3.440,
            4.070,
            3.730,
            3.780,
            5.250,
            5.424,
            5.345,
            2.200,
            1.615,
            1.835,
            2.465,
            3.520,
            3.435,
            3.840,
            3.845,
            1.935,
            2.140,
            1.513,
            3.170,
            2.770,
            3.570,
            2.780,
        ],
        "gear": [4, 4, 4, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 3, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5, 4],
    }
)

# R package rwa (M. Chan), README: rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear"))
RWA_GEAR = {
    "cyl": (0.2284797, 29.32274),
    "disp": (0.2221469, 28.50999),
    "hp": (0.2321744, 29.79691),
    "gear": (0.0963886, 12.37037),
}
RWA_GEAR_R2 = 0.7791896
# rwa vignette "Regression methods": rwa_multiregress(mtcars, "mpg", c("cyl", "disp", "hp", "wt"))
RWA_WT = {
    "cyl": (0.2096904, 24.70914),
    "disp": (0.1883043, 22.18908),
    "hp": (0.1799590, 21.20570),
    "wt": (0.2706812, 31.89607),
}
RWA_WT_R2 = 0.8486


def _ols_r2(df, y, xs):
    a = np.column_stack([np.ones(len(df)), df[xs].to_numpy(float)])
    coef, *_ = np.linalg.lstsq(a, df[y].to_numpy(float), rcond=None)
    resid = df[y].to_numpy(float) - a @ coef
    return 1 - (resid**2).sum() / ((df[y] - df[y].mean()) ** 2).sum()


def test_mtcars_is_typed_in_correctly():
    # published column means of R's mtcars
    assert MTCARS["mpg"].mean() == pytest.approx(20.090625)
    assert MTCARS["disp"].mean() == pytest.approx(230.721875)
    assert MTCARS["hp"].mean() == pytest.approx(146.6875)
    assert MTCARS["wt"].mean() == pytest.approx(3.21725)


@pytest.mark.parametrize("ref, r2, digits", [(RWA_GEAR, RWA_GEAR_R2, 6), (RWA_WT, RWA_WT_R2, 4)])
def test_relative_weights_match_rwa_package(ref, r2, digits):
    out = relative_weights(MTCARS, "mpg", list(ref), sort=False).set_index("predictor")
    for name, (raw, resc) in ref.items():
        assert out.loc[name, "raw_weight"] == pytest.approx(raw, abs=1e-6)
        assert out.loc[name, "rescaled_pct"] == pytest.approx(resc, abs=1e-4)
    assert out["r2"].iloc[0] == pytest.approx(r2, abs=10**-digits)
    assert out["n"].iloc[0] == 32
    assert out.loc["gear" if "gear" in ref else "wt", "sign"] == ("+" if "gear" in ref else "-")


def test_raw_weights_sum_to_ols_r2_and_rescaled_to_100():
    xs = ["cyl", "disp", "hp", "wt", "gear"]
    out = relative_weights(MTCARS, "mpg", xs)
    assert out["raw_weight"].sum() == pytest.approx(_ols_r2(MTCARS, "mpg", xs), abs=1e-10)
    assert out["rescaled_pct"].sum() == pytest.approx(100)
    assert out["raw_weight"].is_monotonic_decreasing


def test_single_and_orthogonal_predictors_reduce_to_squared_correlations():
    r = MTCARS["mpg"].corr(MTCARS["wt"])
    assert relative_weights(MTCARS, "mpg", ["wt"])["raw_weight"].iloc[0] == pytest.approx(r**2)
    x1 = np.array([1, -1, 1, -1, 1, -1, 1, -1], float)
    x2 = np.array([1, 1, -1, -1, 1, 1, -1, -1], float)
    y = 2 * x1 + x2 + np.array([0.3, -0.1, 0.2, 0.0, -0.3, 0.1, -0.2, 0.0])
    df = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    out = relative_weights(df, "y", ["x1", "x2"]).set_index("predictor")
    assert out.loc["x1", "raw_weight"] == pytest.approx(np.corrcoef(x1, y)[0, 1] ** 2)
    assert out.loc["x2", "raw_weight"] == pytest.approx(np.corrcoef(x2, y)[0, 1] ** 2)


def _by_hand(d: np.ndarray, seed: int, n_boot: int):
    """The resamples of :func:`bootstrap_relative_weights` redrawn from the same seed (the random
    predictor from the first spawned stream, one block of row indices from the second), each
    weighed by ``np.corrcoef`` row by row."""
    from cxlib.drivers import _weights

    rand_rng, rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    n = len(d)
    data = np.column_stack([d, rand_rng.standard_normal(n)])
    idx = rng.integers(0, n, (n_boot, n))
    p = d.shape[1] - 1

    def stats_of(rows):
        raw = _weights(data[rows][:, :-1])[0]
        with_rand = _weights(data[rows])[0]
        return np.concatenate([raw, 100 * raw / raw.sum(), [raw.sum()], with_rand[:p] - with_rand[p]])

    boot = np.array([stats_of(i) for i in idx])
    jack = np.array([stats_of(np.delete(np.arange(n), i)) for i in range(n)])
    return stats_of(np.arange(n)), boot, jack


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate():
    xs = ["cyl", "disp", "hp", "gear"]
    a = bootstrap_relative_weights(MTCARS, "mpg", xs, bootstrap=Bootstrap(n_boot=300, seed=7))
    b = bootstrap_relative_weights(MTCARS, "mpg", xs, bootstrap=Bootstrap(n_boot=300, seed=7))
    pd.testing.assert_frame_equal(a, b)
    assert (a["raw_ci_low"] <= a["raw_weight"]).all() and (a["raw_weight"] <= a["raw_ci_high"]).all()
    assert (a["r2_ci_low"] <= RWA_GEAR_R2).all() and (RWA_GEAR_R2 <= a["r2_ci_high"]).all()
    assert a["n_boot_used"].iloc[0] == 300


def test_bca_intervals_equal_scipy_on_the_same_resamples():
    from types import SimpleNamespace

    from scipy import stats

    xs = ["cyl", "disp", "hp", "gear"]
    a = bootstrap_relative_weights(MTCARS, "mpg", xs, bootstrap=Bootstrap(n_boot=300, seed=7), sort=False).set_index(
        "predictor"
    )
    full, boot, jack = _by_hand(MTCARS[["mpg", *xs]].to_numpy(float), seed=7, n_boot=300)
    p = len(xs)
    assert a["vs_random"].to_numpy() == pytest.approx(full[2 * p + 1 :], rel=1e-9)
    cols = {"raw": 0, "rescaled": p, "vs_random": 2 * p + 1}
    for j, x in enumerate(xs):
        for name, off in cols.items():
            col = off + j

            # scipy's BCa on the same bootstrap distribution; its jackknife leaves out each row index
            def statistic(i: np.ndarray, axis: int = -1, col: int = col) -> np.ndarray:
                return np.apply_along_axis(_by_hand_stat, axis, i, col)

            ref = stats.bootstrap(
                (np.arange(32),),
                statistic,
                n_resamples=0,
                method="BCa",
                bootstrap_result=SimpleNamespace(bootstrap_distribution=boot[:, col]),
            ).confidence_interval
            assert a.loc[x, f"{name}_ci_low"] == pytest.approx(ref.low, rel=1e-7), (x, name)
            assert a.loc[x, f"{name}_ci_high"] == pytest.approx(ref.high, rel=1e-7), (x, name)
            # and ours on the resamples redrawn by hand, each weighed by np.corrcoef
            from cxlib.stats import bca_interval

            lo, hi = bca_interval(full[col], boot[:, col], jack[:, col])
            assert (a.loc[x, f"{name}_ci_low"], a.loc[x, f"{name}_ci_high"]) == pytest.approx((lo, hi), rel=1e-7)


_HAND: dict = {}


def _by_hand_stat(rows: np.ndarray, col: int) -> float:
    """One statistic of :func:`_by_hand` (mtcars, seed 7) for the rows given (scipy's jackknife)."""
    from cxlib.drivers import _weights

    if "data" not in _HAND:
        d = MTCARS[["mpg", "cyl", "disp", "hp", "gear"]].to_numpy(float)
        rand_rng = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[0])
        _HAND["data"] = np.column_stack([d, rand_rng.standard_normal(32)])
    data, p = _HAND["data"], 4
    rows = np.asarray(rows, dtype=int)
    raw = _weights(data[rows][:, :-1])[0]
    with_rand = _weights(data[rows])[0]
    return float(np.concatenate([raw, 100 * raw / raw.sum(), [raw.sum()], with_rand[:p] - with_rand[p]])[col])


def _noise_case(seed: int, n: int = 300) -> pd.DataFrame:
    """y = 0.6 x_strong + 0.25 x_weak + e, x_weak correlated with x_strong; x_noise is pure noise.

    (A column correlated with a driver is no noise for relative weights: it shares that driver's
    variance and rightly gets part of its weight.)"""
    rng = np.random.default_rng(seed)
    strong = rng.standard_normal(n)
    weak = 0.3 * strong + rng.standard_normal(n)
    noise = rng.standard_normal(n)
    y = 0.6 * strong + 0.25 * weak + rng.standard_normal(n)
    return pd.DataFrame({"y": y, "strong": strong, "weak": weak, "noise": noise})


def test_random_variable_test_rejects_noise_and_keeps_real_drivers():
    # Tonidandel, LeBreton & Johnson (2009): a predictor matters when its raw weight beats that of
    # a random predictor. The raw-weight interval of the noise predictor lies above 0 in every run
    # (raw weights are never negative), the random-variable comparison flags it in few.
    runs = [
        bootstrap_relative_weights(
            _noise_case(s), "y", ["strong", "weak", "noise"], bootstrap=Bootstrap(n_boot=400, seed=s)
        ).set_index("predictor")
        for s in range(20)
    ]
    noise_raw = sum(bool(r.loc["noise", "raw_ci_low"] > 0) for r in runs)
    noise_beats = sum(bool(r.loc["noise", "beats_random"]) for r in runs)
    assert noise_raw == 20  # what reading the raw-weight interval concluded
    assert noise_beats <= 3
    assert all(r.loc["strong", "beats_random"] for r in runs)
    assert sum(bool(r.loc["weak", "beats_random"]) for r in runs) >= 15
    for r in runs:
        assert (r["vs_random_ci_low"] <= r["vs_random"]).all() and (r["vs_random"] <= r["vs_random_ci_high"]).all()
        assert r["beats_random"].dtype == bool


def test_random_variable_comparison_on_a_constructed_case():
    # two predictors of equal strength and one orthogonal noise column, n = 2000: the two drivers'
    # differences from the random predictor are close to their squared correlations with y, noise's to 0
    rng = np.random.default_rng(3)
    n = 2000
    x1, x2, x3 = rng.standard_normal((3, n))
    y = 0.5 * x1 + 0.5 * x2 + rng.standard_normal(n)
    out = bootstrap_relative_weights(
        pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3}),
        "y",
        ["x1", "x2", "x3"],
        bootstrap=Bootstrap(n_boot=300, seed=1),
    ).set_index("predictor")
    assert out.loc[["x1", "x2"], "beats_random"].all() and not out.loc["x3", "beats_random"]
    for x in ("x1", "x2"):  # R² of each about 0.25 / 1.5 = 1/6 when orthogonal
        assert out.loc[x, "vs_random"] == pytest.approx(1 / 6, abs=0.04)
        assert out.loc[x, "vs_random_ci_low"] < 1 / 6 < out.loc[x, "vs_random_ci_high"]
    assert out.loc["x3", "vs_random_ci_low"] < 0 < out.loc["x3", "vs_random_ci_high"]


def test_bootstrap_is_fast_on_a_survey_sized_table():
    import time

    df = _noise_case(0, n=5000).assign(
        **{f"p{i}": np.random.default_rng(100 + i).standard_normal(5000) for i in range(7)}
    )
    t0 = time.perf_counter()
    out = bootstrap_relative_weights(
        df, "y", [c for c in df.columns if c != "y"], bootstrap=Bootstrap(n_boot=1000, seed=0)
    )
    assert time.perf_counter() - t0 < 10 and out["n_boot_used"].iloc[0] == 1000


def test_bad_input_raises_data_error():
    with pytest.raises(DataError, match="column not found"):
        relative_weights(MTCARS, "mpg", ["cyl", "nope"])
    with pytest.raises(DataError, match="collinear"):
        relative_weights(MTCARS.assign(cyl2=MTCARS["cyl"] * 2), "mpg", ["cyl", "cyl2"])
    with pytest.raises(DataError, match="constant"):
        relative_weights(MTCARS.assign(k=1.0), "mpg", ["cyl", "k"])
    with pytest.raises(DataError, match="complete rows"):
        relative_weights(MTCARS.head(3), "mpg", ["cyl", "disp"])
    with pytest.raises(DataError, match="also listed"):
        relative_weights(MTCARS, "mpg", ["mpg", "cyl"])


def _per_chunk_reference(z: np.ndarray, p: int, n_boot: int, rng: np.random.Generator, chunk: int) -> np.ndarray:
    """The bootstrap as one matrix product per ``chunk`` resamples with all ``k²`` cross-products
    (how it was computed before the batches)."""
    from cxlib.drivers import _corr_from_moments, _replicate_stats

    n, k = z.shape
    zz = (z[:, :, None] * z[:, None, :]).reshape(n, k * k)
    boots = []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, (b, n)) + (np.arange(b) * n)[:, None]
        w = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n) / n
        boots.append(_replicate_stats(_corr_from_moments(w @ z, (w @ zz).reshape(b, k, k)), p))
    return np.vstack(boots)


@pytest.mark.parametrize("cells_per_row", [1, 21, 10_000])
def test_batched_bootstrap_equals_the_per_chunk_one_for_a_seed(monkeypatch, cells_per_row):
    from cxlib import drivers

    rng0 = np.random.default_rng(3)
    n, p = 400, 4
    x = rng0.standard_normal((n, p))
    d = np.column_stack([x @ np.array([0.5, 0.3, 0.0, -0.2]) + rng0.standard_normal(n), x, rng0.standard_normal(n)])
    z = (d - d.mean(axis=0)) / d.std(axis=0)
    monkeypatch.setattr(drivers, "BOOT_BATCH_CELLS", cells_per_row * n)  # batches of 1, 3 and all chunks
    got = drivers._bootstrap_stats(z, p, 53, np.random.default_rng(9), 7)
    ref = _per_chunk_reference(z, p, 53, np.random.default_rng(9), 7)
    assert got.shape == ref.shape == (53, 3 * p + 1)
    assert np.abs(got - ref).max() < 1e-12 * max(1.0, np.abs(ref).max())


def test_bootstrap_results_do_not_depend_on_the_batch(monkeypatch):
    from cxlib import drivers

    df = _noise_case(2, n=30_000)  # 66 resamples drawn at a time: the 200 in one batch, or 4 products
    a = bootstrap_relative_weights(df, "y", ["strong", "weak", "noise"], bootstrap=Bootstrap(n_boot=200, seed=4))
    monkeypatch.setattr(drivers, "BOOT_BATCH_CELLS", 1)  # one chunk per product, as before
    b = bootstrap_relative_weights(df, "y", ["strong", "weak", "noise"], bootstrap=Bootstrap(n_boot=200, seed=4))
    num = a.select_dtypes("number").columns
    assert np.allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-11, atol=1e-13, equal_nan=True)


@pytest.mark.parametrize("jackknife", ["exact", "linear"])
def test_jackknife_in_blocks_of_rows_equals_row_by_row(monkeypatch, jackknife):
    """The jackknife's rows are taken in blocks of JACKKNIFE_CELLS moments (they were taken as many
    rows at a time as resamples: 5 rows a step at 380,000 responses): the same replicates."""
    from cxlib import drivers

    df = _noise_case(6, n=800)
    a = bootstrap_relative_weights(
        df, "y", ["strong", "weak", "noise"], bootstrap=Bootstrap(n_boot=60, seed=2, jackknife=jackknife)
    )
    monkeypatch.setattr(drivers, "JACKKNIFE_CELLS", 1)  # one row at a time
    b = bootstrap_relative_weights(
        df, "y", ["strong", "weak", "noise"], bootstrap=Bootstrap(n_boot=60, seed=2, jackknife=jackknife)
    )
    num = a.select_dtypes("number").columns
    assert np.allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-10, atol=1e-12, equal_nan=True)
