"""Where the workbench reads and writes: folder checks, locks and crash-safe commits.

Folder rules (one :class:`~cxlib.errors.DataError` line each, checked by ``cx clean``, the
notebooks' loader and ``cx report`` before anything is written; paths are compared after
``Path.resolve()``, so symbolic links and ``..`` cannot hide a mistake):

- the raw folder must exist; a symbolic link in it whose target lies outside it (file or
  folder) is refused unless allowed (``cx clean --allow-outside-links``); a link allowed once
  is recorded in the processed ``manifest.json`` with its target, and later runs (the
  loader, ``cx report``) accept that same link to that same target;
- the processed folder must not be the raw folder, lie inside it or hold it, must not be
  the root folder, a file or a symbolic link to nothing, and must be new, empty, a folder the
  workbench wrote before (its ``manifest.json`` or lock file), or a folder set aside for
  outputs by a ``.gitkeep`` (as the shipped ``data/processed``) that holds no file of an
  output's name. A folder with other content that the workbench did not write (the project
  root, a home folder) is refused. Files the analyst keeps in the processed folder are never
  moved;
- the reports folder (``cx report --out``) must not be, lie inside or hold the raw or the
  processed folder, nor be the root folder or a file.

Locks: :class:`FolderLock` takes ``fcntl.flock`` on a lock file that stays in place (its text,
the holder's pid, host and start, is informative only). The operating system releases the
lock when its holder dies, however it dies, so there is no stale lock to take over and no
race in taking one over. ``cx clean`` and the loader hold ``PROCESSED/.cx-lock``
exclusively while they check, build and commit (a second one waits), readers hold it shared;
``cx report`` holds ``REPORTS/<period>/.lock`` (a second run is refused).

Crash-safe commit of a set of files (:func:`commit`, :func:`recover`): the new files are
built in ``FOLDER/.cx-build-<pid>-<token>/`` (same file system, so renames are atomic); when
the build is complete, a journal ``FOLDER/.cx-commit.json`` naming the build and its files
is written atomically, then each file is renamed into ``FOLDER`` (the manifest last), then
the journal and the build folder are removed. A run killed before the journal leaves a build
folder that the next run removes; a run killed after it leaves a journal that the next run
(or reader) completes before anything else (roll forward). While a journal is pending the
folder counts as incomplete. Nothing but the listed files is ever moved.

    >>> with FolderLock(Path("data/processed") / LOCK_NAME, "cx clean", wait=60):  # doctest: +SKIP
    ...     build = new_build_folder(Path("data/processed"))
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from cxlib import paths
from cxlib.errors import FolderError

LOCK_NAME = ".cx-lock"
JOURNAL_NAME = ".cx-commit.json"
BUILD_PREFIX = ".cx-build-"
#: entries that do not make a folder "hold other content"
IGNORABLE = frozenset({".gitkeep", ".gitignore", ".DS_Store", "Thumbs.db", "desktop.ini"})
#: seconds to sleep after each file renamed during a commit (a hook for the crash tests)
_PAUSE_ENV = "CX_TEST_COMMIT_PAUSE"
_BUILD_RE = re.compile(r"^\.cx-build-[0-9]+-[0-9a-f]+$")
_OLD_SIBLING_RE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>[0-9]+)$")


# ------------------------------------------------------------------ paths
def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve()


def _within(inner: Path, outer: Path) -> bool:
    """Whether resolved ``inner`` is ``outer`` or lies inside it."""
    return inner == outer or outer in inner.parents


def _folder_shape(path: Path, what: str) -> Path:
    """``path`` resolved, after refusing a link to nothing, a non-folder and the root folder."""
    if path.is_symlink() and not path.exists():
        raise FolderError(f"the {what} folder is a symbolic link to nothing ({os.readlink(path)})", file=str(path))
    if path.exists() and not path.is_dir():
        raise FolderError(f"the {what} folder is a file, not a folder", file=str(path))
    resolved = _resolved(path)
    if resolved == Path(resolved.anchor):
        raise FolderError(
            f"the root folder cannot be the {what} folder: give a folder of its own such as data/{what}", file=str(path)
        )
    return resolved


def _is_workbench_folder(path: Path, manifest_keys: Iterable[str]) -> bool:
    """Whether ``path`` holds a manifest with ``manifest_keys`` or a pending commit journal."""
    if (path / JOURNAL_NAME).is_file() or (path / LOCK_NAME).is_file():
        return True
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and all(k in manifest for k in manifest_keys)


def other_content(path: Path) -> list[str]:
    """Names of the entries of an existing folder other than ignorable and the workbench's own ones.

    >>> other_content(Path("data/processed"))  # doctest: +SKIP
    []
    """
    return sorted(
        p.name
        for p in path.iterdir()
        if p.name not in IGNORABLE
        and p.name != LOCK_NAME
        and p.name != JOURNAL_NAME
        and not p.name.startswith(BUILD_PREFIX)
    )


def check_clean_folders(
    raw_dir: Path, processed_dir: Path, *, manifest_keys: Iterable[str] = ("fingerprint",), outputs: Iterable[str] = ()
) -> tuple[Path, Path]:
    """Refuse folder mistakes of a cleaning run; return the resolved ``(raw, processed)`` folders.

    ``manifest_keys`` tell a manifest of the cleaning step; ``outputs`` are the names it
    writes (a folder marked by ``.gitkeep`` may hold other files, but none of these).

        >>> check_clean_folders(Path("data/raw"), Path("data/raw"))  # doctest: +SKIP
        Traceback (most recent call last):
        cxlib.errors.FolderError: data/raw: the processed folder is the raw folder: …
    """
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    if not raw_dir.is_dir():
        raise FolderError("raw data folder not found", file=str(raw_dir))
    raw = _resolved(raw_dir)
    processed = _folder_shape(processed_dir, "processed")
    _refuse_nesting(
        processed,
        processed_dir,
        "processed",
        raw,
        raw_dir,
        "raw",
        paths.PROCESSED.as_posix(),
        same="cleaning would overwrite the raw data",
    )
    if processed.is_dir() and not _is_workbench_folder(processed, manifest_keys):
        others = other_content(processed)
        if (processed / ".gitkeep").exists():  # a folder set aside for outputs, as the shipped data/processed
            others = [n for n in others if n in set(outputs)]
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise FolderError(
                f"the processed folder holds other files ({shown}) and was not written by cx clean "
                f"(no manifest.json of it): give an empty or new folder such as {paths.PROCESSED.as_posix()}",
                file=str(processed_dir),
            )
    return raw, processed


def check_report_folders(raw_dir: Path, processed_dir: Path, out_dir: Path) -> None:
    """Refuse a reports folder that is, lies inside or holds the raw or processed folder.

    >>> check_report_folders(Path("data/raw"), Path("data/processed"), Path("data/raw/r"))  # doctest: +SKIP
    Traceback (most recent call last):
    cxlib.errors.FolderError: data/raw/r: the reports folder lies inside the raw folder data/raw …
    """
    out = _folder_shape(Path(out_dir), "reports")
    for given, what in ((Path(raw_dir), "raw"), (Path(processed_dir), "processed")):
        _refuse_nesting(out, Path(out_dir), "reports", _resolved(given), given, what, paths.REPORTS.as_posix())


def _refuse_nesting(
    folder: Path, given: Path, role: str, other: Path, other_given: Path, other_role: str, example: str, same: str = ""
) -> None:
    """Refuse ``folder`` (the ``role`` folder, resolved; ``given`` as the user wrote it) when it
    is, lies inside or holds ``other`` (the ``other_role`` folder)."""
    if folder == other:
        why = f": {same}; give another folder" if same else "; give a folder of its own"
        raise FolderError(f"the {role} folder is the {other_role} folder{why} such as {example}", file=str(given))
    if _within(folder, other):
        raise FolderError(
            f"the {role} folder lies inside the {other_role} folder {other_given}; give a folder "
            f"outside it such as {example}",
            file=str(given),
        )
    if _within(other, folder):
        raise FolderError(
            f"the {role} folder holds the {other_role} folder {other_given}; give a folder of its own "
            f"such as {example}",
            file=str(given),
        )


def outside_links(raw_dir: Path) -> dict[str, str]:
    """Entries of ``raw_dir`` that are symbolic links to a place outside it: name -> resolved target.

    >>> outside_links(Path("data/raw"))  # doctest: +SKIP
    {}
    """
    raw = _resolved(raw_dir)
    out = {}
    for p in sorted(Path(raw_dir).iterdir(), key=lambda p: p.name):
        if p.is_symlink():
            target = _resolved(p)
            if not _within(target, raw) or target == raw:
                out[p.name] = str(target)
    return out


def check_raw_links(raw_dir: Path, *, allow: bool = False, recorded: dict[str, str] | None = None) -> dict[str, str]:
    """The outside links of ``raw_dir`` (see :func:`outside_links`), after refusing any that is
    neither allowed (``allow``) nor ``recorded`` with the same target by an earlier allowed run.

        >>> check_raw_links(Path("data/raw"))  # doctest: +SKIP
        {}
    """
    links = outside_links(raw_dir)
    if not allow:
        recorded = recorded if isinstance(recorded, dict) else {}
        for name, target in links.items():
            if recorded.get(name) != target:
                raise FolderError(
                    f"a symbolic link to {target}, outside the raw folder: copy the file into the "
                    "raw folder, or allow such links with cx clean --allow-outside-links",
                    file=str(Path(raw_dir) / name),
                )
    return links


# ------------------------------------------------------------------ locks
class FolderLock:
    """An exclusive (or ``shared``) ``flock`` on the lock file ``path``, released by the OS when
    the holder dies. ``wait`` seconds to wait for a holder to finish (0: refuse at once, with a
    :class:`DataError` saying ``what`` holds it). ``read_only_ok``: in a folder that cannot be
    written, enter without a lock (``writable`` is then False) instead of raising.

        >>> with FolderLock(Path("reports/2026-10/.lock"), "report run"):  # doctest: +SKIP
        ...     pass
    """

    def __init__(
        self, path: Path, what: str, wait: float = 0.0, shared: bool = False, read_only_ok: bool = False
    ) -> None:
        self.path = Path(path)
        self.what, self.wait, self.shared, self.read_only_ok = what, wait, shared, read_only_ok
        self.fd: int | None = None
        self.writable = True

    def __enter__(self) -> FolderLock:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and self.read_only_ok:
                self.writable = False
                return self
            raise disk_error(
                exc, self.path.parent, doing=f"cannot create the lock file {self.path.name} in the folder"
            ) from None
        deadline = time.monotonic() + self.wait
        op = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        while True:
            try:
                fcntl.flock(self.fd, op | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self.holder()
                    os.close(self.fd)
                    self.fd = None
                    raise FolderError(
                        f"another {self.what} holds {self.path}{f' ({holder})' if holder else ''}; "
                        "wait for it to finish",
                        file=str(self.path),
                    ) from None
                time.sleep(0.02)
        if not self.shared:
            text = f"pid {os.getpid()} on {socket.gethostname()} since {dt.datetime.now().isoformat()}\n"
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, text.encode(), 0)
        return self

    def holder(self) -> str:
        """The text the holder wrote (pid, host, start), informative only."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def __exit__(self, *exc: object) -> None:
        if self.fd is None:
            return
        try:
            if not self.shared:
                os.ftruncate(self.fd, 0)  # no holder: no text
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None


