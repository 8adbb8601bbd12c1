"""The project's own files agree with each other: conda environment vs. pyproject, README commands."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs.extend(extra)
    out = {}
    for r in reqs:
        req = Requirement(r)
        out[req.name.lower()] = str(req.specifier)
    return out


def _conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            if item.startswith("-e") or item in ("pip",) or item.startswith("python"):
                continue
            req = Requirement(item)
            out[req.name.lower()] = str(req.specifier)
    return out


def test_environment_yml_matches_pyproject():
    assert _conda_requirements() == _pyproject_requirements()


def test_environment_installs_the_project_itself():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*-e \.\s*$", text, re.M)


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:1500]
    assert "make report" in head and "make test" in head


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_package_cxlib_imports_is_a_declared_dependency():
    """A module imported by cxlib (at the top or inside a function) comes from the standard
    library or from a distribution that pyproject.toml's runtime dependencies declare (the Spark
    engine's modules: or its spark extra)."""
    import ast
    import sys
    from importlib import metadata

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {Requirement(r).name.lower().replace("_", "-") for r in meta["dependencies"]}
    # the Spark engine's modules may import what the spark extra declares
    spark_modules = {ROOT / "cxlib" / "clean" / "plan" / m for m in ("spark.py", "dialect.py")}
    spark_declared = declared | {Requirement(r).name.lower().replace("_", "-")
                                 for r in meta["optional-dependencies"]["spark"]}
    dists = metadata.packages_distributions()
    missing = {}
    for path in sorted((ROOT / "cxlib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "cxlib":
                    continue
                owners = {d.lower().replace("_", "-") for d in dists.get(top, [top])}
                if not owners & (spark_declared if path in spark_modules else declared):
                    missing.setdefault(top, path.name)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
