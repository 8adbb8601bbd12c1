"""The synthetic sample: deterministic, every kind of dirt present, formats as declared, calibrated."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxlib import catalog, synth

N = 2500
SEED = 20261001


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mixed")
    synth.write_sample(out, n_visits=N, seed=SEED, layout="mixed")
    return out


@pytest.fixture(scope="module")
def csv_raw(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("csv")
    synth.write_sample(out, n_visits=N, seed=SEED, layout="csv")
    return {
        name: pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        for name in catalog.TABLE_ORDER
    }


@pytest.fixture(scope="module")
def truth() -> dict[str, pd.DataFrame]:
    return synth.generate(20000, seed=SEED)


# ------------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_bytes(mixed_dir, tmp_path):
    synth.write_sample(tmp_path, n_visits=N, seed=SEED, layout="mixed")
    assert _digest(tmp_path) == _digest(mixed_dir)


@pytest.mark.slow
def test_the_shipped_sample_is_what_cx_sample_writes(tmp_path):
    """``cx sample --visits 6000 --seed 20261001 data/raw`` rebuilds the shipped raw files byte for byte
    (the cases file is not generated): a change to the generator that alters the sample shows here."""
    from cxlib import paths

    synth.write_sample(tmp_path, n_visits=6000, seed=SEED)
    shipped = paths.ROOT / paths.RAW
    written = _digest(tmp_path)
    assert written == {name: d for name, d in _digest(shipped).items() if name in written}
    assert set(written) == {p.name for p in shipped.iterdir()} - {paths.CASES_FILE, ".gitkeep"}


def test_csv_layout_is_deterministic_and_seed_matters(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synth.write_sample(a, n_visits=500, seed=1, layout="csv")
    synth.write_sample(b, n_visits=500, seed=1, layout="csv")
    synth.write_sample(c, n_visits=500, seed=2, layout="csv")
    assert _digest(a) == _digest(b)
    assert _digest(a)["visits.csv"] != _digest(c)["visits.csv"]


def test_rewrite_keeps_foreign_files_and_drops_stale_tables(tmp_path):
    (tmp_path / "cases_interventions.yaml").write_text("keep: me\n")
    synth.write_sample(tmp_path, n_visits=300, seed=1, layout="mixed", months=3)
    synth.write_sample(tmp_path, n_visits=300, seed=1, layout="csv")
    names = {p.name for p in tmp_path.iterdir()}
    assert "cases_interventions.yaml" in names
    assert not any(n.startswith("visits_") for n in names)
    assert {f"{t}.csv" for t in catalog.TABLE_ORDER} <= names


# -------------------------------------------------------------------- file formats
def test_mixed_layout_files_and_manifest(mixed_dir):
    names = sorted(p.name for p in mixed_dir.iterdir())
    months = [f"visits_2026-{m:02d}.csv" for m in range(5, 11)]
    assert names == sorted(
        ["centers.xlsx", "complaints.csv", "sample_manifest.json", "surveys.xlsx", "touchpoints.parquet", *months]
    )
    meta = json.loads((mixed_dir / "sample_manifest.json").read_text(encoding="utf-8"))
    assert {k: meta[k] for k in ("n_visits", "seed", "layout", "start", "months", "generated_by")} == {
        "n_visits": N,
        "seed": SEED,
        "layout": "mixed",
        "start": "2026-05-01",
        "months": 6,
        "generated_by": "cxlib.synth",
    }
    assert meta["example_visit_id"] == synth.example_visit_id() == "WO2026061100001"


def test_encodings_and_headers_as_declared(mixed_dir):
    zh_visits = [c.zh for c in catalog.TABLES["visits"]]
    en_visits = [c.name for c in catalog.TABLES["visits"]]
    may, jun, jul = (mixed_dir / f"visits_2026-0{m}.csv" for m in (5, 6, 7))
    assert may.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert may.read_text(encoding="utf-8-sig").splitlines()[0].split(",") == en_visits
    with pytest.raises(UnicodeDecodeError):
        jun.read_bytes().decode("utf-8")
    assert jun.read_bytes().decode("gb18030").splitlines()[0].split(",") == zh_visits
    assert jul.read_bytes()[:3] != b"\xef\xbb\xbf"
    assert jul.read_text(encoding="utf-8").splitlines()[0].split(",") == zh_visits
    complaints = (mixed_dir / "complaints.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        complaints.decode("utf-8")
    # the complaint text (投诉内容) is an optional column outside the contract's table, carried as an extra column
    assert complaints.decode("gb18030").splitlines()[0].split(",") == [c.zh for c in catalog.TABLES["complaints"]] + [
        "投诉内容"
    ]
    for name, sheet_table in (("centers.xlsx", "centers"), ("surveys.xlsx", "surveys")):
        ws = openpyxl.load_workbook(mixed_dir / name, read_only=True).worksheets[0]
        header = [c.value for c in next(ws.iter_rows(max_row=1))]
        assert header == [c.zh for c in catalog.TABLES[sheet_table]]
    assert pq.read_schema(mixed_dir / "touchpoints.parquet").names == [c.name for c in catalog.TABLES["touchpoints"]]


def test_mixed_and_csv_layouts_hold_the_same_rows(mixed_dir, csv_raw):
    def read(path: Path) -> pd.DataFrame:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        return pd.read_csv(io.StringIO(text), dtype=str)

    visits = pd.concat([read(p) for p in sorted(mixed_dir.glob("visits_*.csv"))])
    assert len(visits) == len(csv_raw["visits"])
    assert pq.read_metadata(mixed_dir / "touchpoints.parquet").num_rows == len(csv_raw["touchpoints"])
    surveys = pd.read_excel(mixed_dir / "surveys.xlsx", dtype=str)
    assert len(surveys) == len(csv_raw["surveys"])


def test_centers_with_rollout_dates(csv_raw):
    centers = csv_raw["centers"]
    assert len(centers) >= 6 and centers["center_id"].is_unique
    since = pd.to_datetime(centers["realtime_since"], format="%Y-%m-%d")
    assert 3 <= since.notna().sum() <= 4
    assert since.dropna().between("2026-05-02", "2026-10-31").all()
    jq = centers.set_index("center_id").loc["SH-JQ"]
    assert jq["name_zh"] == "上海金桥服务中心"
    assert jq["aliases"].split(";") == ["上海金桥", "sh-jq", "Jinqiao"]


# ----------------------------------------------------------------------------- dirt
def test_every_dirt_class_is_in_the_written_files(csv_raw):
    v, t, s, c, centers = (csv_raw[k] for k in ("visits", "touchpoints", "surveys", "complaints", "centers"))
    ids = set(v["visit_id"])
    # duplicated visit rows, internal records
    assert 1 <= v["visit_id"].duplicated().sum() <= 0.01 * len(v)
    assert v["customer_id"].str.startswith("TEST").any() and v["customer_id"].str.startswith("STAFF").any()
    # center as name/alias, with stray spaces and other case
    odd_center = ~v["center"].isin(centers["center_id"])
    assert 0.01 < odd_center.mean() < 0.05
    assert v["center"].isin(centers["name_zh"]).any()
    assert (v["center"] != v["center"].str.strip()).any()
    assert v["center"].str.strip().isin(centers["center_id"].str.lower()).any()
    # mixed timestamp formats within one column
    col = pd.concat([v["arrived_at"], t["ts"]])
    patterns = {
        "iso_offset": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$",
        "iso_plain": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$",
        "slash": r"^\d{4}/\d\d/\d\d \d\d:\d\d$",
        "space": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$",
        "excel": r"^4\d{4}\.\d+$",
        "utc": r"\+00:00$",
    }
    for name, pat in patterns.items():
        assert col.str.contains(pat).any(), name
    assert v["arrived_at"].str.contains(patterns["excel"]).any()
    # the +00:00 form is the same instant as the local form: compare with the event log order
    # delivered before arrived (only rows written in the base format are compared)
    fmt = "%Y-%m-%d %H:%M:%S"
    arr = pd.to_datetime(v["arrived_at"], format=fmt, errors="coerce")
    dlv = pd.to_datetime(v["delivered_at"], format=fmt, errors="coerce")
    assert (dlv < arr).sum() >= 3
    # booleans in every spelling
    spellings = {w for pair in synth._BOOL_SPELLINGS for w in pair}
    assert set(v["warranty"].dropna()) == spellings
    assert set(t["photo"].dropna()) == spellings
    # touchpoints: Chinese names, unknown codes, orphans
    zh = {tp.zh for tp in catalog.TOUCHPOINTS}
    assert t["touchpoint"].isin(zh).mean() > 0.01
    unknown = ~t["touchpoint"].isin(set(catalog.TOUCHPOINT_CODES) | zh)
    assert 0.002 < unknown.mean() < 0.01
    for table in (t, s, c):
        assert (~table["visit_id"].isin(ids)).any()
    # surveys: resubmissions, ltr as text / out of range / missing, scores out of range
    assert s["visit_id"].duplicated().mean() > 0.01
    ltr = s["ltr"]
    assert ltr.str.endswith("分", na=False).any()
    assert (ltr.dropna() != ltr.dropna().str.strip()).any()
    assert ltr.isin(synth._ZH_NUMERALS).any()
    assert ltr.isin(["11", "-1"]).any()
    assert ltr.isna().any()
    scores = pd.to_numeric(s[list(catalog.SCORE_COLUMNS)].stack(), errors="coerce")
    assert ((scores < 1) | (scores > 10)).any()
    assert s[list(catalog.SCORE_COLUMNS)].isna().any().all()
    # personal data in comments, and exactly one script tag
    comments = s["comment"].dropna()
    assert comments.str.contains(r"1[3-9]\d{9}").any()
    assert comments.str.contains(r"\d{17}[\dX]").any()
    assert comments.str.contains(r"[沪京粤浙川苏鲁][A-H]·\d{5}").any()
    assert comments.str.contains(r"[沪京粤浙川苏鲁][A-H][DF]\d{5}").any()
    assert comments.str.contains(r"[沪京粤浙川苏鲁][A-H]\d{5}").any()
    assert (comments.str.contains("<script>alert('x')</script>", regex=False)).sum() == 1


def test_id_numbers_carry_a_valid_check_digit():
    rng = np.random.default_rng(0)
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for _ in range(20):
        num = synth._id_number(rng)
        total = sum(int(ch) * w for ch, w in zip(num[:17], weights))
        assert num[17] == "10X98765432"[total % 11]


def test_add_dirt_on_dataframes_keeps_every_truth_row():
    tables = synth.generate(800, seed=5)
    raw = synth.add_dirt(tables, seed=5)
    assert set(raw) == set(catalog.TABLE_ORDER)
    assert set(tables["visits"]["visit_id"]) <= set(raw["visits"]["visit_id"])
    assert set(tables["surveys"]["response_id"]) <= set(raw["surveys"]["response_id"])
    assert len(raw["touchpoints"]) > len(tables["touchpoints"])
    assert raw["surveys"]["comment"].str.contains("<script>", regex=False).sum() == 1


def test_fast_strftime_matches_pyarrow():
    import pyarrow as pa
    import pyarrow.compute as pc

    secs = np.array([0, 1_790_000_000, 1_798_761_599, 951_782_400], dtype=np.int64)  # incl. 2000-02-29
    valid = np.array([True, True, False, True])
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S+08:00"):
        expected = pc.strftime(pa.array(secs, mask=~valid).cast(pa.timestamp("s")), format=fmt)
        assert synth._strftime(secs, valid, fmt).equals(expected)


# ---------------------------------------------------------------------- calibration
def _events_per_visit(truth) -> pd.DataFrame:
    ev = truth["touchpoints"]
    upd = ev[ev["touchpoint"].isin(catalog.IN_PROGRESS_UPDATES)]
    per = pd.DataFrame(
        {
            "n_inprog": upd.groupby("visit_id").size(),
            "photo": upd.groupby("visit_id")["photo"].apply(lambda x: bool(x.fillna(False).any())),
            "ready": ev[ev["touchpoint"].isin(catalog.COMPLETION_UPDATES)].groupby("visit_id").size() > 0,
        }
    )
    per = per.reindex(truth["visits"]["visit_id"]).fillna({"n_inprog": 0, "photo": False, "ready": False})
    per["tier"] = np.select(
        [per["photo"].astype(bool), per["n_inprog"] > 0, per["ready"].astype(bool)],
        ["realtime_photo", "realtime", "completion_only"],
        "none",
    )
    return per


def test_tier_from_events_matches_the_simulated_tier(truth):
    per = _events_per_visit(truth)
    tr = truth["truth"].set_index("visit_id")
    assert (per["tier"] == tr["tier"]).all()
    assert (per["n_inprog"] == tr["n_inprogress_updates"]).all()


def test_tier_calibration(truth):
    tr = truth["truth"]
    s = truth["surveys"].merge(tr[["visit_id", "tier"]], on="visit_id")
    ltr = s.groupby("tier")["ltr"].mean()
    anxiety = s.groupby("tier")["anxiety"].mean()
    complaint = tr.assign(c=tr["n_complaints"] > 0).groupby("tier")["c"].mean()
    assert 3 <= ltr["none"] <= 5 and 6 <= ltr["completion_only"] <= 7
    assert 7 <= ltr["realtime"] <= 8 and 7.8 <= ltr["realtime_photo"] <= 9
    assert 0.14 <= complaint["none"] <= 0.24 and 0.06 <= complaint["completion_only"] <= 0.13
    assert 0.03 <= complaint["realtime"] <= 0.08 and complaint["realtime_photo"] <= 0.04
    assert 65 <= anxiety["none"] <= 80 and 45 <= anxiety["completion_only"] <= 60
    assert 24 <= anxiety["realtime"] <= 36 and 10 <= anxiety["realtime_photo"] <= 20
    assert list(ltr[list(catalog.TIER_ORDER)]) == sorted(ltr)
    assert list(complaint[list(catalog.TIER_ORDER)]) == sorted(complaint, reverse=True)


def test_value_ranges_and_shape(truth):
    v, s, ev = truth["visits"], truth["surveys"], truth["touchpoints"]
    assert s["ltr"].between(0, 10).all()
    scores = s[list(catalog.SCORE_COLUMNS)]
    assert scores.stack().dropna().between(1, 10).all() and scores.isna().any().all()
    assert 0.55 <= len(s) / len(v) <= 0.75
    assert (v["amount_cny"] >= 0).all()
    assert set(v["scenario"]) == set(catalog.SCENARIO_ORDER)
    assert 10 <= len(ev) / len(v) <= 15
    assert (v["arrived_at"] <= v["started_at"]).all() and (v["started_at"] < v["finished_at"]).all()
    assert (v["finished_at"] < v["delivered_at"]).all()
    assert v["booked_at"].isna().any() and (v["booked_at"].dropna() < v.loc[v["booked_at"].notna(), "arrived_at"]).all()
    dur = (v["finished_at"] - v["started_at"]).dt.total_seconds().groupby(v["scenario"]).median()
    assert dur["maintenance"] < dur["repair"] < dur["accident"]


def test_updates_and_inquiries_happen_during_the_repair(truth):
    v = truth["visits"].set_index("visit_id")
    ev = truth["touchpoints"].join(v[["started_at", "finished_at", "delivered_at"]], on="visit_id")
    during = ev[ev["touchpoint"].isin([*catalog.IN_PROGRESS_UPDATES, catalog.INQUIRY_TOUCHPOINT])]
    assert ((during["ts"] > during["started_at"]) & (during["ts"] < during["finished_at"])).all()
    ready = ev[ev["touchpoint"] == "ready_notice"]
    assert ((ready["ts"] - ready["finished_at"]).dt.total_seconds().between(0, 300)).all()
    photos = ev[ev["photo"].fillna(False).astype(bool)]
    assert set(photos["touchpoint"]) == {"progress_push"}


def test_emotion_curve_shape(truth):
    curve = truth["surveys"][list(catalog.SCORE_COLUMNS)].mean()
    curve.index = list(catalog.SCORE_POINT_ORDER)
    assert set(curve.nsmallest(2).index) == {"waiting", "handover"}
    assert curve.idxmax() == "booking"


def test_confounder_and_silence(truth):
    tr = truth["truth"]
    per = _events_per_visit(truth)
    rt = tr[tr["tier"].isin(["realtime", "realtime_photo"])]
    n_upd = per.loc[rt["visit_id"], "n_inprog"].to_numpy()
    assert np.corrcoef(rt["repair_minutes"], n_upd)[0, 1] > 0.3
    assert np.corrcoef(tr["longest_silence_minutes"], tr["n_inquiries"])[0, 1] > 0.3
    s = truth["surveys"].merge(tr[["visit_id", "longest_silence_minutes"]], on="visit_id").dropna(subset=["anxiety"])
    assert np.corrcoef(s["longest_silence_minutes"], s["anxiety"])[0, 1] > 0.3


def test_duration_adjusted_model_recovers_the_update_effect(truth):
    import statsmodels.api as sm

    tr = truth["truth"].assign(hours=lambda d: d["repair_minutes"] / 60)
    tr = tr[tr["tier"].isin(["realtime", "realtime_photo"])]
    dummies = pd.get_dummies(tr[["scenario", "center"]], drop_first=True, dtype=float)
    tr = pd.concat([tr, dummies], axis=1)

    def rate_ratio(cols):
        x = sm.add_constant(tr[cols].astype(float))
        fit = sm.GLM(tr["n_complaints"], x, family=sm.families.Poisson()).fit()
        return float(np.exp(fit.params["n_inprogress_updates"]))

    naive = rate_ratio(["n_inprogress_updates"])
    adjusted = rate_ratio(["n_inprogress_updates", "hours", "ready_notice", "has_photo_update", *dummies])
    true = synth.TRUE_EFFECTS["complaint_rr_per_inprogress_update"]
    assert abs(adjusted - true) < 0.08
    assert naive - adjusted > 0.15  # longer repairs draw more updates and more complaints

    s = truth["surveys"][["visit_id", "ltr"]].merge(tr.drop(columns=["ltr"]), on="visit_id")
    s["n_capped"] = s["n_inprogress_updates"].clip(upper=synth.TRUE_EFFECTS["ltr_update_saturation"])

    def ltr_slope(cols):
        return float(sm.OLS(s["ltr"].astype(float), sm.add_constant(s[cols].astype(float))).fit().params["n_capped"])

    naive_ltr = ltr_slope(["n_capped"])
    adjusted_ltr = ltr_slope(["n_capped", "hours", "ready_notice", "has_photo_update", *dummies])
    assert adjusted_ltr - naive_ltr > 0.2
    assert 0.3 < adjusted_ltr < synth.TRUE_EFFECTS["ltr_per_inprogress_update"] + 0.1


def test_rollout_gives_a_difference_in_differences(truth):
    tr = truth["truth"].merge(truth["visits"][["visit_id", "arrived_at"]], on="visit_id")
    centers = truth["centers"].set_index("center_id")
    switch = centers["realtime_since"].notna()
    tr["switcher"] = tr["center"].map(switch)
    mid = pd.Timestamp("2026-08-01", tz=catalog.DEFAULT_TZ)
    tr["post"] = tr["arrived_at"] >= mid
    live = tr.groupby("realtime_live")["tier"].value_counts(normalize=True).unstack()
    assert live.loc[True, ["realtime", "realtime_photo"]].sum() > 0.8
    assert live.loc[False, ["none", "completion_only"]].sum() > 0.8
    resp = tr[tr["responded"]]
    m = resp.groupby(["switcher", "post"])["ltr"].mean()
    did = (m[True, True] - m[True, False]) - (m[False, True] - m[False, False])
    assert did > 0.8
    c = tr.assign(c=tr["n_complaints"] > 0).groupby(["switcher", "post"])["c"].mean()
    assert (c[True, True] - c[True, False]) - (c[False, True] - c[False, False]) < -0.03


def test_example_visit(truth):
    vid = synth.example_visit_id()
    v = truth["visits"].set_index("visit_id").loc[vid]
    assert v["vehicle_model"] == "Model Y" and v["scenario"] == "repair" and v["center"] == "SH-JQ"
    assert 180 <= (v["finished_at"] - v["started_at"]).total_seconds() / 60 <= 360
    tr = truth["truth"].set_index("visit_id").loc[vid]
    assert tr["n_inquiries"] >= 3 and tr["longest_silence_minutes"] >= 180
    comment = truth["surveys"].set_index("visit_id").loc[vid, "comment"]
    assert "控制臂衬套" in comment
    assert vid in set(
        synth.add_dirt(
            {k: truth[k] for k in ("centers", "visits", "touchpoints", "surveys", "complaints", "truth")}, seed=1
        )["visits"]["visit_id"]
    )


def test_ltr_follows_worst_and_last_point_more_than_the_mean(truth):
    s = truth["surveys"].dropna(subset=list(catalog.SCORE_COLUMNS))
    import statsmodels.api as sm

    sc = s[list(catalog.SCORE_COLUMNS)]
    x = pd.DataFrame({"worst": sc.min(axis=1), "last": s["score_departure"], "mean": sc.mean(axis=1)})
    z = (x - x.mean()) / x.std()
    fit = sm.OLS(s["ltr"].astype(float), sm.add_constant(z)).fit()
    assert fit.params["worst"] > fit.params["mean"] and fit.params["last"] > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_visits"):
        synth.generate(10, seed=1)
    with pytest.raises(ValueError, match="layout"):
        synth.write_sample(Path("/nonexistent"), n_visits=100, seed=1, layout="json")


# ------------------------------------------------------------------------ effects option
def test_default_effects_write_the_shipped_sample_byte_for_byte(tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "data" / "raw"
    meta = json.loads((shipped / "sample_manifest.json").read_text(encoding="utf-8"))
    synth.write_sample(
        tmp_path,
        n_visits=meta["n_visits"],
        seed=meta["seed"],
        layout=meta["layout"],
        start=meta["start"],
        months=meta["months"],
    )
    made = _digest(tmp_path)
    assert made == {name: digest for name, digest in _digest(shipped).items() if name in made}
    assert synth.Effects().summary() == synth.TRUE_EFFECTS == meta["true_effects"]


def test_reversed_effects_turn_the_findings_round(tmp_path):
    tables = synth.generate(4000, seed=5, effects=synth.REVERSED_EFFECTS)
    by_tier = tables["truth"].groupby("tier")[["ltr", "n_complaints", "anxiety"]].mean()
    assert by_tier.loc["none", "ltr"] > by_tier.loc["realtime_photo", "ltr"] + 2
    assert by_tier.loc["none", "n_complaints"] < by_tier.loc["realtime_photo", "n_complaints"]
    means = tables["surveys"][[f"score_{p}" for p in catalog.SCORE_POINT_ORDER]].mean()
    assert means.idxmax() == "score_waiting"
    synth.write_sample(tmp_path, n_visits=300, seed=1, layout="csv", effects="reversed")
    meta = json.loads((tmp_path / "sample_manifest.json").read_text(encoding="utf-8"))
    assert meta["effects"]["name"] == "reversed" and meta["true_effects"]["ltr_per_inprogress_update"] == -0.6
    with pytest.raises(ValueError, match="effects must be one of"):
        synth.write_sample(tmp_path, n_visits=300, seed=1, effects="backwards")


def test_a_large_csv_sample_is_generated_in_chunks_with_ids_unique_across_them(tmp_path, monkeypatch):
    import pandas as pd

    from cxlib import clean

    monkeypatch.setattr(synth, "CHUNK_VISITS", 400)
    synth.write_sample(tmp_path / "raw", 1000, seed=5, layout="csv")
    visits = pd.read_csv(tmp_path / "raw" / "visits.csv", dtype=str)
    # three chunks: the first is the data set of its size, the others carry their number in the ids
    assert visits["visit_id"].str[:5].value_counts().to_dict() == {"WO202": 335, "WO001": 334, "WO002": 334}
    quality = clean.clean(tmp_path / "raw", tmp_path / "out").quality["tables"]
    # the only repeated ids are the duplicates the dirt puts in
    assert visits["visit_id"].duplicated().sum() == quality["visits"]["rules"]["duplicate_id"]["rows"] == 3
    assert quality["centers"]["read"] == 7
    for q in quality.values():
        assert q["read"] == q["kept"] + q["quarantined"]
    surveys = pd.read_csv(tmp_path / "raw" / "surveys.csv", dtype=str)
    assert quality["surveys"]["rules"]["duplicate_id"]["rows"] == 0 and surveys["response_id"].is_unique
