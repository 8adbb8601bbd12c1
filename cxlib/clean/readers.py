"""Reading the raw folder: the files of each table (source profiles), the fingerprint of
the raw data and the required tables.
"""

from __future__ import annotations

import threading
from pathlib import Path

import xxhash

from cxlib import catalog
from cxlib.catalog import DEFAULT_TZ
from cxlib.errors import DataError

#: bump when the cleaning logic or the processed layout changes, so old processed data is rebuilt (3: rows ordered
#: by center and month, in row groups whose centers and months are recorded)
CLEAN_VERSION = 3


def raw_files(raw_dir: str | Path) -> list[Path]:
    """The files of ``raw_dir`` that belong to the raw tables (others are ignored), plus the
    source profile ``sources.yaml``: the files it names count, so that editing the profile or
    one of its files rebuilds the processed data.

    >>> [p.name for p in raw_files("data/raw")][:1]  # doctest: +SKIP
    ['centers.csv']
    """
    from cxlib import sources

    raw_dir = Path(raw_dir)
    out: list[Path] = []
    try:
        _, files = sources.resolve(raw_dir, check_copies=False)
        for paths in files.values():
            out.extend(paths)
    except DataError:
        # a broken profile is reported by the cleaning itself; fingerprint what is there
        for t in catalog.TABLES:
            out.extend(sources.table_files(raw_dir, sources.SourceSpec(t), check_copies=False))
    if (raw_dir / sources.SOURCES_FILE).is_file():
        out.append(raw_dir / sources.SOURCES_FILE)
    return sorted(set(out), key=lambda p: p.name)


def fingerprint(raw_dir: str | Path, *, tz: str = DEFAULT_TZ) -> tuple[str, list[dict]]:
    """Fingerprint of the raw data: file names, sizes and a hash of every file's bytes (always
    read: a file changed with the same size and modification time is caught), the time zone
    and the cleaning version. Returns ``(hex digest, per-file list)``.

    The hash is xxHash's XXH3-128, which reads a gigabyte in well under a second from the page
    cache (the disk is the limit) and releases the GIL, so it runs beside the cleaning.

    >>> fingerprint("data/raw")[0][:8]  # doctest: +SKIP
    """
    files = []
    total = xxhash.xxh3_128(f"cx-clean-v{CLEAN_VERSION}|tz={tz}".encode())
    for p in raw_files(raw_dir):
        h = xxhash.xxh3_128()
        with open(p, "rb") as fh:
            size = 0
            while chunk := fh.read(1 << 22):
                h.update(chunk)
                size += len(chunk)
        entry = {"name": p.name, "size": size, "xxh3_128": h.hexdigest()}
        files.append(entry)
        total.update(f"|{entry['name']}|{entry['size']}|{entry['xxh3_128']}".encode())
    return total.hexdigest(), files


class _Background(threading.Thread):
    """Compute the fingerprint while the tables are read (xxhash releases the GIL)."""

    def __init__(self, raw_dir: Path, tz: str) -> None:
        super().__init__(daemon=True)
        self.raw_dir, self.tz = raw_dir, tz
        self.value: tuple[str, list[dict]] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = fingerprint(self.raw_dir, tz=self.tz)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc

    def result(self) -> tuple[str, list[dict]]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


#: tables the cleaning step cannot do without; the others are optional
REQUIRED_TABLES = ("visits", "surveys")


def _missing_tables(src, files: dict[str, list[Path]]) -> DataError | None:
    """One error naming every required table that has no file."""
    missing = [t for t in REQUIRED_TABLES if not files[t]]
    if not missing:
        return None
    where = str(src.raw_dir)
    parts = []
    for t in missing:
        spec = src.tables[t]
        parts.append(
            f"{t} (files {', '.join(spec.files)})"
            if spec.files
            else f"{t} (no {t}.csv, {t}.xlsx, {t}.xls or {t}.parquet, or {t}_*.csv …)"
        )
    return DataError(
        f"required table{'s' if len(missing) > 1 else ''} missing: {'; '.join(parts)} in {where}; "
        f"a sources.yaml can name other files",
        file=where,
    )
