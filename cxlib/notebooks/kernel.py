"""The warm kernel that runs several notebooks in turn, and its ready-at-once client."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any, cast

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import KernelManager
from jupyter_core.utils import run_sync

from cxlib.privacy import MaskingFilter

KERNEL = "python3"


log = logging.getLogger("cxlib.notebooks")
log.addFilter(MaskingFilter())


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

    async def wait_for_ready(self, timeout: float | None = None) -> None:
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
        self.clients: list[ReadyClient] = []

    # jupyter_client types the client as the blocking one; it is an instance of the manager's
    # client_class, which WarmKernel sets to ReadyClient (jupyter_client's AsyncKernelManager
    # overrides it the same way)
    def client(self, **kwargs: Any) -> ReadyClient:  # type: ignore[override]
        kc = cast(ReadyClient, super().client(**kwargs))
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
        self.km: _TrackingKernelManager | None = None
        self.used = False
        self.broken = False
        self._preloading: tuple[ReadyClient, str] | None = None
        self._closing: threading.Thread | None = None

    def __enter__(self) -> WarmKernel:
        km = self.km = _TrackingKernelManager(kernel_name=self.kernel_name, client_class=f"{__name__}.ReadyClient")
        # the kernel's own log (not the notebooks' output) only for errors: no transport notices
        km.start_kernel(cwd=str(self.cwd), env=kernel_env(), extra_arguments=[
            "--IPKernelApp.log_level=ERROR",
            "--HistoryManager.enabled=False",  # no history database: nothing to keep between report runs
        ])
        if self.preload:
            # imported while the caller goes on (e.g. checks the data), inside a function so that
            # no name is left in the namespace
            kc = km.client()
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
        if self._preloading is None:
            return
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

    def fresh(self, env: dict[str, str] | None = None) -> KernelManager:
        """The kernel manager, with the kernel alive and its namespace empty; ``env`` is set in the
        kernel's environment (e.g. where :mod:`cxlib.progress` writes, for this notebook)."""
        km = self.km
        if km is None:
            raise RuntimeError("a WarmKernel runs notebooks inside its with block only")
        if self._preloading is not None:
            self._end_preload()
        km.close_clients()
        if self.broken or not km.is_alive():
            km.restart_kernel(now=True)
            self.used = self.broken = False
        code = self.RESET if self.used else ""
        if env:
            code += f"\nimport os as _os\n_os.environ.update({dict(env)!r})\ndel _os"
        if code:
            kc = km.client()
            kc.start_channels()
            try:
                run_sync(kc.wait_for_ready)(timeout=60)
                reply = run_sync(kc.execute_interactive)(code, timeout=60, store_history=False)
                if reply["content"]["status"] != "ok":
                    km.restart_kernel(now=True)
            finally:
                kc.stop_channels()
        self.used = True
        return km

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
