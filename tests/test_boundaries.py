"""The analysis package stays pure: no web framework, no ORM."""

from __future__ import annotations

import subprocess
import sys


def test_import_analysis_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, analysis, pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(analysis.__path__):\n"
        "    importlib.import_module('analysis.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'flask_wtf', 'app'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"analysis imported: {result.stdout.strip()}"


def test_analysis_sources_do_not_mention_the_app():
    from pathlib import Path

    import analysis

    for path in Path(analysis.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for forbidden in ("import flask", "from flask", "import sqlalchemy", "from sqlalchemy",
                          "from app", "import app"):
            assert forbidden not in source, f"{path.name} contains {forbidden!r}"
