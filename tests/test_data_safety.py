"""No data lost, ever: folder mistakes, analyst files in the processed folder, killed runs,
symlinks, mount points, read-only folders, full disks, raw files changed in place, and the
workers of a killed report run. Killed runs use real processes killed with SIGKILL."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import VISITS, write_notebook, write_raw
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlib import clean, cli, folders
from cxlib.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
CX = [sys.executable, "-m", "cxlib.cli"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), links not followed."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _one_error_line(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("cx: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, err
    return err


def _analyst_files(folder: Path, n: int = 2000) -> dict[str, bytes]:
    """``n`` small files and a subfolder that an analyst keeps in the processed folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"note_{i:04d}.txt").write_text(f"analyst note {i}\n")
    (folder / "charts").mkdir(exist_ok=True)
    (folder / "charts" / "draft.csv").write_text("a,b\n1,2\n")
    (folder / "results.json").write_text('{"mine": true}')
    return {k: v for k, v in _snapshot(folder).items() if not k.startswith(".") and k not in clean.OUTPUT_FILES}


def _hidden(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name != folders.LOCK_NAME and p.name not in folders.IGNORABLE
    )


def _assert_complete_and_current(raw: Path, out: Path) -> None:
    assert clean._incomplete(out) is None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fingerprint"] == clean.fingerprint(raw)[0]
    for name, size in manifest["outputs"].items():
        assert (out / name).stat().st_size == size
    assert _hidden(out) == []


