"""Building the processed tables: the plan of one cleaning run, table after table, and the
swap of the result into the processed folder.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from cxlib import catalog, folders, io
from cxlib import clean as _package  # settings read at call time (EVENT_BLOCK_BYTES)
from cxlib.catalog import DEFAULT_TZ
from cxlib.clean import layout
from cxlib.clean.features import _enrich_visits, scores_long
from cxlib.clean.ledger import QuarantinePart, _Audit, write_quarantine
from cxlib.clean.plan import db as plan_db
from cxlib.clean.plan import run as plan_run
from cxlib.clean.readers import CLEAN_VERSION, _Background, _missing_tables, fingerprint, raw_files
from cxlib.clean.rules.centers import _clean_centers, _derived_centers
from cxlib.clean.rules.complaints import _clean_complaints
from cxlib.clean.rules.surveys import _clean_surveys
from cxlib.clean.rules.touchpoints import _clean_events
from cxlib.clean.rules.visits import _clean_visits
from cxlib.clean.swap import (
    _MANIFEST_KEYS,
    OUTPUT_FILES,
    _fs_error,
    _is_complete,
    _lock,
    _read_manifest,
    _remove_if_only_lock,
    _write_parquet,
    _Writer,
)
from cxlib.clean.timestamps import timestamp_options
from cxlib.clean.values import _arrow, _mask_column, _strip
from cxlib.errors import DataError, FolderError


@dataclass
class CleanResult:
    """What :func:`clean` did: where, whether it rebuilt, the fingerprint and the quality report."""

    processed_dir: Path
    rebuilt: bool
    fingerprint: str
    quality: dict
    seconds: float = 0.0


def _given_centers(raw: Any, opts: Any) -> tuple[Any, Any, list]:
    """The centers table as given, cleaned by its rules (the table is a few rows: both engines use
    this), its audit and its carried extra columns."""
    ttz, ctx = opts("centers")
    with ctx:
        centers, a = _clean_centers(raw, ttz)
    return centers, a, _carry_extras(centers.frame, raw, a)


def _carry_extras(frame: pd.DataFrame, raw: pd.DataFrame, audit: _Audit) -> list[dict]:
    """Append the extra raw columns (``raw.attrs["extra_columns"]``) of the kept rows to ``frame``,
    personal data masked like free text; returns their descriptions for quality.json."""
    extras = [e for e in raw.attrs.get("extra_columns", []) if e["name"] in raw.columns]
    k = np.flatnonzero(audit.kept)
    masked_any = np.zeros(audit.n, dtype=bool)
    for e in extras:
        values, masked = _mask_column(_strip(raw[e["name"]].iloc[k]))
        frame[e["name"]] = pd.Series(values.to_numpy(), index=frame.index, dtype="str")
        masked_any[k[masked]] = True
    if masked_any.any():
        audit.repair(masked_any, "pii_masked")
    return extras


def _in_tz(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Every timezone-aware column of ``frame`` shown in ``tz``."""
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.DatetimeTZDtype) and str(frame[c].dtype.tz) != tz:
            frame[c] = frame[c].dt.tz_convert(tz)
    return frame


#: the engines that run the cleaning: the relational plan on DuckDB (all cores, memory bounded), the
#: reference rules in pandas/Arrow (the default: faster at 1M visits for now; one core, memory
#: grows with the data), and the same relational plan on Apache Spark (a local or cluster master)
ENGINES = ("duckdb", "pandas", "spark")


def _build(
    raw_dir: Path,
    out: Path,
    tz: str,
    fp_thread: _Background,
    links: dict[str, str],
    engine: str = "pandas",
    spark_master: str | None = None,
) -> dict:
    """Clean every table of ``raw_dir`` into ``out`` with ``engine`` (see :data:`ENGINES`)."""
    if engine == "pandas":
        return _build_tables(raw_dir, out, tz, fp_thread, links, None)
    if engine == "spark":
        from cxlib.clean.plan import spark as plan_spark

        with plan_spark.database(out / ".plan", master=spark_master or plan_spark.DEFAULT_MASTER) as con:
            return _build_tables(raw_dir, out, tz, fp_thread, links, con)
    raw_bytes = sum(f.stat().st_size for f in raw_files(raw_dir))
    with plan_db.database(out / ".plan", limit=plan_db.memory_limit(raw_bytes)) as con:
        return _build_tables(raw_dir, out, tz, fp_thread, links, con)


