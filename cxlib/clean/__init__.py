"""Cleaning: raw tables of the data contract -> processed Parquet tables, quality report.

Every raw row ends up either kept (possibly repaired, the repair counted under its catalog
rule) or in the quarantine table with its source file, source row, rule and reason, so that
``rows read == rows kept + rows quarantined`` for every table. Personal data in free text is
masked before anything is written.

Safety of the processed folder (mechanisms in :mod:`cxlib.folders`): folder mistakes (the
processed folder being, holding or inside the raw folder, the root, a file, a folder of other
content) are refused before anything is written; one run at a time holds the folder's lock
(``.cx-lock``, an OS lock that dies with its holder; the loader waits for it); the tables are
built in ``PROCESSED/.cx-build-*`` and committed file by file under a journal that any later
run or reader completes, the manifest (listing every output with its size) last, so a run
killed at any moment leaves either the old or the new data, never a mix that reads as valid.
Files the analyst keeps in the processed folder are never moved. A failing build (bad input,
full disk, read-only folder) leaves the old processed data as they were, with one error line.

The package reads like the flow of one run:

* :mod:`~cxlib.clean.readers`: the files of each table (source profiles), the fingerprint;
* :mod:`~cxlib.clean.values`, :mod:`~cxlib.clean.timestamps`: reading raw values;
* :mod:`~cxlib.clean.rules`: one module of rules per table (centers, visits, surveys,
  complaints, touchpoints);
* :mod:`~cxlib.clean.ledger`: the quarantine ledger (file, row, rule, reason) and the counts;
* :mod:`~cxlib.clean.features`: the per-visit features;
* :mod:`~cxlib.clean.build`, :mod:`~cxlib.clean.swap`: one run, and the crash-safe swap into
  the processed folder;
* :mod:`~cxlib.clean.processed`, :mod:`~cxlib.clean.reporting`: reading the result.

Example
-------
>>> from cxlib import clean
>>> result = clean.clean(Path("data/raw"), Path("data/processed"))   # doctest: +SKIP
>>> data = clean.load("data/processed", raw_dir="data/raw")           # doctest: +SKIP
>>> data.subset(center="SH-JQ", period_start="2026-10").visits.shape   # doctest: +SKIP
"""

from __future__ import annotations

import pyarrow.parquet as pq  # noqa: F401  (the writer of every table; tests replace its write_table)

from cxlib import catalog  # noqa: F401
from cxlib.catalog import DEFAULT_TZ

#: seconds a cleaning run or loader waits for another one holding the processed folder's lock
LOCK_WAIT_S = 900.0
#: bytes of touchpoint CSV read and cleaned at a time (the event log is streamed in such blocks)
EVENT_BLOCK_BYTES = 1 << 25
# (the settings above, and ``clean`` itself, are read from this package at call time, so that
# setting ``clean.LOCK_WAIT_S`` and the like takes effect everywhere)

from cxlib.clean.build import ENGINES, CleanResult, _build, clean, summary_line  # noqa: E402
from cxlib.clean.features import scores_long, visit_features  # noqa: E402
from cxlib.clean.ledger import _RULE_ORDER, _Audit  # noqa: E402
from cxlib.clean.processed import (  # noqa: E402
    DERIVED_FROM,
    ProcessedData,
    check_segment,
    given_tables,
    load,
    read_processed,
    segment_columns,
    unknown_when_not_given,
)
from cxlib.clean.readers import CLEAN_VERSION, REQUIRED_TABLES, fingerprint, raw_files  # noqa: E402
from cxlib.clean.reporting import (  # noqa: E402
    quality_overview,
    quality_table,
    quarantine_examples,
    sources_overview,
)
from cxlib.clean.swap import (  # noqa: E402
    _MANIFEST_KEYS,
    OUTPUT_FILES,
    OUTPUT_TABLES,
    _incomplete,
    _is_complete,
    _lock,
    _read_manifest,
    _write_parquet,
    reading,
)
from cxlib.clean.timestamps import (  # noqa: E402
    _parse_text_timestamp,
    _parse_ts_array,
    parse_timestamps,
    timestamp_options,
)
from cxlib.clean.values import _NAT, _TS_NAIVE, _TS_UTC, _US_PER_MIN, _repeated, _strip, mask_pii  # noqa: E402

__all__ = [
    "ENGINES",
    "CleanResult",
    "ProcessedData",
    "clean",
    "load",
    "read_processed",
    "reading",
    "summary_line",
    "quality_table",
    "sources_overview",
    "timestamp_options",
    "REQUIRED_TABLES",
    "quality_overview",
    "quarantine_examples",
    "parse_timestamps",
    "mask_pii",
    "visit_features",
    "scores_long",
    "fingerprint",
    "raw_files",
    "DEFAULT_TZ",
    "CLEAN_VERSION",
    "DERIVED_FROM",
    "given_tables",
    "unknown_when_not_given",
    "segment_columns",
    "check_segment",
]
