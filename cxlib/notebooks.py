"""Running the numbered notebooks: with papermill for reports, in place for stored outputs.

``python -m cxlib.notebooks refresh notebooks`` re-executes every numbered notebook in its own
folder with its default parameters and stores the outputs, after an intended change, so that
the nbval check (``pytest --nbval notebooks``) compares against the new results.

>>> [p.name for p in numbered_notebooks(Path("notebooks"))][:1]  # doctest: +SKIP
['01_cleaning.ipynb']
"""

from __future__ import annotations

import argparse
import html
import logging
import math
import os
import re
import sys
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import KernelManager
from jupyter_core.utils import run_sync

from cxlib.privacy import MaskingFilter, mask

KERNEL = "python3"
log = logging.getLogger(__name__)
log.addFilter(MaskingFilter())
_NUMBERED = re.compile(r"^\d\d_.+\.ipynb$")


def numbered_notebooks(folder: Path) -> list[Path]:
    """The numbered notebooks (``01_…ipynb``) of ``folder``, in reading order."""
    return sorted(p for p in Path(folder).iterdir() if _NUMBERED.match(p.name))


def import_statements(notebooks: list[Path]) -> tuple[str, ...]:
    """The import statements of the notebooks' code cells, each once, in order of appearance.

    ``from m import *`` becomes ``import m`` (a star import is not allowed inside a function).

        >>> import_statements([Path("notebooks/02_emotion_curves.ipynb")])  # doctest: +SKIP
        ('from cxlib import clean, journey, plotting, results',)
    """
    import ast

    import nbformat

    out: dict[str, None] = {}
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            # IPython magics and shell escapes are not Python
            src = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    stmt = (f"import {node.module}" if any(a.name == "*" for a in node.names)
                            else ast.unparse(node))
                elif isinstance(node, ast.Import):
                    stmt = ast.unparse(node)
                else:
                    continue
                out.setdefault(stmt, None)
    return tuple(out)


#: Threads of the numerical libraries in a report's kernel, unless the environment sets them: one.
#: A kernel's linear algebra runs on tall, narrow matrices (600,000 visits × 25 columns) whose
#: products gain little from a second thread, and on a machine whose cores are busy (a parallel
#: run's other kernel, other work) OpenBLAS's spinning threads made ``X'X`` 30-50 times slower
#: (measured: 6.5-10 s instead of 0.19 s for 600,000 × 20 on two shared cores).
KERNEL_THREADS: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def kernel_env() -> dict[str, str]:
    """The environment of a report's kernel: this process's, with :data:`KERNEL_THREADS` where
    it does not set them itself.

        >>> kernel_env()["OPENBLAS_NUM_THREADS"] in ("1", os.environ.get("OPENBLAS_NUM_THREADS"))
        True
    """
    return {**KERNEL_THREADS, **os.environ}


