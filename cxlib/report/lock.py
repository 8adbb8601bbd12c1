"""The lock of a period folder: one run at a time."""

from __future__ import annotations

from pathlib import Path

from cxlib.folders import FolderLock


class ReportLock(FolderLock):
    """The lock of a period folder, ``.lock``: an ``flock`` that the OS releases when the run
    holding it dies (the file stays; its pid text is informative only). A second run on the
    same period folder is refused with one error line while the first is alive.

        >>> import tempfile
        >>> period_dir = Path(tempfile.mkdtemp())
        >>> with ReportLock(period_dir):
        ...     (period_dir / ".lock").exists()
        True
    """

    def __init__(self, folder: Path):
        super().__init__(Path(folder) / ".lock", "report run", wait=0.0)

    def __enter__(self) -> ReportLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        super().__enter__()
        return self
