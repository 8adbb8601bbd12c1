"""Locks with real concurrent processes: never two holders, a holder killed with -9 releases it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_raw

from cxlib import clean, folders, report
from cxlib.errors import DataError

# each holder appends "start <pid>" and "end <pid>" to a shared log while it holds the lock
_CONTENDER = r"""
import os, sys, time
from pathlib import Path
from cxlib import folders, report
from cxlib.errors import DataError
mode, folder, log, go, trials = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
while not go.exists():
    time.sleep(0.001)
held = 0
for _ in range(trials):
    try:
        lock = (report.ReportLock(folder) if mode == "report" else
                folders.FolderLock(folder / folders.LOCK_NAME, "test", wait=60))
        with lock:
            with open(log, "a") as fh:
                fh.write(f"start {os.getpid()}\n")
            time.sleep(0.0005)
            with open(log, "a") as fh:
                fh.write(f"end {os.getpid()}\n")
            held += 1
    except DataError as e:
        assert "another" in str(e), e
    time.sleep(0.0002 * (os.getpid() % 3))
print(held)
"""


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _contend(tmp_path: Path, mode: str, n: int, trials: int) -> tuple[list[int], list[str]]:
    folder = tmp_path / "period"
    folder.mkdir()
    # text left by a run that died: it must not matter (no stale lock to take over)
    (folder / (".lock" if mode == "report" else folders.LOCK_NAME)).write_text(f"pid {_dead_pid()} on here since x\n")
    log, go = tmp_path / "log.txt", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONTENDER, mode, str(folder), str(log), str(go), str(trials)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    time.sleep(0.5)  # all started and waiting
    go.touch()
    held = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        held.append(int(out))
    return held, log.read_text().splitlines()


def _assert_no_overlap(lines: list[str]) -> None:
    assert len(lines) % 2 == 0
    for i in range(0, len(lines), 2):
        start, end = lines[i].split(), lines[i + 1].split()
        assert start[0] == "start" and end == ["end", start[1]], (
            f"two holders at once near line {i}: {lines[i : i + 4]}"
        )


@pytest.mark.slow
def test_report_lock_never_has_two_holders(tmp_path):
    held, lines = _contend(tmp_path, "report", n=4, trials=150)
    assert len(lines) == 2 * sum(held) and sum(held) > 0
    _assert_no_overlap(lines)


@pytest.mark.slow
def test_waiting_lock_serialises_every_holder(tmp_path):
    held, lines = _contend(tmp_path, "wait", n=3, trials=50)
    assert held == [50, 50, 50]  # a waiting lock is always had in the end
    _assert_no_overlap(lines)


_HOLDER = r"""
import sys, time
from pathlib import Path
from cxlib import report
with report.ReportLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_holder_killed_with_sigkill_releases_the_lock(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(DataError, match=rf"another report run holds .*\(pid {proc.pid} on "):
            with report.ReportLock(tmp_path):
                pass
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with report.ReportLock(tmp_path):
        assert f"pid {os.getpid()} " in (tmp_path / ".lock").read_text()


_CLEAN_HOLDER = r"""
import sys, time
from pathlib import Path
from cxlib import clean
with clean._lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_readers_wait_for_a_cleaning_run(raw_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    clean.clean(raw_dir, out)
    proc = subprocess.Popen([sys.executable, "-c", _CLEAN_HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        monkeypatch.setattr(clean, "LOCK_WAIT_S", 0.3)
        for call in (lambda: clean.read_processed(out), lambda: clean.clean(raw_dir, out)):
            with pytest.raises(DataError, match="another cleaning run"):
                call()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(clean.read_processed(out).visits) == 2


@pytest.mark.slow
def test_concurrent_cleans_of_one_folder(tmp_path):
    raw = write_raw(tmp_path / "raw")
    out = tmp_path / "out"
    clean.clean(raw, out)
    (out / "notes.txt").write_text("mine")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cxlib.cli", "clean", str(raw), str(out), "--force"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert clean._incomplete(out) is None
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [folders.LOCK_NAME]
    assert len(clean.read_processed(out).visits) == 2