def _build_tables(
    raw_dir: Path,
    out: Path,
    tz: str,
    fp_thread: _Background,
    links: dict[str, str],
    plan: duckdb.DuckDBPyConnection | None,
) -> dict:
    """Clean every table of ``raw_dir`` into ``out`` (an empty folder); return the quality dict.
    With ``plan`` (the run's DuckDB database) every table goes through the relational plan
    (:mod:`cxlib.clean.plan.run`); without, through the reference rules (:mod:`cxlib.clean.rules`).

    ``links`` (the allowed symbolic links to outside the raw folder) is recorded in the manifest."""
    from cxlib import sources as _sources

    audits: list[_Audit] = []
    quarantine_parts: list[pd.DataFrame | QuarantinePart] = []
    src, files = _sources.resolve(raw_dir)
    err = _missing_tables(src, files)
    if err is not None:
        raise err
    given = {t: bool(files[t]) for t in catalog.TABLES}
    extra_columns: dict[str, list[dict]] = {}

    def done(audit: _Audit) -> None:
        audits.append(audit)
        quarantine_parts.append(audit.quarantine_frame())
        audit.freeze()  # free the raw text and the per-row record

    def raw_table(t: str) -> pd.DataFrame:
        return io.read_table(raw_dir, t, src.tables[t], files[t]) if given[t] else io.empty_table(t)

    def opts(t: str):
        spec = src.tables[t]
        return spec.tz or tz, timestamp_options(formats=spec.date_formats, dayfirst=spec.dayfirst)

    if plan is not None:
        audits, tables_q, extra_columns, score_columns, quarantine_parts = plan_run.build(
            plan, plan_run.RawInputs(raw_dir, src, files, given), out, tz, opts, _package.EVENT_BLOCK_BYTES
        )
        return _finish(
            out, tz, fp_thread, links, files, given, audits, tables_q, extra_columns, score_columns, quarantine_parts
        )

    raw_visits = raw_table("visits")
    if given["centers"]:
        centers, a, extra_columns["centers"] = _given_centers(raw_table("centers"), opts)
    else:
        centers, a = _derived_centers(raw_visits), _Audit("centers", io.empty_table("centers"))
        extra_columns["centers"] = []
    done(a)
    ttz, ctx = opts("visits")
    with ctx:
        visits, a, vid_all = _clean_visits(raw_visits, centers, ttz)
    visits = _in_tz(visits, tz)
    # the visits' extra columns go after the derived ones (added below)
    visit_extras = pd.DataFrame(index=visits.index)
    extra_columns["visits"] = _carry_extras(visit_extras, raw_visits, a)
    raw_visit_ids = pc.unique(pc.drop_null(vid_all))
    kept_ids = _arrow(visits["visit_id"])
    done(a)
    del vid_all, raw_visits
    linked = {}
    for t, func in (("surveys", _clean_surveys), ("complaints", _clean_complaints)):
        raw = raw_table(t)
        ttz, ctx = opts(t)
        with ctx:
            frame, a = func(raw, raw_visit_ids, kept_ids, ttz)
        linked[t] = _in_tz(frame, tz)
        extra_columns[t] = _carry_extras(linked[t], raw, a)
        done(a)
        del raw
    surveys, complaints = linked["surveys"], linked["complaints"]
    # the journey points the surveys answer (an export with only the LTR question answers none)
    score_columns = [c for c in catalog.SCORE_COLUMNS if c in surveys.columns and bool(surveys[c].notna().any())]
    ttz, ctx = opts("touchpoints")
    with ctx:
        events, a, event_visit = _clean_events(
            raw_dir, raw_visit_ids, kept_ids, ttz, files["touchpoints"], src.tables["touchpoints"]
        )
    extra_columns["touchpoints"] = events.attrs.pop("extra_columns", [])
    events = _in_tz(events, tz)
    done(a)
    visits = _enrich_visits(visits, events, event_visit, surveys, complaints, centers.frame)
    del event_visit
    # the event log is the largest file: write it on the other core while the rest is built, in
    # the processed order a row group at a time (no sorted copy of the whole log)
    events_writer = _Writer(events, out / "events.parquet", sorted_by=layout.sort_keys(events, visits))
    events_writer.start()
    del events
    for c in visit_extras.columns:
        visits[c] = visit_extras[c].to_numpy()
    del visit_extras
    # every table in the processed layout's order (:mod:`cxlib.clean.layout`): by the visit's
    # center, month and id, then its own order
    visits = layout.visit_order(visits)
    try:
        scores = layout.visit_order(scores_long(surveys, visits))
        _write_parquet(visits, out / "visits.parquet")
        _write_parquet(scores, out / "scores.parquet")
        _write_parquet(layout.visit_order(surveys, visits), out / "surveys.parquet", visits)
        _write_parquet(layout.visit_order(complaints, visits), out / "complaints.parquet", visits)
        _write_parquet(centers.frame, out / "centers.parquet")
    except BaseException:
        events_writer.join()  # never leave a writer behind in a folder about to be removed
        raise
    events_writer.result()
    return _finish(out, tz, fp_thread, links, files, given, audits, {}, extra_columns, score_columns, quarantine_parts)


