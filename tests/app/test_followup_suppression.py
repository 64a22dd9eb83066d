"""Property: no follow-up page, export or API response carries a figure for a group under k.

Generated partnerships (2-4 partners of 0-12 respondents in each of two closed rounds, k = 5)
get a workshop after round one and an action owned by every partner. Each partner's impact
line, on the register page, in the JSON API and in the CSV download, shows figures only when
the partner has at least k responses in both rounds; the partnership's line only when both
rounds have k responses in all.
"""

from __future__ import annotations

import re
from datetime import date

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import Action, ActionOwner, OwnerRole, Partnership, Round, User, Workshop
from tests.app.export_helpers import bearer, make_token
from tests.app.staff_helpers import db
from tests.app.test_results_pages import admin_client, build_scene

PROFILE = settings(max_examples=6, deadline=None,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate],
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
SIZES = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=2, max_size=4)
HIDDEN = "fewer than 5 responses"


def _scene(app, sizes):
    names = [f"Mitra {chr(65 + i)}" for i in range(len(sizes))]
    with db(app) as session:
        first = build_scene(session, {n: a for n, (a, _) in zip(names, sizes, strict=True)})
        partnership = session.get(Partnership, first.partnership)
        second = build_scene(session, {n: b for n, (_, b) in zip(names, sizes, strict=True)},
                             partnership=partnership)
        round_ = session.get(Round, first.round)
        workshop = Workshop(round_id=round_.id, held_on=date(2026, 2, 1))
        session.add(workshop)
        session.flush()
        dimension = round_.questionnaire_version.definition["dimensions"][0]["id"]
        action = Action(workshop_id=workshop.id, description="Tindak lanjut uji",
                        questionnaire_version_id=round_.questionnaire_version_id,
                        dimension_id=dimension)
        action.owner_links = [ActionOwner(partner_id=pid, role=OwnerRole.OWNER)
                              for pid in first.partners.values()]
        session.add(action)
        session.commit()
        return first, second, dict(zip(names, sizes, strict=True))


@PROFILE
@given(sizes=SIZES)
def test_no_follow_up_view_shows_a_figure_below_k(app, sizes):
    first, _, counts = _scene(app, sizes)
    client = admin_client(app)
    with db(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == "admin@example.org"))
    token = make_token(app, admin_id)
    api = client.get(f"/api/v1/partnerships/{first.partnership}/actions",
                     headers=bearer(token)).json
    impact = api["actions"][0]["impact"]
    page = client.get(f"/followup/partnerships/{first.partnership}/actions"
                      ).get_data(as_text=True)
    download = client.get(f"/followup/partnerships/{first.partnership}/actions.csv"
                          ).get_data(as_text=True)
    everyone_ok = all(sum(pair[i] for pair in counts.values()) >= 5 for i in (0, 1))
    for name, (a, b) in counts.items():
        entry = next(p for p in impact["partners"] if p["name"] == name)
        if not (a >= 5 and b >= 5):
            assert not entry["shown"] and entry["stats"] == HIDDEN, (name, a, b, entry)
            line = re.search(rf"<strong>{name}</strong>: (.*?)</li>", page, re.S)
            assert line is not None and HIDDEN in line.group(1) and not re.search(
                r"\d", line.group(1).replace(HIDDEN, "")), line.group(1)
    if not everyone_ok:
        assert impact["state"] != "measured" and impact["stats"] == ""
        assert "adjusted p" not in download and "adjusted p" not in page
