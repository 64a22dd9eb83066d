"""Benchmark the over-time page cold against one round's cold page, measured in one run.

Seeds the partnership of ``bench/results.py`` (10 partners x 300 respondents x 30 items, 5
closed rounds) into a fresh SQLite file (or ``--database-url``), then, through the Flask test
client:

1. one round's results page cold: no snapshot of any kind, no cached chart (the baseline);
2. the rounds' snapshots published as closing a round publishes them (``round_results_for``
   for every closed round, untimed);
3. the over-time page cold: no over-time snapshot, no cached chart, the round snapshots
   stored. It takes every round's described scores (intervals) from those snapshots and
   computes only the respondent scores the change and trend tests need
   (:func:`app.services.results.over_time_for`). Target: at most 1.5x step 1;
4. for comparison, the over-time page with no round snapshot at all (everything computed).

Step 3 is checked against the figures of step 4 (the same JSON), so the shortcut is seen to
change nothing. Each cold figure is the best of ``--repeat`` runs, every run starting from no
snapshot and no chart cache.

Run ``python bench/over_time.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.5


def _results_bench():
    """The seeding of bench/results.py (one data set for both benchmarks)."""
    spec = importlib.util.spec_from_file_location("bench_results", ROOT / "bench" / "results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=300, help="per partner and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=2, help="cold runs of each; best shown")
    args = parser.parse_args(argv)

    from sqlalchemy import delete, select

    from app import create_app
    from app.charts import _EXTENSION as CHART_CACHE
    from app.db import Base, new_session
    from app.models import Partnership, ResultSnapshot, Round, User
    from app.services.results import OVER_TIME, ROUND, over_time_for, round_results_for

    workdir = tempfile.mkdtemp(prefix="mitra-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench-" + "x" * 40})
    Base.metadata.create_all(app.extensions["mitra.engine"])
    partnership_id, round_ids = _results_bench().seed(
        app, args.partners, args.respondents, args.rounds, np.random.default_rng(7))
    print(f"seeded {args.rounds} closed rounds x {args.partners} partners x "
          f"{args.respondents} respondents x 30 items")

    client = app.test_client()
    with app.app_context():
        user = new_session(write=False).scalar(select(User).where(
            User.email == "bench@example.org"))
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user.id)
        flask_session["epoch"] = user.session_epoch
        flask_session["_fresh"] = True

    def forget(kinds: tuple[str, ...]) -> None:
        """Drop snapshots of these kinds and every cached chart: the next request is cold."""
        with app.app_context():
            session = new_session()
            session.execute(delete(ResultSnapshot).where(ResultSnapshot.kind.in_(kinds)))
            session.commit()
            session.close()
        app.extensions.pop(CHART_CACHE, None)  # a fresh, empty cache on next use

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()

    def cold(path: str, kinds: tuple[str, ...], before: Callable[[], None] | None = None) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            forget(kinds)
            if before is not None:
                before()
            start = time.perf_counter()
            get(path)
            best = min(best, time.perf_counter() - start)
        return best

    def publish_rounds() -> None:
        with app.app_context():
            session = new_session(write=False)  # publishing writes in a session of its own
            for round_id in round_ids:
                round_results_for(session, session.get(Round, round_id))
            session.close()

    def over_time_json() -> str:
        with app.app_context():
            session = new_session(write=False)
            payload = over_time_for(session, session.get(Partnership, partnership_id))
            session.close()
        return json.dumps(payload, sort_keys=True)

    base = f"/results/partnerships/{partnership_id}"
    round_page, over_time_page = f"{base}/rounds/{round_ids[-1]}", f"{base}/over-time"
    get(round_page)  # warm-up: imports, templates, first-call caches
    t_round = cold(round_page, (ROUND, OVER_TIME))
    t_over = cold(over_time_page, (OVER_TIME,), before=publish_rounds)
    forget((OVER_TIME,))
    from_snapshots = over_time_json()
    t_over_all = cold(over_time_page, (ROUND, OVER_TIME))
    forget((ROUND, OVER_TIME))
    from_scratch = over_time_json()
    identical = from_snapshots == from_scratch

    ratio = t_over / t_round
    rows = [
        ("round results page, cold (baseline)", f"{t_round:.3f} s", "1.00x", ""),
        ("over-time page, cold, round snapshots stored", f"{t_over:.3f} s", f"{ratio:.2f}x",
         f"<= {TARGET_RATIO}x: " + ("ok" if ratio <= TARGET_RATIO else "MISSED")),
        ("over-time page, cold, no snapshot at all", f"{t_over_all:.3f} s",
         f"{t_over_all / t_round:.2f}x", ""),
        ("over-time figures identical with and without", "yes" if identical else "NO", "",
         "ok" if identical else "DIFFERENT"),
    ]
    print(f"{'measure':<48} {'value':>9}  {'ratio':<8} target")
    print("-" * 80)
    for name, value, ratio_text, target in rows:
        print(f"{name:<48} {value:>9}  {ratio_text:<8} {target}")
    print(f"(best of {args.repeat} cold runs each)")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