def _finish(
    out: Path,
    tz: str,
    fp_thread: _Background,
    links: dict[str, str],
    files: dict[str, list[Path]],
    given: dict[str, bool],
    audits: list[_Audit],
    tables_q: dict[str, dict],
    extra_columns: dict[str, list],
    score_columns: list[str],
    quarantine_parts: list[pd.DataFrame | QuarantinePart],
) -> dict:
    """Write the quarantine table, ``quality.json`` and the manifest (last); return the quality."""
    write_quarantine(quarantine_parts, out / "quarantine.parquet")
    for part in quarantine_parts:
        if isinstance(part, QuarantinePart):
            part.path.unlink()
    del quarantine_parts

    tables = {a.table: a.quality() for a in audits}
    tables.update(tables_q)
    tables = {t: tables[t] for t in catalog.TABLE_ORDER}
    totals = {k: sum(q[k] for q in tables.values()) for k in ("read", "kept", "repaired", "quarantined")}
    fp, fp_files = fp_thread.result()
    for t, q in tables.items():
        q["given"] = given[t]
        q["files"] = [p.name for p in files[t]]
        if t == "centers" and not given[t]:
            q["derived"] = True
    tables["surveys"]["score_columns"] = score_columns
    quality = {
        "tz": tz,
        "fingerprint": fp,
        "tables": tables,
        "totals": totals,
        "extra_columns": {t: extra_columns.get(t, []) for t in catalog.TABLE_ORDER},
    }
    (out / "quality.json").write_text(json.dumps(quality, indent=2, ensure_ascii=False), encoding="utf-8")
    manifest = {
        "fingerprint": fp,
        "tz": tz,
        "clean_version": CLEAN_VERSION,
        "raw_files": fp_files,
        "outside_links": links,
        "outputs": {f: (out / f).stat().st_size for f in OUTPUT_FILES[:-1]},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return quality


def clean(
    raw_dir: str | Path,
    processed_dir: str | Path,
    *,
    tz: str = DEFAULT_TZ,
    force: bool = False,
    allow_outside_links: bool = False,
    engine: str = "pandas",
    spark_master: str | None = None,
) -> CleanResult:
    """Clean the raw tables in ``raw_dir`` into Parquet files in ``processed_dir``.

    Skips the work when ``processed_dir/manifest.json`` already has the fingerprint of the
    current raw files and ``tz`` (unless ``force``). Refuses folder mistakes first (see
    :mod:`cxlib.folders`) and symbolic links in ``raw_dir`` to files or folders outside it
    (unless ``allow_outside_links``; links allowed by an earlier run are recorded in the
    manifest and accepted with the same target). Holds the processed folder's lock, builds in
    a hidden folder inside it and commits crash-safely; on a :class:`DataError` (bad input, full
    disk, read-only folder) the processed data stay as they were. Files of the analyst in
    ``processed_dir`` are never moved. ``engine`` runs the cleaning as the relational plan on
    DuckDB (``"duckdb"``), the same plan on Apache Spark (``"spark"``, on ``spark_master``,
    default ``local[*]``) or with the reference rules (``"pandas"``, the default); all give the
    same tables.

    >>> clean("data/raw", "data/processed").rebuilt  # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    if engine not in ENGINES:
        raise DataError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    folders.check_clean_folders(raw_dir, processed_dir, manifest_keys=_MANIFEST_KEYS, outputs=OUTPUT_FILES)
    try:
        _dt_tz = pd.Timestamp("2026-01-01").tz_localize(tz)
    except Exception:
        raise DataError(f"unknown time zone {tz!r}; use an IANA name such as {DEFAULT_TZ}") from None
    del _dt_tz
    created = not processed_dir.exists() and not processed_dir.is_symlink()
    try:
        processed_dir.mkdir(parents=True, exist_ok=True)
        with _lock(processed_dir) as lock:
            if lock.writable:
                folders.recover(processed_dir, OUTPUT_FILES)
            manifest = _read_manifest(processed_dir)
            links = folders.check_raw_links(
                raw_dir, allow=allow_outside_links, recorded=(manifest or {}).get("outside_links")
            )
            if not force and manifest and _is_complete(processed_dir, manifest):
                fp, _ = fingerprint(raw_dir, tz=tz)
                if manifest.get("fingerprint") == fp:
                    quality = json.loads((processed_dir / "quality.json").read_text(encoding="utf-8"))
                    return CleanResult(processed_dir, False, fp, quality, time.perf_counter() - started)
            if not lock.writable:
                raise FolderError(
                    "the processed folder is read-only, and its data are missing or older than the raw "
                    "data: give a folder that can be written",
                    file=str(processed_dir),
                )
            fp_thread = _Background(raw_dir, tz)
            fp_thread.start()
            build = None
            try:
                build = folders.new_build_folder(processed_dir)
                quality = _build(raw_dir, build, tz, fp_thread, links, engine, spark_master)
                folders.commit(build, processed_dir, list(OUTPUT_FILES))
            except BaseException:
                fp_thread.join()
                if build is not None and not folders.pending_commit(processed_dir):
                    shutil.rmtree(build, ignore_errors=True)
                raise
    except OSError as exc:
        _remove_if_only_lock(processed_dir, created)
        raise _fs_error(exc, raw_dir, processed_dir) from None
    except BaseException:
        _remove_if_only_lock(processed_dir, created)
        raise
    return CleanResult(processed_dir, True, quality["fingerprint"], quality, time.perf_counter() - started)


def summary_line(result: CleanResult) -> str:
    """One line for the command line: what was kept, repaired and quarantined, and where.

    >>> summary_line(result)  # doctest: +SKIP
    'cleaned 6,000 visits: 5,890 kept, 412 rows repaired, 167 quarantined -> data/processed (2.1 s)'
    """
    tot = result.quality.get("totals", {})
    v = result.quality.get("tables", {}).get("visits", {})
    body = (
        f"{tot.get('read', 0):,} rows read, {tot.get('kept', 0):,} kept "
        f"({tot.get('repaired', 0):,} repaired), {tot.get('quarantined', 0):,} quarantined; "
        f"visits {v.get('kept', 0):,} of {v.get('read', 0):,} kept"
    )
    if result.rebuilt:
        return f"cleaned: {body} -> {result.processed_dir} ({result.seconds:.1f} s)"
    return f"up to date (raw data unchanged, use --force to rebuild): {body} in {result.processed_dir}"