# ------------------------------------------------------------------ errors
def disk_error(exc: OSError, folder: Path, *, doing: str = "cannot write to the folder", hint: str = "") -> FolderError:
    """One :class:`FolderError` line naming ``folder`` for a file-system error (read-only, full
    disk, permissions): what was being done, the file it happened on, the reason, a ``hint``.

        >>> str(disk_error(OSError(28, "No space left on device", "x/.cx-build-1-ab/visits.parquet"),
        ...                Path("data/processed")))
        'data/processed: cannot write to the folder (visits.parquet): No space left on device'
    """
    text = str(exc).strip()
    reason = exc.strerror or (text.splitlines()[-1] if text else type(exc).__name__)
    code = exc.errno
    if code is None and (m := re.search(r"\[errno (\d+)\]", text, re.I)):  # Arrow's I/O errors
        code = int(m.group(1))
        reason = os.strerror(code)
    if code == errno.EROFS:
        reason = "the folder is read-only (Read-only file system)"
    what = f" ({Path(exc.filename).name})" if exc.filename and Path(exc.filename) != Path(folder) else ""
    return FolderError(f"{doing}{what}: {reason}{f'; {hint}' if hint else ''}", file=str(folder))


def is_within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it, both resolved (links followed).

    >>> is_within(Path("data/raw/visits.csv"), Path("data/raw"))
    True
    """
    return _within(_resolved(Path(path)), _resolved(Path(folder)))


# ------------------------------------------------------------------ commit
def new_build_folder(folder: Path) -> Path:
    """A new, empty build folder ``FOLDER/.cx-build-<pid>-<token>`` (same file system as ``folder``).

    >>> new_build_folder(Path("data/processed")).name  # doctest: +SKIP
    '.cx-build-4242-9f1c2a'
    """
    build = Path(folder) / f"{BUILD_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
    build.mkdir()
    return build


def _pause() -> None:
    pause = os.environ.get(_PAUSE_ENV)
    if pause:
        time.sleep(float(pause))


def commit(build: Path, folder: Path, files: list[str]) -> None:
    """Move ``files`` (names, the manifest last) from the complete ``build`` into ``folder``,
    crash-safely: journal first, then the renames, then the journal and ``build`` removed.

        >>> commit(build, Path("data/processed"), ["visits.parquet", "manifest.json"])  # doctest: +SKIP
    """
    journal = Path(folder) / JOURNAL_NAME
    tmp = Path(build) / JOURNAL_NAME
    tmp.write_text(json.dumps({"build": Path(build).name, "files": list(files)}), encoding="utf-8")
    os.replace(tmp, journal)
    _roll_forward(Path(folder), Path(build), list(files))


def _roll_forward(folder: Path, build: Path, files: list[str]) -> None:
    for name in files:
        src = build / name
        if src.is_file():
            os.replace(src, folder / name)
            _pause()
    (folder / JOURNAL_NAME).unlink(missing_ok=True)
    shutil.rmtree(build, ignore_errors=True)


def pending_commit(folder: Path) -> bool:
    """Whether a commit was interrupted in ``folder`` (its journal is still there)."""
    return (Path(folder) / JOURNAL_NAME).exists()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(folder: Path, files: Iterable[str]) -> None:
    """Complete an interrupted commit in ``folder`` and remove what dead runs left behind.

    Call it holding the folder's exclusive lock (so that no live run owns a build folder).
    A journal is honoured only when it names a build folder of the workbench and some of
    ``files``; leftovers ``.<name>.tmp-<pid>`` / ``.<name>.old-<pid>`` next to ``folder``
    (from versions that swapped whole folders) first give back any file that is not one of
    ``files`` (an analyst's file stranded there) to ``folder``, then are removed.

        >>> recover(Path("data/processed"), ["visits.parquet", "manifest.json"])  # doctest: +SKIP
    """
    folder = Path(folder)
    allowed = set(files)
    journal = folder / JOURNAL_NAME
    if journal.exists():
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
            build, names = str(entry["build"]), [str(n) for n in entry["files"]]
            valid = bool(_BUILD_RE.match(build)) and set(names) <= allowed
        except (OSError, ValueError, KeyError, TypeError):
            valid = False
        if valid:
            _roll_forward(folder, folder / build, names)
        else:
            journal.unlink(missing_ok=True)
    for p in folder.iterdir():
        if p.name.startswith(BUILD_PREFIX) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
    _rescue_old_siblings(folder, allowed)


def _rescue_old_siblings(folder: Path, owned: set[str]) -> None:
    parent = folder.parent
    if not parent.is_dir():
        return
    for sib in parent.iterdir():
        m = _OLD_SIBLING_RE.match(sib.name)
        if not (m and m.group("name") == folder.name and sib.is_dir() and not sib.is_symlink()):
            continue
        if _pid_alive(int(m.group("pid"))) and int(m.group("pid")) != os.getpid():
            continue
        for p in sorted(sib.iterdir()):
            if p.name in owned:
                continue
            target = folder / p.name
            n = 1
            while target.exists() or target.is_symlink():
                target = folder / f"{p.stem}.recovered-{n}{p.suffix}"
                n += 1
            os.replace(p, target)
        shutil.rmtree(sib, ignore_errors=True)


__all__ = [
    "LOCK_NAME",
    "JOURNAL_NAME",
    "FolderLock",
    "check_clean_folders",
    "check_report_folders",
    "check_raw_links",
    "outside_links",
    "other_content",
    "disk_error",
    "is_within",
    "new_build_folder",
    "commit",
    "pending_commit",
    "recover",
]
