"""Rules of the touchpoint event log, streamed file by file in blocks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlib import catalog, io
from cxlib import clean as _package  # settings (LOCK_WAIT_S, EVENT_BLOCK_BYTES, clean) read at call time
from cxlib.clean.ledger import _Audit, _missing_required
from cxlib.clean.timestamps import _parse_ts_array
from cxlib.clean.values import (
    _NAT,
    _arrow,
    _bool_codes,
    _code_mapper,
    _map_codes,
    _map_unique_multi,
    _mask_column,
    _norm_key,
    _np_bool,
    _repeated,
    _series_ts,
    _strip,
)


class _EventBatches:
    """Typed columns of the touchpoint log, read and cleaned batch by batch.

    Only the parsed values stay (codes, integer timestamps, flags); of the raw text just what the
    quarantine table may need: the raw values of each batch, the low-cardinality columns
    dictionary-encoded.
    """

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}
        self.raw: list[pa.Table] = []
        self.vids: list[pa.Array] = []  # trimmed visit ids per batch
        self.files: list[tuple[str, int]] = []  # (file name, first source row) per batch
        self.kinds: list[str] = []
        self.unknown: dict[int, str] = {}  # row -> unknown touchpoint text
        self.extras: list[dict[str, pa.ChunkedArray]] = []  # extra raw columns per batch
        self.headers: dict[str, dict] = {}  # extra column -> its raw header and first file
        self.n = 0

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.cols.setdefault(k, []).append(v)

    def truncate(self, n_batches: int) -> None:
        """Forget the batches from ``n_batches`` on (a file that has to be read again)."""
        for v in self.cols.values():
            del v[n_batches:]
        start = sum(len(t) for t in self.raw[:n_batches])
        self.unknown = {i: t for i, t in self.unknown.items() if i < start}
        del self.raw[n_batches:], self.vids[n_batches:], self.files[n_batches:], self.kinds[n_batches:]
        del self.extras[n_batches:]
        self.n = start

    def column(self, name: str, dtype) -> np.ndarray:
        """One column over all batches (taken out: the batch pieces are freed)."""
        parts = self.cols.pop(name, [])
        out = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        parts.clear()
        return out

    def raw_rows(self, idx: np.ndarray) -> pd.DataFrame:
        """The raw values (as read) of rows ``idx`` with their source file and row."""
        starts = np.cumsum([0] + [len(t) for t in self.raw])
        which = np.searchsorted(starts, idx, side="right") - 1
        parts, files, rows = [], [], []
        for b in np.unique(which):
            local = idx[which == b] - starts[b]
            t = self.raw[b].take(pa.array(local))
            parts.append(pa.table([c.cast(pa.string()) for c in t.columns], names=t.column_names))
            name, first = self.files[b]
            files.append(np.full(len(local), name, dtype=object))
            rows.append(first + local)
        value_cols = [c.name for c in catalog.TABLES["touchpoints"]]
        if parts:
            df = pa.concat_tables(parts).to_pandas()
        else:
            df = pd.DataFrame({c: pd.Series([], dtype="str") for c in value_cols})
        df[io.SOURCE_FILE] = np.concatenate(files) if files else np.array([], dtype=object)
        df[io.SOURCE_ROW] = np.concatenate(rows).astype(np.int64) if rows else np.array([], dtype=np.int64)
        return df


_TP_POS = {c: i for i, c in enumerate(catalog.TOUCHPOINT_CODES)}
_TP_NORM = _code_mapper(catalog.TOUCHPOINTS)
_TP_ZH_KEYS = {_norm_key(t.zh) for t in catalog.TOUCHPOINTS}


def touchpoint_code(v: str) -> tuple[int, int]:
    """(index in the catalog or -1, 0 exact / 1 normalised / 2 Chinese name) of one touchpoint text.

    >>> touchpoint_code("进度实时推送")[1], touchpoint_code("nope")
    (2, (-1, 0))
    """
    if v in _TP_POS:
        return _TP_POS[v], 0
    key = _norm_key(v)
    c = _TP_NORM.get(key)
    if c is None:
        return -1, 0
    return _TP_POS[c], 2 if key in _TP_ZH_KEYS else 1


def _clean_events(
    raw_dir: Path,
    raw_visit_ids: pa.Array,
    kept_visit_ids: pa.Array,
    tz: str,
    files: list[Path] | None = None,
    source=None,
) -> tuple[pd.DataFrame, _Audit, np.ndarray]:
    """Clean the touchpoint log, streaming its files batch by batch (see :class:`_EventBatches`).

    ``files`` (default: the table's files in ``raw_dir``) may be empty: the log is optional.
    Extra columns of the log are carried (``frame.attrs["extra_columns"]``).
    """
    pos = {c: i for i, c in enumerate(catalog.TOUCHPOINT_CODES)}
    ch_codes = tuple(c.code for c in catalog.CHANNELS)
    ch_mapper = _code_mapper(catalog.CHANNELS)
    one = touchpoint_code

    ev = _EventBatches()

    def add_batch(batch: pa.Table, file_name: str, first_row: int) -> None:
        n = batch.num_rows
        raw_vid = _arrow(batch["visit_id"])
        vid = _strip(raw_vid)
        utc, ts_rep, _, kind = _parse_ts_array(_strip(batch["ts"]), tz)
        tp_txt = _strip(batch["touchpoint"])
        tp, how = _map_unique_multi(tp_txt, one, (np.int16, np.int8), (-1, 0))
        tp_present = _np_bool(pc.is_valid(tp_txt))
        bad = np.flatnonzero((tp < 0) & tp_present)
        if len(bad):
            ev.unknown.update(zip((ev.n + bad).tolist(), tp_txt.take(pa.array(bad)).to_pylist()))
        ch_idx, ch_norm, ch_bad = _map_codes(_strip(batch["channel"]), ch_codes, ch_mapper)
        photo, photo_bad = _bool_codes(batch["photo"])
        ev.add(
            vid_ok=_np_bool(pc.is_valid(vid)),
            tp_present=tp_present,
            utc=utc,
            ts_rep=ts_rep,
            tp=tp.astype(np.int8),
            how=how,
            ch=ch_idx.astype(np.int8),
            ch_norm=ch_norm,
            ch_bad=ch_bad,
            photo=photo,
            photo_bad=photo_bad,
        )
        # the raw visit ids are kept for the quarantine table; mostly they are the trimmed ones
        same = raw_vid.null_count == vid.null_count and pc.all(pc.equal(raw_vid, vid)).as_py() is not False
        keep = {"visit_id": vid if same else raw_vid, "ts": batch["ts"]}
        keep.update({c: pc.dictionary_encode(batch[c]) for c in ("touchpoint", "channel", "photo")})
        ev.raw.append(pa.table(keep))
        ev.extras.append({c: batch[c] for c in batch.column_names[len(catalog.TABLES["touchpoints"]) :]})
        meta = (batch.schema.metadata or {}).get(b"cx_extras")
        for name, header in json.loads(meta) if meta else []:
            ev.headers.setdefault(name, {"name": name, "header": header, "file": file_name})
        ev.vids.append(vid)
        ev.files.append((file_name, first_row))
        ev.kinds.append(kind)
        ev.n += n

    if files is None:
        files = io.existing_table_files(raw_dir, "touchpoints")
    for path in files:
        n_before = len(ev.raw)
        first = 1
        try:
            for batch in io.iter_file_batches(
                path, "touchpoints", block_size=_package.EVENT_BLOCK_BYTES, source=source
            ):
                add_batch(batch, path.name, first)
                first += batch.num_rows
        except io.RestartFile:
            ev.truncate(n_before)
            add_batch(io.read_file_arrow(path, "touchpoints", source), path.name, 1)
    if len(set(ev.kinds)) > 1:
        # a column read whole would be mixed: read the batches that were uniform the same way
        for b, kind in enumerate(ev.kinds):
            if kind != "mixed":
                utc, rep, _, _ = _parse_ts_array(_strip(ev.raw[b]["ts"]), tz, mixed=True)
                ev.cols["utc"][b], ev.cols["ts_rep"][b] = utc, rep

    a = _Audit("touchpoints", ev.raw_rows, n=ev.n)
    utc = ev.column("utc", np.int64)
    tp = ev.column("tp", np.int8).astype(np.int16)
    _missing_required(
        a, {"visit_id": ev.column("vid_ok", bool), "ts": utc != _NAT, "touchpoint": ev.column("tp_present", bool)}
    )
    unknown = tp < 0
    if unknown.any():
        a.quarantine(
            unknown,
            "unknown_touchpoint",
            lambda idx: np.array(
                [f"touchpoint {ev.unknown.get(i)!r} is not in the catalog" for i in idx.tolist()], dtype=object
            ),
        )
    # one set lookup over the whole log (the hash table of the visit ids is built once)
    raw_pos = (
        pc.fill_null(pc.index_in(pa.chunked_array(ev.vids, type=pa.string()), value_set=raw_visit_ids), -1)
        .to_numpy()
        .astype(np.int64, copy=False)
        if ev.n
        else np.zeros(0, dtype=np.int64)
    )
    ev.vids.clear()
    raw_to_kept = np.append(
        pc.fill_null(pc.index_in(raw_visit_ids, value_set=kept_visit_ids), -1)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64),
        -1,
    )
    vpos = raw_to_kept[raw_pos]
    a.quarantine(raw_pos < 0, "orphan_visit", "visit_id matches no visit in the raw data")
    del raw_pos
    a.quarantine(vpos < 0, "visit_quarantined", "its visit was quarantined")

    ts_us = utc
    # the same event exported twice (same visit, time, touchpoint) is a duplicate
    cand = np.flatnonzero(a.kept)
    if len(cand):
        v_c, t_c, p_c = vpos[cand], ts_us[cand], tp[cand].astype(np.int64)
        t_min = int(t_c.min())
        t_span = (int(t_c.max()) - t_min) // 1_000_000 + 1
        whole_seconds = not ((t_c - t_min) % 1_000_000).any()
        if whole_seconds and int(v_c.max()) < 2**24 and t_span < 2**33:
            # one exact int64 key: seconds (33 bits) | visit (24 bits) | touchpoint (5 bits)
            key = (((t_c - t_min) // 1_000_000) << 29) | (v_c << 5) | p_c
            dup = _repeated(key)
            del key
        else:
            dup = pd.DataFrame({"v": v_c, "t": t_c, "p": p_c}).duplicated(keep="first").to_numpy()
        del v_c, t_c, p_c
        if dup.any():
            m = np.zeros(a.n, dtype=bool)
            m[cand[dup]] = True
            a.quarantine(m, "duplicate_id", "the same event (visit, time, touchpoint) appears again")

    how = ev.column("how", np.int8)
    a.repair(ev.column("ts_rep", bool), "timestamp_format")
    a.repair(how == 2, "touchpoint_zh")
    a.repair((how == 1) | ev.column("ch_norm", bool), "value_normalised")
    a.repair(ev.column("ch_bad", bool) | ev.column("photo_bad", bool), "value_blanked")
    del how

    kept = a.kept
    k = np.flatnonzero(kept)
    tp_k = tp[k]
    default_ch = np.array([ch_codes.index(t.channel) for t in catalog.TOUCHPOINTS], dtype=np.int16)
    ch_k = ev.column("ch", np.int8).astype(np.int16)[k]
    ch_k = np.where(ch_k < 0, default_ch[tp_k], ch_k)
    stage_of = np.array([catalog.STAGE_ORDER.index(t.stage) for t in catalog.TOUCHPOINTS], dtype=np.int16)
    is_update = np.isin(np.arange(len(catalog.TOUCHPOINT_CODES)), [pos[c] for c in catalog.UPDATE_TOUCHPOINTS])
    photo_k = ev.column("photo", np.int8)[k]
    vpos_k = vpos[k]
    frame = pd.DataFrame(
        {
            "visit_id": pd.Series(kept_visit_ids.take(pa.array(vpos_k)).to_pandas(), dtype="str"),
            "ts": _series_ts(utc[k], tz),
            "touchpoint": pd.Categorical.from_codes(tp_k, dtype=catalog.TOUCHPOINT_DTYPE),
            "stage": pd.Categorical.from_codes(stage_of[tp_k], dtype=catalog.STAGE_DTYPE),
            "channel": pd.Series(pa.array(ch_codes).take(pa.array(ch_k)).to_pandas(), dtype="str"),
            "photo": pd.Series(pd.arrays.BooleanArray(photo_k == 1, photo_k < 0)),
            "is_update": is_update[tp_k],
        }
    )
    frame.attrs["extra_columns"] = _event_extras(ev, k, frame)
    return frame, a, vpos_k


def _event_extras(ev: _EventBatches, kept: np.ndarray, frame: pd.DataFrame) -> list[dict]:
    """Add the extra raw columns of the event batches (kept rows, personal data masked) to
    ``frame``; their descriptions for quality.json."""
    names = list(dict.fromkeys(c for b in ev.extras for c in b))
    for name in names:
        parts = [b[name] if name in b else pa.nulls(len(r), type=pa.string()) for b, r in zip(ev.extras, ev.raw)]
        chunks = [c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
        col = pa.chunked_array([c.cast(pa.string()) for c in chunks], type=pa.string())
        values, _ = _mask_column(_strip(col.take(pa.array(kept))))
        frame[name] = pd.Series(values.to_numpy(), dtype="str")
    ev.extras.clear()
    return [ev.headers.get(n, {"name": n, "header": n, "file": None}) for n in names]
