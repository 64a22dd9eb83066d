"""One number rule, one wording: the pages, the report and the API agree to the byte.

The presentation layer (``app.results``) is the only place that turns a snapshot into text.
These tests hold it to that: every mean and interval of a round reads the same on the
results page and in the printable report (both print the same macro with the same
formatter), the API's raw numbers round to exactly those texts, and a value on the rounding
edge (3.25) reads the same in a sentence, on a chart and in a table, in both languages.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from flask import render_template_string

from analysis.charts import partner_scores_chart
from analysis.language import format_number, format_p, group_sentence
from app.results.numbers import Numbers
from app.results.templating import display_context
from app.results.words import chart_words
from tests.app.export_helpers import bearer, build_results_world, make_token
from tests.app.staff_helpers import signed_in_client

EDGES = [3.25, 3.35, 3.45, 2.05, 4.15, 1.55, 2.675, 0.125]
TABLE = re.compile(r'<table class="res-table scores">(.*?)</table>', re.S)
CAPTION = re.compile(r'<caption class="visually-hidden">(.*?)</caption>', re.S)
ROW = re.compile(r'<tr data-partner="(\d+)"[^>]*>\s*<th scope="row">[^<]*</th>\s*'
                 r'<td class="num"><strong>([^<]*)</strong></td>\s*<td>([^<]*)</td>', re.S)


def score_texts(page: str) -> dict[tuple[str, int], tuple[str, str]]:
    """(dimension caption, partner id) -> (mean text, interval text) of every score table."""
    found = {}
    for table in TABLE.findall(page):
        caption = html_lib.unescape(CAPTION.search(table).group(1))
        for partner, mean, interval in ROW.findall(table):
            found[(caption, int(partner))] = (mean, interval)
    return found


@pytest.mark.parametrize("lang", ["en", "id"])
def test_page_report_and_api_give_the_same_numbers_for_one_snapshot(app, lang):
    rw = build_results_world(app, counts=(20, 14, 9))
    client = signed_in_client(app, "facilitator")
    client.post("/language", data={"lang": lang, "next": "/"})
    base = f"/partnerships/{rw.world.partnership}/rounds/{rw.closed_round}"
    page = client.get("/results" + base).get_data(as_text=True)
    report = client.get("/reports" + base).get_data(as_text=True)
    on_page, in_report = score_texts(page), score_texts(report)
    assert len(on_page) >= 6  # three partners on the index and at least one dimension
    assert on_page == in_report  # byte-identical texts, table by table
    # the same chart specifications: the text alternatives are the same words and numbers
    page_alts = set(re.findall(r'<img src="[^"]*/charts/[^"]*" alt="([^"]*)"', page))
    report_alts = set(re.findall(r'<img src="data:image/svg\+xml;base64,[^"]*" alt="([^"]*)"',
                                 report))
    assert len(page_alts & report_alts) >= 3, (page_alts, report_alts)

    token = make_token(app, rw.world.facilitator)
    raw = app.test_client().get(f"/api/v1/rounds/{rw.closed_round}/results",
                                headers=bearer(token)).json
    numbers = Numbers(lang)
    checked = 0
    for table in raw["scores"]:
        for partner in table["partners"]:
            if partner["suppressed"] or not partner["n"]:
                continue
            key = next(k for k in on_page if k[1] == partner["partner_id"]
                       and table["label"][lang] in k[0])
            mean, interval = on_page[key]
            assert numbers.num(partner["mean"]) == mean
            assert numbers.ci(partner["ci_low"], partner["ci_high"]) == interval
            assert str(numbers.rounded(partner["mean"])).replace(".", numbers.decimal_mark) \
                == mean
            checked += 1
    assert checked == len(on_page)


@pytest.mark.parametrize("value", EDGES)
@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_edge_value_reads_the_same_in_a_sentence_a_chart_and_a_table(app, value, lang):
    places = 2 if value in (2.675, 0.125) else 1
    sentence_number = format_number(value, lang, places)
    assert Numbers(lang).num(value, places) == sentence_number
    # a chart label, in the words the pages give the chart
    with app.test_request_context():
        words = chart_words(5, lang)
    if places == 1 and 1 <= value <= 5:
        fig = partner_scores_chart([{"label": "A", "mean": value}], scale_min=1, scale_max=5,
                                   labels=words)
        assert sentence_number in [t.get_text() for t in fig.axes[0].texts]
        # a table cell of the one macro library
        table = {"label": {"id": "Kesetaraan", "en": "Equality"}, "scale_min": 1,
                 "scale_max": 5, "partnership": {"suppressed": True}}
        partner = {"partner_id": 1, "name": "A", "suppressed": False, "n": 9, "mean": value,
                   "ci_low": value, "ci_high": value, "median": value,
                   "share_favourable": 0.5, "band": None}
        with app.test_request_context():
            cell = render_template_string(
                '{% from "results/_macros.html" import score_table with context %}'
                "{{ score_table(table, [partner], 5) }}",
                table=table, partner=partner, **display_context(lang))
        assert f"<strong>{sentence_number}</strong>" in cell
        assert f"{sentence_number}\u2013{sentence_number}" in cell
    # and in a plain-language sentence computed by the analysis
    if places == 1 and 1 <= value <= 5:
        text = group_sentence({"n": 12, "mean": value, "ci_low": 1.0, "ci_high": 5.0},
                              {"id": "Kesetaraan", "en": "Equality"}, scale_min=1,
                              scale_max=5)[lang]
        assert sentence_number in text, text


@pytest.mark.parametrize("p", [0.0004, 0.0042, 0.0045, 0.0125, 0.125, 0.5])
@pytest.mark.parametrize("lang", ["en", "id"])
def test_p_values_read_the_same_in_tables_and_sentences(p, lang):
    assert format_p(p, lang).endswith(Numbers(lang).p(p))


def test_half_up_not_half_even_in_tables():
    """Babel alone rounds half to even: 3.25 would read 3.2 in a table and 3.3 in a sentence."""
    assert Numbers("en").num(3.25) == "3.3" and Numbers("id").num(3.25) == "3,3"
    assert Numbers("en").pct(0.125) == "13%" and Numbers("id").count(1234) == "1.234"
    assert Numbers("en").signed(0.25) == "+0.3" and Numbers("en").signed(-0.04) == "0.0"