# =========================================================================== folder mistakes
@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder: data/raw with the small data set, a README, data/processed with .gitkeep."""
    root = tmp_path / "proj"
    write_raw(root / "data" / "raw")
    (root / "data" / "processed").mkdir()
    (root / "data" / "processed" / ".gitkeep").touch()
    (root / "README.md").write_text("project")
    return root


def _mistakes(root: Path) -> dict[str, tuple[str, str]]:
    raw = root / "data" / "raw"
    (root / "a_file.txt").write_text("not a folder")
    os.symlink(root / "nowhere", root / "dangling")
    os.symlink(raw, root / "raw_link")
    other = root / "other"
    other.mkdir()
    (other / "thesis.docx").write_text("x")
    return {
        "processed is raw": (str(raw), "is the raw folder"),
        "processed is raw through a link": (str(root / "raw_link"), "is the raw folder"),
        "processed inside raw": (str(raw / "processed"), "inside the raw folder"),
        "processed holds raw": (str(root / "data"), "holds the raw folder"),
        "processed is the project root": (str(root), "holds the raw folder"),
        "processed is /": ("/", "root folder"),
        "processed is a file": (str(root / "a_file.txt"), "is a file"),
        "processed is a link to nothing": (str(root / "dangling"), "symbolic link to nothing"),
        "processed holds other content": (str(other), "holds other files (thesis.docx)"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "processed is raw",
        "processed is raw through a link",
        "processed inside raw",
        "processed holds raw",
        "processed is the project root",
        "processed is /",
        "processed is a file",
        "processed is a link to nothing",
        "processed holds other content",
    ],
)
def test_clean_refuses_folder_mistakes(project, capsys, case):
    processed, message = _mistakes(project)[case]
    before = _snapshot(project)
    code = cli.main(["clean", str(project / "data" / "raw"), processed])
    _one_error_line(capsys, code, message)
    assert _snapshot(project) == before
    assert not (project / "data" / "raw" / "processed").exists()


def test_clean_refuses_dot_in_the_project_root_and_in_a_folder_of_other_files(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    before = _snapshot(project)
    _one_error_line(capsys, cli.main(["clean", "data/raw", "."]), "holds the raw folder")
    monkeypatch.chdir(project / "data")
    _one_error_line(capsys, cli.main(["clean", "raw", "."]), "holds the raw folder")
    home = project / "home"
    home.mkdir()
    (home / ".bashrc").write_text("x")
    monkeypatch.chdir(home)
    _one_error_line(capsys, cli.main(["clean", str(project / "data" / "raw"), "."]), "holds other files (.bashrc)")
    assert {k: v for k, v in _snapshot(project).items() if not k.startswith("home")} == before


_SEGMENTS = st.lists(st.sampled_from(["a", "b", "raw"]), min_size=1, max_size=3)


@given(
    raw_segs=_SEGMENTS,
    processed_segs=st.lists(st.sampled_from(["a", "b", "raw"]), max_size=3),
    through_raw=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_processed_is_refused_exactly_when_nested_with_raw(raw_segs, processed_segs, through_raw):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        raw = base.joinpath(*raw_segs)
        raw.mkdir(parents=True)
        (raw / "visits.csv").write_text("visit_id\n")
        target = base.joinpath(*processed_segs)
        # the same folder spelled through the raw folder and '..'
        given = raw.joinpath(*[".."] * len(raw_segs), *processed_segs) if through_raw else target
        nested = raw_segs[: len(processed_segs)] == processed_segs or processed_segs[: len(raw_segs)] == raw_segs
        if nested:
            with pytest.raises(DataError, match="raw folder"):
                folders.check_clean_folders(raw, given)
        elif target.exists() and folders.other_content(target):
            with pytest.raises(DataError, match="holds other files"):
                folders.check_clean_folders(raw, given)
        else:
            assert folders.check_clean_folders(raw, given)[1] == target.resolve()


def test_processed_equal_to_raw_in_a_real_process_is_one_line_and_raw_untouched(project):
    raw = project / "data" / "raw"
    before = _snapshot(raw)
    proc = subprocess.run(CX + ["clean", str(raw), str(raw)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("cx: error: ") and proc.stderr.count("\n") == 1
    assert _snapshot(raw) == before and sorted(p.name for p in raw.iterdir()) == sorted(before)


def test_loader_refuses_the_same_mistakes(project):
    raw = project / "data" / "raw"
    with pytest.raises(DataError, match="is the raw folder"):
        clean.load(raw, raw_dir=raw)
    with pytest.raises(DataError, match="holds the raw folder"):
        clean.load(project, raw_dir=raw)


def test_accepted_processed_folders(project, tmp_path):
    raw = project / "data" / "raw"
    # the shipped layout: data/processed with only .gitkeep
    assert clean.clean(raw, project / "data" / "processed").rebuilt
    assert (project / "data" / "processed" / ".gitkeep").exists()
    # a new nested folder, and an empty one
    assert clean.clean(raw, tmp_path / "new" / "deep" / "processed").rebuilt
    (tmp_path / "empty").mkdir()
    assert clean.clean(raw, tmp_path / "empty").rebuilt


def test_a_folder_set_aside_by_gitkeep_may_hold_analyst_files_but_no_output_names(project, capsys):
    raw, out = project / "data" / "raw", project / "data" / "processed"
    (out / "notes.md").write_text("mine")
    (out / "visits.parquet").write_bytes(b"the analyst's own")
    _one_error_line(capsys, cli.main(["clean", str(raw), str(out)]), "holds other files (visits.parquet)")
    assert (out / "visits.parquet").read_bytes() == b"the analyst's own"
    (out / "visits.parquet").unlink()
    assert cli.main(["clean", str(raw), str(out)]) == 0
    assert (out / "notes.md").read_text() == "mine"


def test_processed_written_by_the_workbench_keeps_analyst_files(project):
    raw, out = project / "data" / "raw", project / "data" / "processed"
    clean.clean(raw, out)
    mine = _analyst_files(out)
    for force in (True, False, True):
        clean.clean(raw, out, force=force)
    assert {k: v for k, v in _snapshot(out).items() if k in mine} == mine
    _assert_complete_and_current(raw, out)


@pytest.mark.parametrize(
    "where, message",
    [
        ("raw", "is the raw folder"),
        ("raw/reports", "inside the raw folder"),
        ("processed", "is the processed folder"),
        ("processed/reports", "inside the processed folder"),
        ("data", "holds the raw folder"),
        ("/", "root folder"),
        ("a_file.txt", "is a file"),
    ],
)
def test_report_refuses_an_out_folder_that_mixes_with_the_data(project, capsys, where, message):
    raw, processed = project / "data" / "raw", project / "data" / "processed"
    (project / "a_file.txt").write_text("x")
    out = {
        "raw": raw,
        "raw/reports": raw / "reports",
        "processed": processed,
        "processed/reports": processed / "reports",
        "data": project / "data",
        "/": Path("/"),
        "a_file.txt": project / "a_file.txt",
    }[where]
    before = _snapshot(project)
    code = cli.main(["report", "--raw", str(raw), "--processed", str(processed), "--out", str(out)])
    _one_error_line(capsys, code, message)
    assert _snapshot(project) == before


# ============================================================================== killed runs
def _raw_variant(folder: Path, amount: str) -> Path:
    v = VISITS.copy()
    v.loc[1, "amount_cny"] = amount
    return write_raw(folder, visits=v)


def _amount(out: Path) -> float:
    visits = pd.read_parquet(out / "visits.parquet")
    return float(visits.set_index("visit_id").loc["V2", "amount_cny"])


@pytest.mark.slow
def test_runs_killed_at_random_moments_lose_nothing(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    versions = {
        "1200": clean.fingerprint(_raw_variant(tmp_path / "v1", "1200"))[0],
        "999": clean.fingerprint(_raw_variant(tmp_path / "v2", "999"))[0],
    }
    _raw_variant(raw, "1200")
    clean.clean(raw, out)
    mine = _analyst_files(out)
    rng = random.Random(20261001)
    env = dict(os.environ, CX_TEST_COMMIT_PAUSE="0.04")
    kinds = []
    for trial in range(8):
        amount = "999" if trial % 2 == 0 else "1200"
        _raw_variant(raw, amount)
        proc = subprocess.Popen(
            CX + ["clean", str(raw), str(out), "--force"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if trial % 2 == 0:  # during the commit
            deadline = time.time() + 60
            while not (out / folders.JOURNAL_NAME).exists() and proc.poll() is None and time.time() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.3))
        else:  # anywhere: start-up, reading, building, committing
            time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pending = folders.pending_commit(out)
        kinds.append("commit" if pending else "other")
        # analyst files are never touched
        assert {k: v for k, v in _snapshot(out).items() if k in mine} == mine
        # a reader never sees a mix: it completes a pending commit, or reads the last whole build
        data = clean.read_processed(out)
        manifest = json.loads((out / "manifest.json").read_text())
        fp_amount = next(a for a, fp in versions.items() if fp == manifest["fingerprint"])
        assert float(data.visits.set_index("visit_id").loc["V2", "amount_cny"]) == float(fp_amount)
        if pending:
            assert fp_amount == amount  # rolled forward to the killed run's build
        assert _hidden(out) == [] or all(h.startswith(folders.BUILD_PREFIX) for h in _hidden(out))
    assert "commit" in kinds
    # the next run: complete, current, every analyst file in place, no hidden folder left
    result = clean.clean(raw, out)
    _assert_complete_and_current(raw, out)
    assert _amount(out) == float(amount) and result.fingerprint == versions[amount]
    assert {k: v for k, v in _snapshot(out).items() if k in mine} == mine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed", "raw", "v1", "v2"]


def test_a_commit_cut_short_is_completed_by_the_next_reader(raw_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    (out / "mine.txt").write_text("mine")
    # a build whose commit stops after three files, as a kill would leave it
    real_replace, moved = os.replace, []

    def replace_then_die(src, dst):
        if str(dst).endswith(folders.JOURNAL_NAME) or len(moved) < 3:
            moved.append(dst)
            return real_replace(src, dst)
        raise KeyboardInterrupt

    write_raw(raw_dir, visits=VISITS.assign(amount_cny=["1", "2"]))
    monkeypatch.setattr(folders.os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        clean.clean(raw_dir, out)
    monkeypatch.setattr(folders.os, "replace", real_replace)
    assert folders.pending_commit(out) and not clean._is_complete(out)
    data = clean.read_processed(out)  # completes the commit first
    # the processed visits are in order of center, month and id: read them by id
    assert data.visits.sort_values("visit_id")["amount_cny"].tolist() == [1.0, 2.0]
    _assert_complete_and_current(raw_dir, out)
    assert (out / "mine.txt").read_text() == "mine"


def test_a_failed_build_leaves_the_old_data_and_no_build_folder(raw_dir, tmp_path, capsys):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    before = _snapshot(out)
    (raw_dir / "visits.csv").write_text("visit_id;center\nV1;SH-JQ\n")
    _one_error_line(capsys, cli.main(["clean", str(raw_dir), str(out)]), "visits.csv")
    assert _snapshot(out) == before and _hidden(out) == []


def test_leftovers_of_earlier_versions_give_back_stranded_analyst_files(raw_dir, tmp_path):
    out = tmp_path / "processed"
    clean.clean(raw_dir, out)
    (out / "keep.txt").write_text("current")
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    # a run of an earlier version killed while it moved analyst files into its temporary folder
    tmp = tmp_path / f".processed.tmp-{dead}"
    tmp.mkdir()
    (tmp / "visits.parquet").write_bytes(b"half written")
    for i in range(5):
        (tmp / f"stranded_{i}.txt").write_text(f"stranded {i}")
    (tmp / "notes").mkdir()
    (tmp / "notes" / "n.md").write_text("notes")
    old = tmp_path / f".processed.old-{dead}"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    (old / "keep.txt").write_text("stranded copy")
    clean.clean(raw_dir, out)
    for i in range(5):
        assert (out / f"stranded_{i}.txt").read_text() == f"stranded {i}"
    assert (out / "notes" / "n.md").read_text() == "notes"
    assert (out / "keep.txt").read_text() == "current"
    assert (out / "keep.recovered-1.txt").read_text() == "stranded copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed", "raw"]
    _assert_complete_and_current(raw_dir, out)


def test_leftovers_of_an_earlier_version_when_the_processed_folder_is_gone(raw_dir, tmp_path):
    # killed between its two renames: the processed folder itself was missing
    old = tmp_path / ".processed.old-999999999"
    old.mkdir()
    (old / "analysis.xlsx").write_bytes(b"mine")
    (old / "quality.json").write_text("{}")
    clean.clean(raw_dir, tmp_path / "processed")
    assert (tmp_path / "processed" / "analysis.xlsx").read_bytes() == b"mine"
    assert not old.exists()


def test_leftover_build_folders_and_bad_journals_are_removed(raw_dir, tmp_path):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    (out / ".cx-build-1-abcdef").mkdir()
    (out / ".cx-build-1-abcdef" / "visits.parquet").write_bytes(b"x")
    # a journal naming paths outside the workbench's own files is not followed
    (out / folders.JOURNAL_NAME).write_text(json.dumps({"build": "../../etc", "files": ["passwd"]}))
    clean.read_processed(out)
    assert _hidden(out) == []
    _assert_complete_and_current(raw_dir, out)


# ========================================================================== processed folder kinds
def test_processed_folder_that_is_a_symlink_stays_one(raw_dir, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "processed"
    link.symlink_to(target, target_is_directory=True)
    clean.clean(raw_dir, link)
    clean.clean(raw_dir, link, force=True)
    assert link.is_symlink() and (target / "manifest.json").is_file()
    _assert_complete_and_current(raw_dir, target)


def _mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def tmpfs(tmp_path):
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        where = tmp_path / name
        _mount_tmpfs(where, options)
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        _umount(where)


def test_processed_folder_that_is_a_mount_point(raw_dir, tmpfs):
    out = tmpfs("mnt", "size=8m")
    assert clean.clean(raw_dir, out).rebuilt
    (out / "mine.txt").write_text("mine")
    assert clean.clean(raw_dir, out, force=True).rebuilt
    assert os.path.ismount(out) and (out / "mine.txt").read_text() == "mine"
    _assert_complete_and_current(raw_dir, out)


def test_read_only_processed_folder(raw_dir, tmpfs, capsys):
    out = tmpfs("ro", "ro,size=1m")
    _one_error_line(capsys, cli.main(["clean", str(raw_dir), str(out)]), "read-only")
    # a folder made read-only after a build: up-to-date checks and reading work, a rebuild is refused
    out = tmpfs("rw", "size=8m")
    clean.clean(raw_dir, out)
    subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
    before = _snapshot(out)
    assert cli.main(["clean", str(raw_dir), str(out)]) == 0 and "up to date" in capsys.readouterr().out
    assert len(clean.load(out, raw_dir=raw_dir).visits) == 2
    _one_error_line(capsys, cli.main(["clean", str(raw_dir), str(out), "--force"]), "read-only")
    assert _snapshot(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into folders without write permission")
def test_processed_folder_without_write_permission(raw_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        _one_error_line(capsys, cli.main(["clean", str(raw_dir), str(out)]), str(out))
    finally:
        out.chmod(0o755)


def test_full_disk_leaves_the_old_data(raw_dir, tmpfs, capsys):
    out = tmpfs("small", "size=512k")
    clean.clean(raw_dir, out)
    before = _snapshot(out)
    # fill the disk with an analyst's file, leaving too little room for a build
    with open(out / "big_analysis.bin", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    (out / "big_analysis.bin").write_bytes((out / "big_analysis.bin").read_bytes()[:-16384])
    big = (out / "big_analysis.bin").read_bytes()
    write_raw(raw_dir, visits=VISITS.assign(amount_cny=["1", "2"]))
    err = _one_error_line(capsys, cli.main(["clean", str(raw_dir), str(out)]), "No space left on device", str(out))
    assert ".cx-build" not in err
    after = _snapshot(out)
    assert after.pop("big_analysis.bin") == big and after == before and _hidden(out) == []
    (out / "big_analysis.bin").unlink()
    assert clean.clean(raw_dir, out).rebuilt and _amount(out) == 2.0


def test_disk_errors_of_arrow_become_one_line(raw_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    before = _snapshot(out)

    class Full(pq.ParquetWriter):
        """The processed files' writer, on a disk that fills while the event log is written."""

        def __init__(self, where, *args, **kw):
            super().__init__(where, *args, **kw)
            self.full = str(where).endswith("events.parquet")

        def write_table(self, table, *args, **kw):
            if self.full:  # as Arrow reports it: no errno, no file name
                raise OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")
            return super().write_table(table, *args, **kw)

    monkeypatch.setattr(clean.pq, "ParquetWriter", Full)
    err = _one_error_line(
        capsys,
        cli.main(["clean", str(raw_dir), str(out), "--force"]),
        "No space left on device",
        "events.parquet",
        "as they were",
    )
    assert err.startswith(f"cx: error: {out}: ")
    assert _snapshot(out) == before and _hidden(out) == []


