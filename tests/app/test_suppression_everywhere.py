"""Property: what the pages hide, the exports and the API hide too.

Generated partnerships (partners of 0-12 respondents, k of 3 or 5) go through the results CSV
export and the JSON API; no partner with fewer than k responses may carry a figure in either.
The pages get the same property in test_results_pages.py.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import User
from tests.app.export_helpers import make_token
from tests.app.job_helpers import get_through_job
from tests.app.staff_helpers import db
from tests.app.test_results_pages import LETTERS, admin_client, build_scene

PROFILE = settings(max_examples=10, deadline=None,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate],
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
SIZES = st.lists(st.integers(0, 12), min_size=2, max_size=4)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _entries_of(node: Any, partner_id: int):
    """Every mapping in the JSON that speaks of ``partner_id`` as its partner."""
    if isinstance(node, dict):
        if node.get("partner_id") == partner_id:
            yield node
        for value in node.values():
            yield from _entries_of(value, partner_id)
    elif isinstance(node, list):
        for value in node:
            yield from _entries_of(value, partner_id)


def _named_in(node: Any, partner_id: int, keys: frozenset[str]) -> bool:
    if isinstance(node, dict):
        return any((key in keys and value == partner_id) or _named_in(value, partner_id, keys)
                   for key, value in node.items())
    if isinstance(node, list):
        return any(_named_in(value, partner_id, keys) for value in node)
    return False


def _figures(entry: dict) -> dict:
    skip = {"partner_id", "k", "scale_min", "scale_max", "favourable_min"}
    return {key: value for key, value in entry.items()
            if key not in skip and isinstance(value, int | float) and not isinstance(value, bool)}


@PROFILE
@given(sizes=SIZES, k=st.sampled_from([3, 5]), seed=st.integers(0, 10_000))
def test_no_partner_under_k_has_a_figure_in_the_api_or_the_results_export(app, sizes, k, seed):
    names = [f"Mitra {LETTERS[i]}" for i in range(len(sizes))]
    with db(app) as session:
        scene = build_scene(session, dict(zip(names, sizes, strict=True)), k=k, seed=seed)
    client = admin_client(app, "en")
    with db(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == "admin@example.org"))
    token = make_token(app, admin_id)
    api = client.get(f"/api/v1/rounds/{scene.round}/results",
                     headers={"Authorization": f"Bearer {token}"})
    if not any(sizes):
        return
    export = get_through_job(app, client, f"/exports/partnerships/{scene.partnership}"
                             f"/rounds/{scene.round}/results.csv")
    assert api.status_code == 200, api.get_data(as_text=True)
    assert export.status_code == 200
    results = api.get_json()
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    for name, n in scene.sizes.items():
        if n == 0 or n >= k:
            continue
        partner_id = scene.partners[name]
        for entry in _entries_of(results, partner_id):
            assert not _figures(entry), f"{name} (n={n}, k={k}) in the API: {entry}"
        assert not _named_in(results, partner_id, frozenset({"high_group", "low_group"})), (
            f"{name} (n={n}, k={k}) is named in a perception gap")
        for row in rows:
            if name not in row:
                continue
            named = [cell for cell in row if cell in scene.partners]
            if len(named) == 2 and named[1] == name:
                # Rating rows read (item, rater, ratee, n, mean): figures about a hidden
                # partner given by a shown partner's people are that partner's data (rule 7).
                continue
            numbers = [cell for cell in row if cell != name and _is_number(cell.strip())]
            assert not numbers, f"{name} (n={n}, k={k}) in the export: {row}"
