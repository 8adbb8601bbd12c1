"""The numbered notebooks of a folder and the import statements of their code cells."""

from __future__ import annotations

import re
from pathlib import Path

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
