"""Benchmark the results pages, exports and the analysis behind them.

Seeds one partnership of 10 partners x 300 respondents x 30 items per round, in 5 closed rounds
(450,000 answers), into a fresh SQLite file (or ``--database-url``), then times through the
Flask test client, on this machine, in this run:

- loading one round's answers into a DataFrame (the baseline the analysis is compared with);
- the analysis of one round (``compute_round_results``, loading included, not published);
- the round results page cold (no snapshot, no cached charts) and warm;
- the over-time page cold and warm;
- the CSV and XLSX exports of the round's results and answers.

Targets (issue "results that people read"): warm round page < 300 ms, cold < 3 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIMENSIONS = ("kesetaraan", "transparansi", "manfaat_bersama", "rasa_memiliki", "tata_kelola")
ITEMS_PER_DIMENSION = 6


def questionnaire_yaml() -> str:
    """A 30-item, five-dimension questionnaire in the bundled file format."""
    lines = [
        "slug: bench-30", "version: 1", "languages: [id, en]",
        "title: {id: Uji kinerja, en: Benchmark}",
        "scales:", "  - id: setuju5", "    points:",
    ]
    for value, (label_id, label_en) in enumerate(
            [("Sangat tidak setuju", "Strongly disagree"), ("Tidak setuju", "Disagree"),
             ("Netral", "Neutral"), ("Setuju", "Agree"), ("Sangat setuju", "Strongly agree")],
            start=1):
        lines.append(f"      - {{value: {value}, label: {{id: {label_id}, en: {label_en}}}}}")
    lines += ["    dont_know: {label: {id: Tidak tahu, en: Don't know}}",
              "    favourable_min: 4", "dimensions:"]
    for dimension in DIMENSIONS:
        lines += [f"  - id: {dimension}", f"    title: {{id: {dimension}, en: {dimension}}}",
                  "    items:"]
        for index in range(1, ITEMS_PER_DIMENSION + 1):
            item = f"{dimension[:3]}{index}"
            lines += [f"      - id: {item}",
                      f"        text: {{id: Pernyataan {item}, en: Statement {item}}}",
                      "        scale: setuju5"]
            if index == ITEMS_PER_DIMENSION:
                lines.append("        reverse: true")
    return "\n".join(lines) + "\n"


def seed(app, partners: int, respondents: int, rounds: int, rng: np.random.Generator):
    """Insert the partnership with Core bulk inserts; return (partnership id, round ids)."""
    from sqlalchemy import insert

    from app.db import new_session
    from app.models import (
        Answer,
        Membership,
        Partner,
        Partnership,
        Response,
        Role,
        Round,
        RoundStatus,
        Sector,
        User,
    )
    from app.questionnaires import parse_questionnaire
    from app.services.questionnaires import import_questionnaire
    from tests.factories import _DEFAULT_HASH

    with app.app_context():
        session = new_session()
        version = import_questionnaire(session, parse_questionnaire(questionnaire_yaml(),
                                                                    "bench.yaml")).version
        partnership = Partnership(name="Bench", description="", min_group_size=5)
        sectors = list(Sector)
        members = [Partner(partnership=partnership, name=f"Mitra {i + 1:02d}",
                           sector=sectors[i % len(sectors)]) for i in range(partners)]
        session.add_all([partnership, *members])
        user = User(email="bench@example.org", name="Bench", password_hash=_DEFAULT_HASH,
                    language="en")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, partnership_id=partnership.id,
                               role=Role.COORDINATOR))
        item_ids = [f"{d[:3]}{i}" for d in DIMENSIONS for i in range(1, ITEMS_PER_DIMENSION + 1)]
        round_ids = []
        for r in range(rounds):
            round_ = Round(partnership=partnership, name=f"Round {r + 1}",
                           questionnaire_version=version, opens_on=date(2021 + r, 3, 1),
                           closes_on=date(2021 + r, 3, 31), status=RoundStatus.CLOSED,
                           partners=members)
            session.add(round_)
            session.flush()
            round_ids.append(round_.id)
            response_rows, answer_rows = [], []
            for p_index, partner in enumerate(members):
                level = 2.6 + 0.12 * p_index + 0.15 * r
                values = np.clip(np.rint(rng.normal(level, 0.9, (respondents, len(item_ids)))),
                                 1, 5).astype(int)
                for row in values:
                    response_id = rng.bytes(16).hex()
                    response_rows.append({"id": response_id, "round_id": round_.id,
                                          "partner_id": partner.id, "language": "id",
                                          "submitted_on": round_.closes_on, "source": "web"})
                    answer_rows.extend({"response_id": response_id, "item_id": item,
                                        "value": int(value)}
                                       for item, value in zip(item_ids, row, strict=True))
            session.execute(insert(Response), response_rows)
            session.execute(insert(Answer), answer_rows)
        session.commit()
        ids = (partnership.id, round_ids)
        session.close()
    return ids


def timed(function: Callable[[], object], repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--respondents", type=int, default=300, help="per partner and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=5, help="warm timings: best of N")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from app import create_app
    from app.db import Base, new_session
    from app.models import ResultSnapshot, Round, User
    from app.services.answers import answers_frame
    from app.services.results import compute_round_results

    workdir = tempfile.mkdtemp(prefix="mitra-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench-" + "x" * 40})
    Base.metadata.create_all(app.extensions["mitra.engine"])
    start = time.perf_counter()
    partnership_id, round_ids = seed(app, args.partners, args.respondents, args.rounds,
                                     np.random.default_rng(7))
    n_answers = args.partners * args.respondents * args.rounds * len(DIMENSIONS) * 6
    print(f"seeded {args.rounds} rounds x {args.partners} partners x {args.respondents} "
          f"respondents x 30 items = {n_answers:,} answers in {time.perf_counter() - start:.1f} s")

    last = round_ids[-1]
    with app.app_context():
        session = new_session(write=False)
        round_ = session.get(Round, last)
        load = timed(lambda: answers_frame(session, [last]), args.repeat)
        load_all = timed(lambda: answers_frame(session, round_ids), 1)
        analysis = timed(lambda: compute_round_results(session, round_), 1)
        session.close()

    client = app.test_client()
    with app.app_context():
        user = new_session(write=False).scalar(select(User).where(
            User.email == "bench@example.org"))
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user.id)
        flask_session["epoch"] = user.session_epoch
        flask_session["_fresh"] = True

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()

    base = f"/results/partnerships/{partnership_id}"
    round_page = f"{base}/rounds/{last}"
    over_time_page = f"{base}/over-time"
    cold_round = timed(lambda: get(round_page))
    warm_round = timed(lambda: get(round_page), args.repeat)
    cold_over = timed(lambda: get(over_time_page))
    warm_over = timed(lambda: get(over_time_page), args.repeat)
    exports = {}
    for dataset in ("results", "answers"):
        for fmt in ("csv", "xlsx"):
            path = f"/exports/partnerships/{partnership_id}/rounds/{last}/{dataset}.{fmt}"
            exports[f"{dataset}.{fmt}"] = timed(lambda path=path: get(path), 3)

    with app.app_context():
        session = new_session()
        snapshots = session.scalar(select(func.count()).select_from(ResultSnapshot))
        session.close()

    rows = [
        ("load one round's answers into a DataFrame", load, "baseline", ""),
        ("load all 5 rounds' answers", load_all, f"{load_all / load:.1f}x one round", ""),
        ("analysis of the round (load included)", analysis,
         f"{(analysis - load) / load:.1f}x loading its data", ""),
        ("round results page, cold", cold_round, f"{cold_round / load:.0f}x load",
         "< 3 s: " + ("ok" if cold_round < 3 else "MISSED")),
        ("round results page, warm", warm_round, f"{warm_round / load:.1f}x load",
         "< 0.3 s: " + ("ok" if warm_round < 0.3 else "MISSED")),
        ("over-time page, cold", cold_over, "", ""),
        ("over-time page, warm", warm_over, "", ""),
        *((f"export {name}", seconds, "", "") for name, seconds in exports.items()),
    ]
    print(f"{'measure':<48} {'seconds':>8}  {'ratio':<24} target")
    print("-" * 96)
    for name, seconds, ratio, target in rows:
        print(f"{name:<48} {seconds:>8.3f}  {ratio:<24} {target}")
    print(f"(snapshots stored: {snapshots}; warm figures are the best of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
