"""One notebook executed with papermill: parameters, a timeout per cell, progress to the run log,
personal data masked in its error outputs, a banner on a copy that did not finish.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlib.notebooks.kernel import KERNEL, KERNEL_THREADS, WarmKernel
from cxlib.privacy import mask


@dataclass(frozen=True)
class ProgressLog:
    """Where the long steps of a notebook's code write their progress (:mod:`cxlib.progress`):
    lines labelled ``label`` appended to the file ``path``, instead of a bar in the executed copy.

    >>> ProgressLog(Path("reports/2026-10/run.log"), "SH-JQ 02_emotion_curves").label
    'SH-JQ 02_emotion_curves'
    """

    path: Path
    label: str = ""


def run_notebook(
    src: Path,
    dst: Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel: WarmKernel | None = None,
    timeout: float | None = None,
    progress_bar: bool = False,
    progress_log: ProgressLog | None = None,
    run_cache: Path | None = None,
) -> None:
    """Execute ``src`` with papermill into ``dst``, running in the notebook's own folder.

    Raises papermill's ``PapermillExecutionError`` when a cell fails; the executed copy with
    the error banner is still written to ``dst``. Personal data in the copy's error and stderr
    outputs are masked (:func:`mask_error_outputs`). With ``kernel`` (a :class:`WarmKernel`) the
    notebook runs in that already started kernel, its namespace emptied first. A cell that
    runs longer than ``timeout`` seconds fails the notebook (no limit when None; fractions are
    rounded up, as the kernel client counts whole seconds); a kernel left in an unknown state
    (timed out, died) is restarted before its next notebook. With ``progress_log`` (a
    :class:`ProgressLog`) the long steps of the notebook's code append their progress to that
    file instead of drawing a bar in the executed copy;
    with ``run_cache`` the notebook shares that folder's aggregations with the other notebooks of
    the run (:mod:`cxlib.runcache`).

    >>> run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"))  # doctest: +SKIP
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from cxlib import progress, runcache

    dst.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    env = (
        {}
        if progress_log is None
        else {progress.LOG_ENV: str(progress_log.path), progress.LABEL_ENV: progress_log.label}
    )
    env[runcache.ENV] = "" if run_cache is None else str(run_cache)  # never a cache left from an earlier run
    if kernel is not None:
        extra["km"] = kernel.fresh(env=env)
    if kernel is None:  # a kernel papermill starts itself inherits these
        env.update({k: v for k, v in KERNEL_THREADS.items() if k not in os.environ})
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        pm.execute_notebook(str(src), str(dst), parameters=parameters or {}, kernel_name=KERNEL,
                            cwd=str(Path(src).resolve().parent), progress_bar=progress_bar,
                            request_save_on_cell_execute=False,
                            execution_timeout=math.ceil(timeout) if timeout is not None else None, **extra)
        mask_error_outputs(dst)
    except PapermillExecutionError:
        mask_error_outputs(dst)
        raise  # papermill wrote the executed copy with its error banner
    except Exception as exc:
        # a cell timed out or the kernel died (out of memory): papermill writes nothing, so
        # the copy says why; the kernel may still be busy, so the next notebook gets a new one
        if kernel is not None:
            kernel.discard()
        _write_unfinished(src, dst, parameters or {}, exc)
        raise
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def mask_error_outputs(path: Path) -> int:
    """Mask personal data in the error and stderr outputs of an executed notebook, in place,
    and return how many outputs changed.

    A traceback or warning may quote a value of the data (``KeyError: '13912345678'``); the
    outputs the notebooks show from the processed data are masked already, these are not.

        >>> mask_error_outputs(Path("reports/2026-10/SH-JQ/02_emotion_curves.ipynb"))  # doctest: +SKIP
        0
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                new = {"evalue": mask(out.get("evalue", "")), "traceback": [mask(t) for t in out.get("traceback", [])]}
                if new["evalue"] != out.get("evalue") or new["traceback"] != out.get("traceback"):
                    out.update(new)
                    changed += 1
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = mask(out.get("text", ""))
                if text != out.get("text"):
                    out["text"] = text
                    changed += 1
    if changed:
        nbformat.write(nb, path)
    return changed


def error_line(exc: BaseException) -> str:
    """One line for a log, a manifest or the banner of an unfinished notebook: the exception's
    type and the last line of its message, personal data masked.

        >>> error_line(RuntimeError("cell failed\\nKeyError: 'ltr'"))
        "RuntimeError: KeyError: 'ltr'"
        >>> error_line(ValueError("no visit for 13912345678"))
        'ValueError: no visit for [手机号]'
    """
    text = str(exc).strip().splitlines()
    return mask(f"{type(exc).__name__}: {text[-1] if text else ''}")[:500]


def _write_unfinished(src: Path, dst: Path, parameters: dict[str, Any], exc: BaseException) -> None:
    """The parameterized notebook, not run, under a banner naming the error that stopped it."""
    import nbformat
    import papermill as pm

    pm.execute_notebook(str(src), str(dst), parameters=parameters, kernel_name=KERNEL, prepare_only=True)
    nb = nbformat.read(dst, as_version=4)
    banner = nbformat.v4.new_markdown_cell(
        '<span style="color:red; font-size:2em;">This notebook did not finish: '
        f"{html.escape(error_line(exc))}</span><br>Its cells were not run (or their outputs were lost); "
        "the run log and the manifest of this report say more.")
    banner.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(0, banner)
    nbformat.write(nb, dst)
