"""Presentation mode: slides from the published snapshot, prompts that cite figures, charts
drawn for a projector and a phone.

The slides must show what the results page shows for the same snapshot (no second
computation, no second display rule) and nothing of a group below k.
"""

from __future__ import annotations

import html as html_lib
import re
import xml.etree.ElementTree as ET

from flask_babel import force_locale

from analysis import prompts as prompt_words
from app.models import RoundStatus
from tests.app.staff_helpers import db, signed_in_client
from tests.app.test_results_pages import admin_client, build_scene, round_url

SVG_NS = "{http://www.w3.org/2000/svg}"


def present_url(scene) -> str:
    return f"/present/partnerships/{scene.partnership}/rounds/{scene.round}"


def _texts(page: str, css_class: str) -> list[str]:
    found = re.findall(rf'class="{css_class}"[^>]*>(.*?)</p>', page, flags=re.S)
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", t)).split()) for t in found]


def _strongs(page: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", page)


def test_slides_show_the_results_pages_figures_byte_for_byte(app):
    with db(app) as session:
        scene = build_scene(session, {"Dinas": 10, "Tani": 9, "Yayasan": 11}, comments=3)
    client = admin_client(app, "en")
    results = client.get(round_url(scene)).get_data(as_text=True)
    slides = client.get(present_url(scene)).get_data(as_text=True)
    assert 'class="slide slide-title"' in slides
    # every sentence of a slide is a sentence of the results page (the snapshot's own text)
    end = "Agree who does what, by when, and how the partners will know it happened."
    leads = [t for t in _texts(slides, "slide-lead") if "response" not in t and t != end]
    assert leads
    plain = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", results)).split())
    for lead in leads:
        assert lead in plain, lead
    # every bold figure of a slide (means, gaps, changes) is printed on the results page too
    for figure in _strongs(slides):
        if re.fullmatch(r"[+−-]?\d+[.,]\d", figure):
            assert f"<strong>{figure}</strong>" in results or figure in plain, figure


def test_no_figure_or_name_of_a_partner_below_k_on_any_slide(app):
    with db(app) as session:
        scene = build_scene(session, {"Mitra Besar": 9, "Mitra Sedang": 8, "Mitra Kecil": 2},
                            k=5)  # (the fixture's comments quote their partner's name)
    page = admin_client(app, "en").get(present_url(scene)).get_data(as_text=True)
    # named only where the results page names it: with the notice, never with a figure
    for found in re.finditer(r"Mitra Kecil", page):
        after = re.split(r"[;.<]\s", page[found.end():found.end() + 200])[0]
        assert "fewer than 5 responses" in after, after
        assert not re.search(r"\d", after.replace("fewer than 5 responses", "")), after
    assert "fewer than 5 responses" in page or "Mitra Besar" in page
    # its slide charts (projector and phone) print the notice, never a number for it
    for url in sorted(set(re.findall(r'(?:src|srcset)="([^"]+scores\.svg[^"]*)"', page))):
        svg = admin_client(app, "en").get(html_lib.unescape(url)).data
        texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
        assert not any("Mitra Kecil" in t and re.search(r"\d", t) for t in texts)


def test_prompts_cite_their_figures_in_both_languages(app):
    with db(app) as session:
        scene = build_scene(session, {"Dinas": 12, "Tani": 11, "Yayasan": 12}, seed=7)
    english = admin_client(app, "en").get(present_url(scene)).get_data(as_text=True)
    indonesian = admin_client(app, "id").get(present_url(scene)).get_data(as_text=True)
    cites = _texts(english, "slide-cite")
    prompts = [c for c in cites if c.startswith("From the results:")]
    assert prompts, "no generated prompt"
    for cite in prompts:
        assert re.search(r"\d\.\d|\d%|n = \d", cite), cite
    assert "rates “" in english or "disagree that" in english
    assert "menilai “" in indonesian or "tidak setuju bahwa" in indonesian
    assert re.search(r"\d,\d", " ".join(_texts(indonesian, "slide-cite")))
    # the questionnaire's own prompt is there too
    assert "Whose voice has not been heard yet?" in english
    assert "Suara siapa yang belum terdengar?" in indonesian


def test_prompt_sentences_say_the_same_in_both_languages():
    built = prompt_words.gap_prompt({"id": "Kesetaraan", "en": "Equality"}, "Dinas", 3.25,
                                    "Tani", 2.0, 1.25, 0.0004)
    assert built["source"]["en"] == ("Equality: Dinas 3.3, Tani 2.0; gap 1.3 points "
                                     "(p < 0.001, adjusted).")
    assert built["source"]["id"] == ("Kesetaraan: Dinas 3,3, Tani 2,0; selisih 1,3 poin "
                                     "(p < 0,001, terkoreksi).")
    low = prompt_words.low_item_prompt("Semua didengar.", 0.345, 29)
    assert low["source"]["en"].startswith("35% of valid answers") and "n = 29" in \
        low["source"]["en"]
    assert prompt_words.disagreement_share([2, 2, 1, 3, 2]) == 0.4
    assert prompt_words.disagreement_share([0, 0, 0, 0]) is None
    change = prompt_words.change_prompt("Equality", 3.0, 2.6, -0.4, None, "2025", "2026")
    assert "fell" in change["question"]["en"] and "turun" in change["question"]["id"]
    assert "(-0.4)" in change["source"]["en"]


def test_only_facilitators_coordinators_and_admins_present(app):
    from app.models import Round
    from tests.app.staff_helpers import build_world

    world = build_world(app)
    with db(app) as session:
        round_ = session.get(Round, world.open_round)
        names = [p.name for p in round_.partnership.partners]
        scene = build_scene(session, dict.fromkeys(names, 6), partnership=round_.partnership)
    url = present_url(scene)
    assert signed_in_client(app, "facilitator").get(url).status_code == 200
    assert signed_in_client(app, "coordinator").get(url).status_code == 200
    assert signed_in_client(app, "observer").get(url).status_code == 403
    results = signed_in_client(app, "facilitator").get(round_url(scene)).get_data(as_text=True)
    assert f'href="{url}"' in results
    observer = signed_in_client(app, "observer").get(round_url(scene)).get_data(as_text=True)
    assert f'href="{url}"' not in observer


def test_open_round_presents_without_open_answers(app):
    with db(app) as session:
        scene = build_scene(session, {"Dinas": 8, "Tani": 8}, comments=6,
                            status=RoundStatus.OPEN)
    page = admin_client(app, "en").get(present_url(scene)).get_data(as_text=True)
    assert "data-card=" not in page and "Saran" not in page


def test_open_answer_cards_are_shuffled_and_hideable(app):
    with db(app) as session:
        scene = build_scene(session, {"Dinas": 12, "Tani": 11}, comments=4, k=3)
    page = admin_client(app, "en").get(present_url(scene)).get_data(as_text=True)
    cards = re.findall(r'data-card="([0-9a-f]{16})"', page)
    assert len(cards) == 8 and len(set(cards)) == 8
    texts = re.findall(r'class="card-text[^"]*" lang="id">([^<]+)<', page)
    assert texts != sorted(texts)  # not in arrival or alphabetical order
    assert page.count("data-card-hide hidden") == 8  # shown by present.js


def test_chart_screens_sizes_and_strict_parameter(app):
    with db(app) as session:
        scene = build_scene(session, {"Dinas": 10, "Tani": 9})
    client = admin_client(app, "en")
    base = (f"/results/partnerships/{scene.partnership}/rounds/{scene.round}"
            "/charts/scores.svg?dimension=kesetaraan")
    widths = {}
    for screen in ("page", "slide", "phone"):
        response = client.get(f"{base}&screen={screen}")
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        root = ET.fromstring(response.data)
        widths[screen] = (float(root.get("width").removesuffix("pt")),
                          float(root.get("height").removesuffix("pt")))
    assert widths["page"][0] == 540 and widths["slide"] == (720, 405)
    assert widths["phone"][0] == 288 and widths["phone"][1] > widths["phone"][0]
    for bad in ("bogus", "SLIDE", "page%00", "phone2", "%20slide"):
        assert client.get(f"{base}&screen={bad}").status_code in (400, 404), bad
    assert client.get(f"{base}&screen=").status_code == 200
    over_time = f"/results/partnerships/{scene.partnership}/over-time/charts/scores.svg"
    assert client.get(f"{over_time}?screen=nope").status_code == 404


def test_slides_module_builds_from_the_view_without_a_request(app):
    from app.db import new_session
    from app.models import Round
    from app.questionnaires import Questionnaire
    from app.results.context import RoundView, partner_rows
    from app.results.slides import round_slides
    from app.results.snapshots import round_snapshot

    with db(app) as session:
        scene = build_scene(session, {"Dinas": 10, "Tani": 9})
    with app.test_request_context(), force_locale("en"):
        session = new_session(write=False)
        round_ = session.get(Round, scene.round)
        if session is not None:
            snap = round_snapshot(session, round_)
            view = RoundView(round_.id, True, snap, Questionnaire.from_dict(
                round_.questionnaire_version.definition), "en",
                partner_rows(snap, [p.id for p in round_.partners]))
            slides = round_slides(view, round_name=round_.name)
    kinds = [s.kind for s in slides]
    assert kinds[0] == "title" and "scores" in kinds and "answers" in kinds
    assert all(s.data.get("chart") is None or s.data["chart"].slide is None for s in slides)
