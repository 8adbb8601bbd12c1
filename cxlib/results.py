"""Key results that notebooks record for reports and dashboards.

Each numbered notebook records its headline figures under stable keys (documented in
``docs/results.md``) in one JSON file, ``results.json``. ``cx report`` gives every run its own
file; an analyst working interactively gets ``data/processed/results.json``. Later notebooks
read earlier results from the same file (notebook 04 reads the complaint rate ratio that
notebook 03 measured).

    >>> from cxlib import results
    >>> results.record("nps", {"value": 12.5, "ci_low": 8.1, "ci_high": 16.9, "n": 900}, "results.json")  # doctest: +SKIP
    >>> results.read("results.json")["nps"]["value"]  # doctest: +SKIP
    12.5
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any, digits: int = 6) -> Any:
    """Turn numpy / pandas values into plain JSON values; NaN and NA become ``None``.

    Floats are rounded to ``digits`` significant decimals so stored results are stable.

        >>> jsonable({"a": np.float64(0.1234567891), "b": pd.NA, "c": np.int64(3)})
        {'a': 0.123457, 'b': None, 'c': 3}
    """
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r, digits) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [jsonable(v, digits) for v in obj]
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else round(x, digits)
    if isinstance(obj, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(obj).isoformat()
    return str(obj)


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The recorded results, or an empty dict when the file does not exist yet.

        >>> read("no-such-file.json")
        {}
    """
    p = Path(path)
    if not p.exists():
        return {}
    return json.loads(p.read_text(encoding="utf-8"))


def record(key: str, value: Any, path: str | os.PathLike[str] | None) -> None:
    """Store ``value`` (made JSON-able by :func:`jsonable`) under ``key`` in the results file,
    merged with what is there and written atomically.

    ``path`` None or ``""`` records nothing (a notebook run without a results file). Returns
    nothing, so a notebook cell that records shows no output.

        >>> record("nps", {"value": 10.0}, None)
    """
    value = jsonable(value)
    if not path:
        return None
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = read(p)
    data[key] = value
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)  # keeps catalog order of points
    os.replace(tmp, p)
    return None
