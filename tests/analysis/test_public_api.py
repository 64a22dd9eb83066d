"""The package's public face: what ``import analysis`` offers and what it drags in."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import analysis

ROOT = Path(__file__).resolve().parents[2]


def test_every_name_in_all_is_importable():
    assert len(analysis.__all__) == len(set(analysis.__all__))
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from analysis import *", namespace)
    assert set(analysis.__all__) <= set(namespace)


# Modules deliberately left out of ``import analysis``, with the reason.
NOT_RE_EXPORTED = {
    "charts": "imports matplotlib; the statistics must load without it (cold start, "
    "research/perf-limits.md section 7): use `from analysis.charts import ...`",
}


def _public_modules():
    for info in pkgutil.iter_modules(analysis.__path__):
        if not info.name.startswith("_") and info.name not in NOT_RE_EXPORTED:
            yield importlib.import_module(f"analysis.{info.name}")


def test_every_public_function_and_class_of_every_module_is_re_exported():
    missing = []
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants stay in their module
            if getattr(analysis, name, None) is not obj:
                missing.append(f"{module.__name__}.{name}")
    assert missing == []


def test_modules_stay_reachable_although_describe_is_re_exported_as_a_function():
    from analysis.describe import bootstrap_mean_ci  # the module, through sys.modules

    assert callable(analysis.describe) and inspect.isfunction(analysis.describe)
    assert importlib.import_module("analysis.describe").bootstrap_mean_ci is bootstrap_mean_ci


@pytest.fixture(scope="module")
def loaded_by_import() -> set[str]:
    """Top-level packages in ``sys.modules`` after ``import analysis`` in a fresh interpreter."""
    code = (
        "import json, sys; import analysis; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("forbidden", ["flask", "sqlalchemy", "app", "matplotlib"])
def test_import_analysis_loads_no_web_database_or_plotting_package(loaded_by_import, forbidden):
    assert {"analysis", "pandas", "scipy"} <= loaded_by_import  # the probe really imported it
    assert forbidden not in loaded_by_import


def test_package_docstring_shows_a_runnable_notebook_example():
    doc = analysis.__doc__
    assert "round_results" in doc and "read_csv" in doc and ">>> " in doc