def run_notebook(src: Path, dst: Path, parameters: dict[str, Any] | None = None, *,
                 progress_bar: bool = False, kernel: WarmKernel | None = None,
                 timeout: float | None = None, progress_log: Path | None = None,
                 progress_label: str = "", run_cache: Path | None = None) -> None:
    """Execute ``src`` with papermill into ``dst``, running in the notebook's own folder.

    Raises papermill's ``PapermillExecutionError`` when a cell fails; the executed copy with
    the error banner is still written to ``dst``. Personal data in the copy's error and stderr
    outputs are masked (:func:`mask_error_outputs`). With ``kernel`` (a :class:`WarmKernel`) the
    notebook runs in that already started kernel, its namespace emptied first. A cell that
    runs longer than ``timeout`` seconds fails the notebook (no limit when None; fractions are
    rounded up, as the kernel client counts whole seconds); a kernel left in an unknown state
    (timed out, died) is restarted before its next notebook. With ``progress_log`` the long
    steps of the notebook's code append their progress to that file (lines labelled
    ``progress_label``; :mod:`cxlib.progress`) instead of drawing a bar in the executed copy;
    with ``run_cache`` the notebook shares that folder's aggregations with the other notebooks of
    the run (:mod:`cxlib.runcache`).

    >>> run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"))  # doctest: +SKIP
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from cxlib import progress, runcache

    dst.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    env = {} if progress_log is None else {progress.LOG_ENV: str(progress_log), progress.LABEL_ENV: progress_label}
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


class ReadyClient(AsyncKernelClient):
    """The kernel client of a :class:`WarmKernel`: asynchronous, as nbclient expects (a blocking
    client would block its event loop, so that a kernel dying in a cell went unnoticed), and
    ready as soon as the kernel has answered.

    jupyter_client's own ``wait_for_ready`` ends by draining the IOPub channel until it stays
    silent for 0.2 s, twice per notebook (once for the namespace reset, once for papermill):
    most of the per-notebook overhead of a warm kernel. Here the check sends ``kernel_info``
    and returns once both its reply (shell) and the kernel's matching ``idle`` status (IOPub)
    have arrived, which also proves that IOPub is subscribed; a status lost to a socket still
    connecting is retried with a new request.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = time.monotonic() + (60.0 if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self.reply_to(msg_id, deadline)
            if reply is not None and await self._idle_after(msg_id, wait=0.25):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def reply_to(self, msg_id: str, deadline: float, wait: float = 1.0) -> dict | None:
        """The shell reply to ``msg_id``, or None if none came within ``wait`` seconds."""
        end = min(deadline, time.monotonic() + wait)
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await self.shell_channel.get_msg(timeout=left)
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    async def _idle_after(self, msg_id: str, wait: float) -> bool:
        """Whether IOPub shows the kernel going idle after ``msg_id`` within ``wait`` seconds."""
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"):
                return True
        return False


class _TrackingKernelManager(KernelManager):
    """A kernel manager that remembers the clients it made, so that they can be closed:
    papermill leaves the channels of its client open when the kernel is not its own (a
    heartbeat thread and sockets per notebook)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.clients: list[AsyncKernelClient] = []

    def client(self, **kwargs: Any) -> AsyncKernelClient:
        kc = super().client(**kwargs)
        self.clients.append(kc)
        return kc

    def close_clients(self) -> None:
        while self.clients:
            kc = self.clients.pop()
            if kc.channels_running:
                kc.stop_channels()


class WarmKernel:
    """One kernel that runs several notebooks in turn, so that each does not pay for starting
    Python and importing pandas, statsmodels and matplotlib again.

    Before each notebook the kernel's namespace is emptied (``%reset -f``) and open figures are
    closed, so a notebook sees no variable of the one before; a kernel that died is restarted.
    Its clients are :class:`ReadyClient`, which start in milliseconds on a running kernel.
    ``preload`` holds import statements (e.g. from :func:`import_statements`) that the kernel
    runs as soon as it has started, while the caller goes on; the first notebook waits for them.

        >>> with WarmKernel(Path("notebooks")) as k:  # doctest: +SKIP
        ...     run_notebook(Path("notebooks/01_cleaning.ipynb"), Path("/tmp/01.ipynb"), kernel=k)
    """

    # the execution count restarts too, so the executed copy numbers its cells as a new kernel would
    RESET = ("%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt\n"
             "get_ipython().execution_count = 1")

    def __init__(self, cwd: Path, kernel_name: str = KERNEL, preload: tuple[str, ...] = ()):
        self.cwd = Path(cwd).resolve()
        self.kernel_name = kernel_name
        self.preload = tuple(preload)
        self.km = None
        self.used = False
        self.broken = False
        self._preloading: tuple[Any, str] | None = None
        self._closing: threading.Thread | None = None

    def __enter__(self) -> WarmKernel:
        self.km = _TrackingKernelManager(kernel_name=self.kernel_name, client_class=f"{__name__}.ReadyClient")
        # the kernel's own log (not the notebooks' output) only for errors: no transport notices
        self.km.start_kernel(cwd=str(self.cwd), env=kernel_env(), extra_arguments=[
            "--IPKernelApp.log_level=ERROR",
            "--HistoryManager.enabled=False",  # no history database: nothing to keep between report runs
        ])
        if self.preload:
            # imported while the caller goes on (e.g. checks the data), inside a function so that
            # no name is left in the namespace
            kc = self.km.client()
            kc.start_channels()
            body = "".join(f"        {line}\n" for line in self.preload)
            # the garbage collector is off while importing (a fifth faster), and gc.freeze() keeps
            # it from scanning the imported modules' objects (millions) afterwards, which makes
            # each later collection, and the reset between notebooks, cheap
            code = (f"def _cx_preload():\n    import gc\n    gc.disable()\n    try:\n{body}"
                    "    finally:\n        gc.freeze()\n        gc.enable()\n"
                    "try:\n    _cx_preload()\nfinally:\n    del _cx_preload\n")
            self._preloading = (kc, kc.execute(code, silent=True, store_history=False))
        return self

    def _end_preload(self) -> None:
        """Wait until the preloading imports are done or the kernel died (a failed import
        shows in the notebook that needs it; a dead kernel is restarted by :meth:`fresh`)."""
        kc, msg_id = self._preloading
        self._preloading = None

        async def wait() -> dict | None:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                reply = await kc.reply_to(msg_id, deadline)
                if reply is not None or not await kc._async_is_alive():
                    return reply
            return None

        reply = run_sync(wait)()
        content = (reply or {}).get("content", {})
        if content.get("status") == "error":
            log.warning("preloading the notebooks' imports stopped at %s: %s (each notebook imports "
                        "what it needs itself)", content.get("ename"), content.get("evalue"))

    def fresh(self, env: dict[str, str] | None = None):
        """The kernel manager, with the kernel alive and its namespace empty; ``env`` is set in the
        kernel's environment (e.g. where :mod:`cxlib.progress` writes, for this notebook)."""
        if self._preloading is not None:
            self._end_preload()
        self.km.close_clients()
        if self.broken or not self.km.is_alive():
            self.km.restart_kernel(now=True)
            self.used = self.broken = False
        code = self.RESET if self.used else ""
        if env:
            code += f"\nimport os as _os\n_os.environ.update({dict(env)!r})\ndel _os"
        if code:
            kc = self.km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=60)
                reply = run_sync(kc.execute_interactive)(code, timeout=60, store_history=False)
                if reply["content"]["status"] != "ok":
                    self.km.restart_kernel(now=True)
            finally:
                kc.stop_channels()
        self.used = True
        return self.km

    def discard(self) -> None:
        """Mark the kernel as unusable (e.g. still busy with a timed-out cell): :meth:`fresh`
        restarts it."""
        self.broken = True

    def release(self) -> None:
        """Shut the kernel down in the background, once no notebook will run in it any more
        (the caller goes on, e.g. rendering HTML; leaving the context waits for the shutdown)."""
        if self._closing is None:
            self._closing = threading.Thread(target=self._shutdown, name="kernel-shutdown")
            self._closing.start()

    def _shutdown(self) -> None:
        self._preloading = None
        if self.km is not None:
            self.km.close_clients()
        if self.km is not None and self.km.is_alive():
            self.km.shutdown_kernel(now=True)

    def __exit__(self, *exc: object) -> None:
        if self._closing is not None:
            self._closing.join()
        else:
            self._shutdown()


def refresh(path: Path, timeout: int = 1200) -> None:
    """Re-execute ``path`` in place (its folder as working directory) and store the outputs.

    Uses nbclient directly so that the stored notebook carries no run-specific metadata
    beyond what the kernel prints. Progress bars are off in the kernel (``CX_PROGRESS=off``,
    :mod:`cxlib.progress`): a slow machine must not store one in an output.
    """
    import nbformat
    from nbclient import NotebookClient

    from cxlib import progress

    os.environ[progress.SWITCH_ENV] = "off"  # inherited by the kernel nbclient starts

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cxlib.notebooks")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("refresh", help="re-execute notebooks in place and store their outputs")
    p.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of numbered notebooks")
    args = ap.parse_args(argv)
    targets: list[Path] = []
    for p in args.paths:
        targets.extend(numbered_notebooks(p) if p.is_dir() else [p])
    for nb in targets:
        print(f"refreshing {nb} …", flush=True)
        refresh(nb)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
