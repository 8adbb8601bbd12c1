"""The cleaning as one relational plan executed by DuckDB.

The raw tables are loaded as text into a DuckDB database of the run (on disk, so that large
tables spill instead of filling memory); every rule of the data contract is a SQL step over
them (trimming, codes, timestamps, duplicates, orphans, the quarantine with its rule and the
repairs counted); the per-visit features are SQL aggregates; the kept rows stream out to
Parquet in batches. Python orchestrates and reads per value only the rare shapes: the few
distinct spellings of codes and booleans, and the timestamps, numbers and free texts that are
not in a common format, through the same readers as the reference rules of
:mod:`cxlib.clean.rules`, whose outputs this plan reproduces table by table.

Modules, in the order of a run (:mod:`.run`): :mod:`.db` (the run's database, its errors as one
line), :mod:`.raw` (raw files into the database: plain UTF-8 CSV by DuckDB's reader, the others block by block), :mod:`.values` (value readers
as SQL and lookup tables), :mod:`.visits`, :mod:`.linked` (surveys, complaints) and
:mod:`.touchpoints` (the rules of each table), :mod:`.ledger` (rule columns into the quarantine
ledger), :mod:`.features` (per-visit features), :mod:`.output` (batches to Parquet, pandas frames or Arrow tables in the processed schema).
"""
