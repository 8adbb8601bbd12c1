"""Running notebooks in a warm kernel: preloading, namespace reset, clients, shutdown."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from fontTools.ttLib import TTFont
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cxlib import report
from cxlib.notebooks import WarmKernel, import_statements, run_notebook

pytestmark = pytest.mark.slow


def _write(path: Path, *sources: str) -> Path:
    nb = new_notebook()
    params = new_code_cell("x = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_markdown_cell("import os  (prose, not code)"), *[new_code_cell(s) for s in sources]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _outputs(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [
        o.get("text") or o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    ]


def test_import_statements_in_order_once(tmp_path):
    a = _write(
        tmp_path / "01_a.ipynb",
        "import json\nfrom cxlib import clean, results",
        "%matplotlib inline\nimport os.path as osp\n!ls",
        "def f():\n    from collections import Counter\n    return Counter",
    )
    b = _write(tmp_path / "02_b.ipynb", "from cxlib import clean, results\nfrom math import *", "this is not python (")
    assert import_statements([a, b]) == (
        "import json",
        "from cxlib import clean, results",
        "import os.path as osp",
        "from collections import Counter",
        "import math",
    )


def test_warm_kernel_preloads_without_leaving_names_and_resets(tmp_path):
    nb1 = _write(
        tmp_path / "01_a.ipynb",
        "import sys, gc\nprint(sorted(k for k in globals() if not k.startswith('_') and k not in "
        "('In', 'Out', 'exit', 'quit', 'open', 'get_ipython', 'sys', 'gc', 'x')))",
        "print('_cx_preload' in globals(), 'colorsys' in sys.modules, gc.isenabled())",
        "leak = 1",
    )
    nb2 = _write(tmp_path / "02_b.ipynb", "print('leak' in globals(), get_ipython().execution_count)")
    with WarmKernel(tmp_path, preload=("import colorsys as cs", "from json import dumps")) as k:
        run_notebook(nb1, tmp_path / "out1.ipynb", kernel=k)
        run_notebook(nb2, tmp_path / "out2.ipynb", kernel=k)
        run_notebook(nb2, tmp_path / "out3.ipynb", kernel=k)
    # the preload binds no name (not even its own function) and leaves the collector enabled
    assert _outputs(tmp_path / "out1.ipynb") == ["[]\n", "False True True\n"]
    # the next notebook sees nothing of the one before, and numbers its cells from 1 again
    # (parameters cell, injected parameters, this cell: the count is 3 while it runs)
    assert _outputs(tmp_path / "out2.ipynb") == ["False 3\n"]
    assert _outputs(tmp_path / "out3.ipynb") == ["False 3\n"]


def test_warm_kernel_closes_clients_and_releases_kernel(tmp_path):
    nb = _write(tmp_path / "01_a.ipynb", "1 + 1")
    with WarmKernel(tmp_path) as k:
        run_notebook(nb, tmp_path / "o.ipynb", kernel=k)
        after_first = threading.active_count()
        for i in range(4):
            run_notebook(nb, tmp_path / f"o{i}.ipynb", kernel=k)
        # papermill leaves each client's heartbeat thread running; the kernel closes them
        assert threading.active_count() <= after_first
        k.release()
    assert not k.km.is_alive()
    assert _outputs(tmp_path / "o3.ipynb") == ["2"]


def test_cx_command_line_starts_without_pandas():
    # `cx report` starts its kernel before anything imports pandas (the catalog builds its
    # categorical dtypes on first use)
    code = (
        "import sys, cxlib.cli, cxlib.report\nprint('pandas' in sys.modules)\n"
        "from cxlib import catalog\nd = catalog.TIER_DTYPE\nprint(d is catalog.TIER_DTYPE, list(d.categories))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "False"
    assert out[1] == "True ['none', 'completion_only', 'realtime', 'realtime_photo']"


def test_embedded_font_covers_every_character_of_the_page():
    text = "客户体验报告 等待维修（交车）：满意度，“透明”。"
    page = report.embed_cjk_font(f"<html><head></head><body>{text} plain ASCII</body></html>")
    data = base64.b64decode(re.search(r"base64,([^)]+)\)", page).group(1))
    font = TTFont(io.BytesIO(data))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in text if ord(ch) > 127)
    assert "GSUB" not in font or not font["GSUB"].table.FeatureList.FeatureRecord
    assert len(data) < 20_000  # a few dozen glyphs, not the 8 MB font
    assert (
        report.embed_cjk_font("<html><head></head><body>ascii</body></html>")
        == "<html><head></head><body>ascii</body></html>"
    )


def test_failed_preload_is_reported_and_the_notebook_still_runs(tmp_path, caplog):
    nb = _write(tmp_path / "01_a.ipynb", "import json\nprint(json.dumps([1]))")
    with caplog.at_level("WARNING", logger="cxlib.notebooks"):
        with WarmKernel(tmp_path, preload=("import json", "import no_such_module_here")) as k:
            run_notebook(nb, tmp_path / "o.ipynb", kernel=k)
    assert "ModuleNotFoundError" in caplog.text and "no_such_module_here" in caplog.text
    assert _outputs(tmp_path / "o.ipynb") == ["[1]\n"]
