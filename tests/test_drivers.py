"""Key-driver analysis: Johnson (2000) relative weights against published reference values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlib.drivers import bootstrap_relative_weights, relative_weights
from cxlib.errors import DataError

# R datasets::mtcars (Henderson & Velleman 1981), columns mpg, cyl, disp, hp, wt, gear
MTCARS = pd.DataFrame({
 "mpg": [21.0,21.0,22.8,21.4,18.7,18.1,14.3,24.4,22.8,19.2,17.8,16.4,17.3,15.2,10.4,10.4,14.7,32.4,30.4,33.9,21.5,15.5,15.2,13.3,19.2,27.3,26.0,30.4,15.8,19.7,15.0,21.4],
 "cyl": [6,6,4,6,8,6,8,4,4,6,6,8,8,8,8,8,8,4,4,4,4,8,8,8,8,4,4,4,8,6,8,4],
 "disp": [160.0,160.0,108.0,258.0,360.0,225.0,360.0,146.7,140.8,167.6,167.6,275.8,275.8,275.8,472.0,460.0,440.0,78.7,75.7,71.1,120.1,318.0,304.0,350.0,400.0,79.0,120.3,95.1,351.0,145.0,301.0,121.0],
 "hp": [110,110,93,110,175,105,245,62,95,123,123,180,180,180,205,215,230,66,52,65,97,150,150,245,175,66,91,113,264,175,335,109],
 "wt": [2.620,2.875,2.320,3.215,3.440,3.460,3.570,3.190,3.150,3.440,3.440,4.070,3.730,3.780,5.250,5.424,5.345,2.200,1.615,1.835,2.465,3.520,3.435,3.840,3.845,1.935,2.140,1.513,3.170,2.770,3.570,2.780],
 "gear": [4,4,4,3,3,3,3,4,4,4,4,3,3,3,3,3,3,4,4,4,3,3,3,3,3,4,5,5,5,5,5,4],
})

# R package rwa (M. Chan), README: rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear"))
RWA_GEAR = {"cyl": (0.2284797, 29.32274), "disp": (0.2221469, 28.50999),
            "hp": (0.2321744, 29.79691), "gear": (0.0963886, 12.37037)}
RWA_GEAR_R2 = 0.7791896
# rwa vignette "Regression methods": rwa_multiregress(mtcars, "mpg", c("cyl", "disp", "hp", "wt"))
RWA_WT = {"cyl": (0.2096904, 24.70914), "disp": (0.1883043, 22.18908),
          "hp": (0.1799590, 21.20570), "wt": (0.2706812, 31.89607)}
RWA_WT_R2 = 0.8486


def _ols_r2(df, y, xs):
    a = np.column_stack([np.ones(len(df)), df[xs].to_numpy(float)])
    coef, *_ = np.linalg.lstsq(a, df[y].to_numpy(float), rcond=None)
    resid = df[y].to_numpy(float) - a @ coef
    return 1 - (resid ** 2).sum() / ((df[y] - df[y].mean()) ** 2).sum()


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
    assert out["r2"].iloc[0] == pytest.approx(r2, abs=10 ** -digits)
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
    assert relative_weights(MTCARS, "mpg", ["wt"])["raw_weight"].iloc[0] == pytest.approx(r ** 2)
    x1 = np.array([1, -1, 1, -1, 1, -1, 1, -1], float)
    x2 = np.array([1, 1, -1, -1, 1, 1, -1, -1], float)
    y = 2 * x1 + x2 + np.array([0.3, -0.1, 0.2, 0.0, -0.3, 0.1, -0.2, 0.0])
    df = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    out = relative_weights(df, "y", ["x1", "x2"]).set_index("predictor")
    assert out.loc["x1", "raw_weight"] == pytest.approx(np.corrcoef(x1, y)[0, 1] ** 2)
    assert out.loc["x2", "raw_weight"] == pytest.approx(np.corrcoef(x2, y)[0, 1] ** 2)


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate():
    xs = ["cyl", "disp", "hp", "gear"]
    a = bootstrap_relative_weights(MTCARS, "mpg", xs, n_boot=300, seed=7)
    b = bootstrap_relative_weights(MTCARS, "mpg", xs, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert (a["raw_ci_low"] <= a["raw_weight"]).all() and (a["raw_weight"] <= a["raw_ci_high"]).all()
    assert (a["r2_ci_low"] <= RWA_GEAR_R2).all() and (RWA_GEAR_R2 <= a["r2_ci_high"]).all()
    assert a["n_boot_used"].iloc[0] == 300
    # an independent percentile computation for one predictor
    rng = np.random.default_rng(7)
    d = MTCARS[["mpg", *xs]].to_numpy(float)
    from cxlib.drivers import _weights
    draws = [_weights(d[rng.integers(0, 32, 32)])[0][3] for _ in range(300)]
    gear = a.set_index("predictor").loc["gear"]
    assert gear["raw_ci_low"] == pytest.approx(np.percentile(draws, 2.5))
    assert gear["raw_ci_high"] == pytest.approx(np.percentile(draws, 97.5))


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
