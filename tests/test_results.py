import json
import math

import numpy as np
import pandas as pd

from cxlib import results


def test_jsonable_converts_numpy_pandas_and_missing():
    out = results.jsonable(
        {
            "a": np.float64(1 / 3),
            "b": pd.NA,
            "c": np.int64(7),
            "d": float("nan"),
            "e": np.bool_(True),
            "f": pd.Series({"x": 1.5}),
        }
    )
    assert out == {"a": 0.333333, "b": None, "c": 7, "d": None, "e": True, "f": {"x": 1.5}}
    json.dumps(out)


def test_jsonable_dataframe_is_records():
    df = pd.DataFrame({"tier": ["none", "realtime"], "nps": [-20.04, 55.5]})
    assert results.jsonable(df) == [{"tier": "none", "nps": -20.04}, {"tier": "realtime", "nps": 55.5}]


def test_record_merges_and_reads_back(tmp_path):
    f = tmp_path / "sub" / "results.json"
    results.record("nps", {"value": 12.5, "n": np.int64(900)}, f)
    results.record("quality", {"read": 10}, f)
    data = results.read(f)
    assert data == {"nps": {"value": 12.5, "n": 900}, "quality": {"read": 10}}
    # overwrite a key, others kept; no temp files left behind
    results.record("nps", {"value": math.pi}, f)
    assert results.read(f)["nps"] == {"value": 3.141593}
    assert sorted(p.name for p in f.parent.iterdir()) == ["results.json"]


def test_record_without_path_writes_nothing(tmp_path):
    assert results.record("x", np.float64(2.0), "") is None
    assert results.read(tmp_path / "missing.json") == {}