# ================================================================================ raw data
def test_raw_file_changed_with_same_size_and_mtime_is_rebuilt(raw_dir, tmp_path):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    target = raw_dir / "visits.csv"
    st = target.stat()
    target.write_bytes(target.read_bytes().replace(b"480.5", b"480.7"))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    result = clean.clean(raw_dir, out)
    assert result.rebuilt
    assert float(pd.read_parquet(out / "visits.parquet").set_index("visit_id").loc["V1", "amount_cny"]) == 480.7


def test_symlinks_in_raw_pointing_outside_are_refused_unless_allowed(tmp_path, capsys):
    raw = write_raw(tmp_path / "raw")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.move(raw / "complaints.csv", outside / "complaints.csv")
    (raw / "complaints.csv").symlink_to(outside / "complaints.csv")
    out = tmp_path / "out"
    _one_error_line(
        capsys,
        cli.main(["clean", str(raw), str(out)]),
        str(raw / "complaints.csv"),
        str(outside / "complaints.csv"),
        "--allow-outside-links",
    )
    assert not (out / "manifest.json").exists()
    assert cli.main(["clean", str(raw), str(out), "--allow-outside-links"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outside_links"] == {"complaints.csv": str(outside / "complaints.csv")}
    # the link allowed once is accepted by the loader (and cx report) with the same target
    assert len(clean.load(out, raw_dir=raw).complaints) == 1
    # pointed elsewhere: refused again
    shutil.copy(outside / "complaints.csv", tmp_path / "other.csv")
    (raw / "complaints.csv").unlink()
    (raw / "complaints.csv").symlink_to(tmp_path / "other.csv")
    with pytest.raises(DataError, match="outside the raw folder"):
        clean.load(out, raw_dir=raw)
    # a linked folder too
    (raw / "complaints.csv").unlink()
    shutil.copy(tmp_path / "other.csv", raw / "complaints.csv")
    (raw / "archive").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DataError, match="archive: a symbolic link"):
        clean.clean(raw, out)
    # links that stay inside the raw folder are fine
    (raw / "archive").unlink()
    (raw / "exports").mkdir()
    shutil.move(raw / "surveys.csv", raw / "exports" / "surveys.csv")
    (raw / "surveys.csv").symlink_to(raw / "exports" / "surveys.csv")
    assert clean.clean(raw, out, force=True).rebuilt


# ============================================================ report workers of a killed run
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
def test_killing_a_parallel_report_run_kills_its_workers_and_kernels(tmp_path):
    raw = ROOT / "data" / "raw"
    processed = tmp_path / "processed"
    clean.clean(raw, processed)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_notebook(nbs / "01_first.ipynb", "import time\ntime.sleep(4)")
    write_notebook(nbs / "02_second.ipynb", "print('done', center)")
    out = tmp_path / "reports"
    code = (
        "from pathlib import Path; from cxlib import report;"
        f"report.run_reports(Path({str(raw)!r}), Path({str(processed)!r}), Path({str(out)!r}), '2026-10', "
        f"'all', settings=report.RunSettings(jobs=2, notebook_dir=Path({str(nbs)!r})))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    period = out / "2026-10"
    try:
        deadline, seen = time.time() + 300, set()  # the loop ends as soon as both run: room for a loaded machine
        while time.time() < deadline and len(list(period.glob(".tmp-*/01_first.ipynb"))) < 2:
            seen |= _descendants(proc.pid)
            time.sleep(0.05)
        assert len(list(period.glob(".tmp-*/01_first.ipynb"))) == 2, "the run did not get going"
        seen |= _descendants(proc.pid)
        assert len(seen) >= 4  # two workers and their kernels
        os.kill(proc.pid, signal.SIGKILL)  # the run only, as a scheduler or the OOM killer would
        proc.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(p) for p in seen):
            time.sleep(0.1)
        assert not [p for p in seen if _alive(p)], "processes of the killed run outlived it"
        time.sleep(5)  # longer than the notebooks still needed: nothing may be renamed into place
        assert not [p.name for p in period.iterdir() if not p.name.startswith(".") and p.is_dir()]
        assert not (period / "index.html").exists()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for p in seen:
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_only_errors_of_the_raw_data_point_to_cx_check(tmp_path, capsys):
    """A folder mistake says what to do with the folder; a problem of the raw data adds the
    hint to the dry run, which lists every problem at once."""
    from conftest import write_raw

    from cxlib import cli

    raw = write_raw(tmp_path / "raw")
    assert cli.main(["clean", str(raw), str(raw)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the processed folder is the raw folder" in err and "cx check" not in err
    (raw / "surveys.csv").write_text("visit_id\nV1\n", encoding="utf-8")
    assert cli.main(["clean", str(raw), str(tmp_path / "processed")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith(f"run `cx check {raw}` for the full list")
