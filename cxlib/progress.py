"""Progress of long computations: a bar in JupyterLab, lines in the run log of ``cx report``.

A step that takes more than a few seconds on a large network (a bootstrap, a randomisation
test, a fit over hundreds of thousands of visits) reports its progress through
:func:`track` or :class:`Progress`. Where it goes depends on who runs the code:

* in a notebook opened in JupyterLab (or any terminal), a ``tqdm`` bar (``tqdm.auto``: a widget in
  JupyterLab) that appears only once the step has run :data:`DELAY` seconds and is removed when it
  ends (``leave=False``), so that quick steps, and every step on the shipped sample, print
  nothing and the stored outputs of the notebooks stay as they are;
* in a report run (``cx report``: the environment variable ``CX_PROGRESS_LOG`` names the run log,
  ``CX_PROGRESS_LABEL`` the center and notebook), lines appended to that log instead of a bar in
  the executed notebook, once the step has run :data:`DELAY` seconds, then every
  :data:`INTERVAL` seconds and when it ends::

      2026-12-01 16:02:11 INFO all 02_emotion_curves: key drivers, bootstrap 250/500 (50%), 12 s

* nowhere with ``CX_PROGRESS=off`` (the notebook regression run and the refresh of stored
  outputs set it, so a slow machine cannot put a bar into an output).

    >>> total = 0
    >>> for chunk in track(range(3), desc="chunks"):
    ...     total += chunk
    >>> total
    3
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

#: Seconds a step runs before its progress is shown (a bar, or the first line in the run log).
DELAY = 5.0
#: Seconds between two lines of the same step in the run log.
INTERVAL = 10.0
#: Environment variables: the run log to append to, the label of the lines, and "off".
LOG_ENV, LABEL_ENV, SWITCH_ENV = "CX_PROGRESS_LOG", "CX_PROGRESS_LABEL", "CX_PROGRESS"

T = TypeVar("T")


class Progress:
    """Progress of one step of ``total`` units: ``update(n)`` as work is done; a context manager.

    >>> with Progress(4, "resamples") as p:
    ...     for _ in range(4):
    ...         p.update()
    >>> p.done
    4
    """

    def __init__(self, total: int | None, desc: str, unit: str = "it") -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.done = 0
        self.t0 = time.monotonic()
        self._last_line: float | None = None
        self._written = -1  # units done at the last line written
        self._bar: Any = None
        self._log: str | None = None
        if os.environ.get(SWITCH_ENV, "").lower() == "off":
            self.mode = "off"
        elif os.environ.get(LOG_ENV):
            self.mode, self._log = "log", os.environ[LOG_ENV]
        else:
            self.mode = "bar"
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, desc=desc, unit=unit, delay=DELAY, leave=False, file=sys.stderr)
            except Exception:  # noqa: BLE001 - a bar that cannot be drawn must not stop the computation
                self.mode = "off"

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.done += n
        if self.mode == "bar":
            self._bar.update(n)
        elif self.mode == "log":
            now = time.monotonic()
            if now - self.t0 >= DELAY and (self._last_line is None or now - self._last_line >= INTERVAL):
                self._write(now)

    def _write(self, now: float) -> None:
        self._last_line, self._written = now, self.done
        label = os.environ.get(LABEL_ENV, "")
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        of = f"/{self.total}" if self.total else ""
        line = (
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} INFO {label + ': ' if label else ''}{self.desc} "
            f"{self.done}{of}{share}, {now - self.t0:.0f} s\n"
        )
        try:
            with open(self._log or os.devnull, "a", encoding="utf-8") as fh:  # one short append per line
                fh.write(line)
        except OSError:
            self.mode = "off"  # the log went away: the computation goes on

    def close(self) -> None:
        """End the step: the bar disappears; the run log gets a last line if it got any."""
        if self.mode == "bar" and self._bar is not None:
            self._bar.close()
        elif (
            self.mode == "log"
            and self._written != self.done
            and (self._last_line is not None or time.monotonic() - self.t0 >= DELAY)
        ):
            self._write(time.monotonic())
        self.mode = "closed"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def track(items: Iterable[T], desc: str, *, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """The items of ``items``, reporting one unit of progress per item (see the module).

    >>> list(track(["a", "b"], desc="letters"))
    ['a', 'b']
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, desc, unit) as p:
        for item in items:
            yield item
            p.update()
