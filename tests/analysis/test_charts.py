"""Tests for analysis.charts: what each chart draws, what it must never draw, and its SVG.

Charts have no published reference values; the geometry is checked against numbers worked
out by hand from the definitions (Robbins & Heiberger 2011 for the diverging bars: first
segment at -(negative share + half the neutral share)), and the privacy rules directly: a
suppressed figure never reaches the picture or its text alternative, even when a caller
passes the number by mistake.
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis.charts import (
    DEFAULT_LABELS,
    OKABE_ITO,
    chart_alt_text,
    contrast_ratio,
    diverging_likert_chart,
    heatmap_chart,
    heatmap_chart_inputs,
    likert_chart_inputs,
    over_time_chart,
    over_time_chart_inputs,
    partner_scores_chart,
    rating_matrix_chart,
    rating_matrix_chart_inputs,
    score_chart_inputs,
    text_colour_on,
)
from analysis.language import format_number

SVG_NS = "{http://www.w3.org/2000/svg}"
BANDS = [
    {"label": "Concern", "min": 1.0, "max": 3.0},
    {"label": "Needs attention", "min": 3.0, "max": 4.0},
    {"label": "Strength", "min": 4.0, "max": 5.0},
]
POINTS = [1, 2, 3, 4, 5]
POINT_LABELS = ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]


def to_svg(fig: Figure) -> bytes:
    """SVG as app/charts.py writes it (text kept as text, fixed ids), without importing app."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "test"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def svg_text(svg: bytes) -> str:
    """Every piece of text in the SVG, one line each (parsing also proves it is valid XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    return "\n".join("".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


def assert_clean_svg(fig: Figure) -> str:
    text = svg_text(to_svg(fig))
    assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE), text
    assert "None" not in text
    return text


def figure_texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def score_rows() -> list[dict]:
    return [
        {"label": "Dinas Kesehatan", "mean": 3.92, "ci_low": 3.55, "ci_high": 4.21, "n": 14},
        {"label": "Puskesmas", "mean": 3.41, "ci_low": 3.02, "ci_high": 3.77, "n": 22},
        {"label": "Yayasan Sehat", "suppressed": True, "mean": 4.87, "ci_low": 4.6,
         "ci_high": 4.99, "n": 3},
        {"label": "PT Farmasi", "mean": 2.61, "ci_low": 2.10, "ci_high": 3.12, "n": 9},
        {"label": "Kemitraan", "mean": 3.57, "ci_low": 3.35, "ci_high": 3.80, "n": 48,
         "overall": True},
    ]


# ----------------------------------------------------------------------------- partner scores


def test_partner_scores_draw_each_mean_and_interval_where_the_data_say():
    fig = partner_scores_chart(score_rows(), scale_min=1, scale_max=5, bands=BANDS)
    ax = fig.axes[0]
    dots = {round(float(line.get_xdata()[0]), 6): line.get_marker() for line in ax.lines
            if line.get_marker() in ("o", "D")}
    assert dots == {3.92: "o", 3.41: "o", 2.61: "o", 3.57: "D"}
    all_ci = sorted(tuple(np.round(c.get_segments()[0][:, 0], 6)) for c in ax.collections)
    assert all_ci == [(2.10, 3.12), (3.02, 3.77), (3.35, 3.80), (3.55, 4.21)]
    lo, hi = ax.get_xlim()
    assert lo < 1 and hi > 5  # the whole scale is always shown


def test_partner_scores_svg_shows_labels_values_counts_and_bands():
    fig = partner_scores_chart(score_rows(), scale_min=1, scale_max=5, bands=BANDS,
                               title="Kesetaraan", labels={"suppressed": "fewer than 5"})
    text = assert_clean_svg(fig)
    for expected in ("Kesetaraan", "Dinas Kesehatan", "Puskesmas", "Yayasan Sehat",
                     "PT Farmasi", "Kemitraan", "3.9", "3.4", "2.6", "3.6", "n = 14",
                     "n = 48", "Concern", "Needs attention", "Strength", "fewer than 5",
                     DEFAULT_LABELS["ci"], DEFAULT_LABELS["overall"]):
        assert expected in text, expected


def test_partner_scores_never_draw_a_suppressed_groups_numbers():
    fig = partner_scores_chart(score_rows(), scale_min=1, scale_max=5,
                               labels={"suppressed": "fewer than 5 responses"})
    text = assert_clean_svg(fig)
    assert "fewer than 5 responses" in text
    assert "4.9" not in text and "n = 3" not in text
    xs = [float(x) for line in fig.axes[0].lines for x in line.get_xdata()]
    assert not any(math.isclose(x, 4.87) for x in xs)


def test_partner_scores_put_the_partnership_last_after_a_rule():
    rows = score_rows()
    rows.insert(0, rows.pop())  # the overall row first in the input
    fig = partner_scores_chart(rows, scale_min=1, scale_max=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "Kemitraan"
    assert labels[:-1] == ["Dinas Kesehatan", "Puskesmas", "Yayasan Sehat", "PT Farmasi"]
    assert fig.axes[0].get_yticklabels()[-1].get_fontweight() == "bold"


def test_partner_scores_one_group_and_all_equal_values():
    one = partner_scores_chart([{"label": "Solo", "mean": 4.0, "ci_low": 3.5,
                                 "ci_high": 4.5, "n": 6}], scale_min=1, scale_max=5)
    assert "Solo" in assert_clean_svg(one)
    same = [{"label": f"P{i}", "mean": 3.0, "ci_low": 3.0, "ci_high": 3.0, "n": 5}
            for i in range(4)]
    text = assert_clean_svg(partner_scores_chart(same, scale_min=1, scale_max=5))
    assert text.count("3.0") >= 4  # four annotated values (plus no other 3.0 text)


def test_partner_scores_accept_a_dataframe_with_nan_and_numpy_types():
    frame = pd.DataFrame(score_rows())  # NaN where keys are missing, numpy bools and ints
    text = assert_clean_svg(partner_scores_chart(frame, scale_min=1, scale_max=5))
    assert "Dinas Kesehatan" in text and "n = 14" in text


def test_partner_scores_without_a_mean_say_there_is_no_data():
    fig = partner_scores_chart([{"label": "Empty", "mean": None, "n": 0},
                                {"label": "Full", "mean": 2.0}], scale_min=1, scale_max=5,
                               labels={"no_data": "belum ada jawaban"})
    assert "belum ada jawaban" in assert_clean_svg(fig)


def test_labels_are_printed_literally_never_as_tex():
    rows = [{"label": "Dana $5 & $6_x", "mean": 3.0}, {"label": "50% <b>", "mean": 2.0}]
    text = assert_clean_svg(partner_scores_chart(rows, scale_min=1, scale_max=5))
    assert "Dana $5 & $6_x" in text and "50% <b>" in text


def test_numbers_follow_the_decimal_separator_passed_in():
    fig = partner_scores_chart(score_rows(), scale_min=1, scale_max=5,
                               labels={"decimal": ",", "n": "n={n}"})
    text = assert_clean_svg(fig)
    assert "3,9" in text and "2,6" in text and "n=14" in text
    assert "3.9" not in text


@pytest.mark.parametrize(
    ("rows", "kwargs", "error", "match"),
    [
        ([{"label": "A", "mean": 5.5}], {}, ValueError, "outside the scale"),
        ([{"label": "A", "mean": 3, "ci_low": 4, "ci_high": 3}], {}, ValueError, "ci_low"),
        ([{"label": "A", "mean": 3, "ci_low": 2}], {}, ValueError, "one end"),
        ([{"mean": 3}], {}, ValueError, "label"),
        ([{"label": 7, "mean": 3}], {}, TypeError, "label"),
        ([{"label": "A", "mean": "3"}], {}, TypeError, "mean"),
        ([{"label": "A", "mean": 3, "suppressed": "yes"}], {}, TypeError, "suppressed"),
        ([{"label": "A", "mean": float("inf")}], {}, ValueError, "finite"),
        ([], {}, ValueError, "empty"),
        ({"label": "A"}, {}, TypeError, "list of mappings"),
        ([{"label": "A", "mean": 3}], {"scale_min": 5, "scale_max": 1}, ValueError, "below"),
        ([{"label": "A", "mean": 3}], {"labels": {"scroe": "Skor"}}, ValueError, "scroe"),
        ([{"label": "A", "mean": 3}], {"labels": {"score": 1}}, TypeError, "score"),
        ([{"label": "A", "mean": 3}], {"bands": [{"label": "x", "min": 4, "max": 2}]},
         ValueError, "min <= max"),
    ],
)
def test_partner_scores_reject_bad_input(rows, kwargs, error, match):
    options = {"scale_min": 1, "scale_max": 5, **kwargs}
    with pytest.raises(error, match=match):
        partner_scores_chart(rows, **options)


# ----------------------------------------------------------------------------- matrices

HEAT = [[3.9, 3.2, 4.4], [3.4, None, 3.8], [1.2, 2.2, float("nan")]]
ROWS = ["Dinas", "Puskesmas", "PT Farmasi"]
COLS = ["Kesetaraan", "Transparansi", "Manfaat bersama"]


def _cell_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def test_heatmap_annotates_every_shown_cell_and_hatches_suppressed_ones():
    fig = heatmap_chart(HEAT, row_labels=ROWS, col_labels=COLS, scale_min=1, scale_max=5,
                        suppressed_label="fewer than 5", n=[[14, 12, 14], [22, 2, 21],
                                                           [9, 9, 1]])
    texts = _cell_texts(fig)
    for value in ("3.9", "3.2", "4.4", "3.4", "3.8", "1.2", "2.2", "n = 14", "n = 21"):
        assert value in texts
    assert texts.count("fewer than 5") == 2  # None and NaN cells
    assert "n = 2" not in texts and "n = 1" not in texts  # counts of hidden cells stay hidden
    hatched = [c for c in fig.axes[0].collections if c.get_hatch()]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 2
    text = assert_clean_svg(fig)
    for label in (*ROWS, *COLS):
        assert label in text


def test_heatmap_colours_are_fixed_to_the_scale_and_text_contrasts():
    fig = heatmap_chart([[1.0, 3.0, 5.0]], row_labels=["A"], col_labels=["x", "y", "z"],
                        scale_min=1, scale_max=5, suppressed_label="-")
    cells = next(c for c in fig.axes[0].collections
                 if isinstance(c, PolyCollection) and not c.get_hatch())
    faces = [to_hex(f) for f in cells.get_facecolors()]
    cmap = matplotlib.colormaps["RdBu"]
    norm = Normalize(1, 5)
    assert faces == [to_hex(cmap(norm(v))) for v in (1.0, 3.0, 5.0)]
    assert faces[0] != faces[2]  # the ends of the scale differ: diverging, not one hue
    ink = {t.get_text(): to_hex(t.get_color()) for t in fig.axes[0].texts}
    assert ink["1.0"] == "#ffffff" and ink["5.0"] == "#ffffff"  # dark ends: white text
    assert ink["3.0"] != "#ffffff"  # the pale midpoint: dark text


def test_contrast_ratio_matches_the_wcag_definition():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # WebAIM


@pytest.mark.parametrize("palette", ["RdBu"])
def test_every_colour_of_the_palette_gets_text_of_at_least_4_5_to_1(palette):
    """All 256 colours a cell can take (the colour map's table), and the Likert fills."""
    cmap = matplotlib.colormaps[palette]
    colours = [cmap(i) for i in range(cmap.N)]
    worst = min(colours, key=lambda c: contrast_ratio(text_colour_on(c), c))
    assert contrast_ratio(text_colour_on(worst), worst) >= 4.5, to_hex(worst)


@pytest.mark.parametrize("value", [1.7, 1.75, 4.35, 4.4])
def test_heatmap_text_on_a_mid_tone_cell_reaches_4_5_to_1(value):
    """Dark ink on a mid blue (4.35 on 1-5) read 4.1:1 before the colour was picked by ratio."""
    fig = heatmap_chart([[value]], row_labels=["A"], col_labels=["x"], scale_min=1,
                        scale_max=5, suppressed_label="-", n=[[12]])
    cells = next(c for c in fig.axes[0].collections
                 if isinstance(c, PolyCollection) and not c.get_hatch())
    fill = cells.get_facecolors()[0]
    for text in fig.axes[0].texts:
        assert contrast_ratio(text.get_color(), fill) >= 4.5, (value, text.get_text())


def _overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts if t.get_text()]
    return [(a.get_text(), b.get_text()) for i, a in enumerate(texts) for b in texts[i + 1:]
            if a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer))]


@pytest.mark.parametrize("label", ["A", "Dinas Kesehatan Kabupaten Sumba Barat Daya dan "
                                        "Kelompok Kerja Kesehatan Ibu dan Anak"])
@pytest.mark.parametrize("scale", [(1, 5), (0, 10)])
def test_score_values_never_run_into_their_n(label, scale):
    """Long partner names narrow the axes; the bold value used to overlap "n = 31234"."""
    rows = [{"label": label, "mean": 3.85, "ci_low": 3.2, "ci_high": 4.1, "n": 1234},
            {"label": "Kemitraan", "mean": 10.0 if scale[1] == 10 else 4.0, "n": 31234,
             "overall": True}]
    fig = partner_scores_chart(rows, scale_min=scale[0], scale_max=scale[1])
    assert _overlapping_texts(fig) == []


@pytest.mark.parametrize("value", [3.25, 3.35, 3.45, 2.05, 4.15, 1.55])
def test_chart_numbers_round_half_up_like_the_sentences(value):
    """One rounding rule: the chart prints what format_number prints (3.25 -> 3.3, not 3.2)."""
    fig = partner_scores_chart([{"label": "A", "mean": value}], scale_min=1, scale_max=5,
                               labels={"decimal": ","})
    printed = [t.get_text() for t in fig.axes[0].texts]
    assert format_number(value, "id") in printed, printed


def test_heatmap_one_cell_and_all_equal():
    one = heatmap_chart([[2.5]], row_labels=["Solo"], col_labels=["Only"], scale_min=1,
                        scale_max=5, suppressed_label="hidden")
    assert "2.5" in assert_clean_svg(one)
    same = heatmap_chart([[3.0] * 4] * 3, row_labels=ROWS, col_labels=[*COLS, "Rasa"],
                         scale_min=1, scale_max=5, suppressed_label="hidden")
    assert _cell_texts(same).count("3.0") == 12


def test_heatmap_all_suppressed():
    fig = heatmap_chart([[None, None]], row_labels=["A"], col_labels=["x", "y"],
                        scale_min=1, scale_max=5, suppressed_label="hidden")
    assert _cell_texts(fig) == ["hidden", "hidden"]
    assert_clean_svg(fig)


@pytest.mark.parametrize(
    ("matrix", "kwargs", "error", "match"),
    [
        ([[3.0, 4.0]], {}, ValueError, "cells"),
        ([[3.0], [4.0]], {}, ValueError, "rows"),
        ([[9.0]], {"col_labels": ["x"]}, ValueError, "outside the scale"),
        ("abc", {}, TypeError, "list of rows"),
        ([[3.0]], {"col_labels": ["x"], "row_labels": "A"}, TypeError, "row_labels"),
        ([[3.0]], {"col_labels": ["x"], "n": [[-1]]}, ValueError, "whole number"),
        ([[3.0]], {"col_labels": ["x"], "suppressed_label": None}, TypeError, "suppressed"),
    ],
)
def test_heatmap_rejects_bad_input(matrix, kwargs, error, match):
    options = {"row_labels": ["A"], "col_labels": ["x", "y", "z"], "scale_min": 1,
               "scale_max": 5, "suppressed_label": "hidden", **kwargs}
    with pytest.raises(error, match=match):
        heatmap_chart(matrix, **options)


def test_rating_matrix_blanks_the_diagonal_even_when_it_holds_a_number():
    matrix = [[4.9, 4.1, None], [3.9, 4.8, 3.5], [4.4, 3.0, 4.7]]
    fig = rating_matrix_chart(matrix, rater_labels=ROWS, ratee_labels=ROWS, scale_min=1,
                              scale_max=5, suppressed_label="fewer than 5",
                              labels={"rater": "Dinilai oleh", "ratee": "Mitra yang dinilai"})
    texts = _cell_texts(fig)
    assert texts.count("\u2014") == 3
    assert not {"4.9", "4.8", "4.7"} & set(texts)  # self-ratings are not shown
    assert {"4.1", "3.9", "3.5", "4.4", "3.0", "fewer than 5"} <= set(texts)
    text = assert_clean_svg(fig)
    assert "Dinilai oleh" in text and "Mitra yang dinilai" in text


def test_rating_matrix_not_square_has_no_diagonal():
    fig = rating_matrix_chart([[4.0, 3.0]], rater_labels=["Kelompok"],
                              ratee_labels=["Pendamping", "Dinas"], scale_min=1, scale_max=5,
                              suppressed_label="hidden")
    assert sorted(_cell_texts(fig)) == ["3.0", "4.0"]


def test_rating_matrix_one_pair_and_all_equal():
    one = rating_matrix_chart([[None]], rater_labels=["A"], ratee_labels=["A"], scale_min=1,
                              scale_max=5, suppressed_label="hidden")
    assert _cell_texts(one) == ["\u2014"]
    same = rating_matrix_chart([[2.0] * 3] * 3, rater_labels=ROWS, ratee_labels=ROWS,
                               scale_min=1, scale_max=5, suppressed_label="hidden")
    assert _cell_texts(same).count("2.0") == 6
    assert_clean_svg(same)


# ----------------------------------------------------------------------------- Likert


def likert(distributions, items, **kwargs):
    options = {"points": POINTS, "point_labels": POINT_LABELS, "dont_know_label": "Don't know",
               "item_labels": items, **kwargs}
    return diverging_likert_chart(distributions, **options)


def _bars(fig: Figure) -> list[tuple[float, float, str]]:
    """(left, width, colour) of every non-hatched bar in the main axes, in drawing order."""
    return [(round(float(p.get_x()), 9), round(float(p.get_width()), 9), to_hex(p.get_facecolor()))
            for p in fig.axes[0].patches if not p.get_hatch()]


def test_likert_segments_diverge_around_zero_with_the_neutral_split():
    # counts 1, 2, 3, 8, 6 of 20 valid: 5, 10, 15, 40, 30 %; start -(5 + 10 + 15 / 2)
    fig = likert([{"counts": [1, 2, 3, 8, 6], "dont_know": 5}], ["Item"])
    bars = _bars(fig)
    assert [(left, width) for left, width, _ in bars] == [
        (-22.5, 5.0), (-17.5, 10.0), (-7.5, 15.0), (7.5, 40.0), (47.5, 30.0)]
    assert len({colour for _, _, colour in bars}) == 5


def test_likert_even_scale_starts_at_minus_the_negative_share():
    fig = diverging_likert_chart([{"counts": [2, 2, 4, 2]}], points=[1, 2, 3, 4],
                                 point_labels=["--", "-", "+", "++"], dont_know_label="DK",
                                 item_labels=["Item"])
    assert [(left, width) for left, width, _ in _bars(fig)] == [
        (-40.0, 20.0), (-20.0, 20.0), (0.0, 40.0), (40.0, 20.0)]


def test_likert_percentages_ignore_dont_know_which_has_its_own_panel():
    without = _bars(likert([{"counts": [1, 2, 3, 8, 6], "dont_know": 0}], ["Item"]))
    fig = likert([{"counts": [1, 2, 3, 8, 6], "dont_know": 5}], ["Item"])
    assert _bars(fig) == without
    dk_bars = fig.axes[1].patches
    assert len(dk_bars) == 1 and math.isclose(dk_bars[0].get_width(), 20.0)  # 5 of 25
    assert [t.get_text() for t in fig.axes[1].texts] == [" 20%"]
    text = assert_clean_svg(fig)
    assert "40%" in text and "30%" in text and "(n = 20)" in text.replace("\u00a0", " ")


def test_likert_legend_lists_the_points_in_scale_order_then_dont_know():
    fig = likert([{"counts": [1, 2, 3, 8, 6]}], ["Item"])
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert legend == [*POINT_LABELS, "Don't know"]


def test_likert_suppressed_item_shows_no_numbers_even_if_passed():
    fig = likert([{"counts": [0, 0, 0, 0, 3], "dont_know": 1, "suppressed": True},
                  {"counts": {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2}}],
                 ["Hidden item", "Shown item"], labels={"suppressed": "fewer than 5"})
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 1
    shown = _bars(fig)
    assert len(shown) == 5 and all(width == 20.0 for _, width, _ in shown)
    assert len(fig.axes[1].patches) == 1  # only the shown item has a don't-know bar
    text = assert_clean_svg(fig)
    assert "fewer than 5" in text
    assert "(n = 3)" not in text.replace("\u00a0", " ")


def test_likert_one_item_all_in_one_category_and_sorting():
    fig = likert([{"counts": [0, 0, 0, 0, 7]}], ["Unanimous"])
    assert _bars(fig) == [(0.0, 100.0, _bars(fig)[0][2])]
    assert "100%" in assert_clean_svg(fig)
    fig = likert([{"counts": [5, 0, 0, 0, 5]}, {"counts": [0, 0, 0, 0, 5]}], ["Half", "All"],
                 sort=True)
    labels = [t.get_text().split(" (")[0] for t in fig.axes[0].texts if "(" in t.get_text()]
    assert labels == ["All", "Half"]


def test_likert_no_valid_answers_says_so():
    fig = likert([{"counts": [0, 0, 0, 0, 0], "dont_know": 4}], ["Nobody knows"],
                 labels={"no_data": "no valid answers"})
    assert "no valid answers" in assert_clean_svg(fig)
    assert math.isclose(fig.axes[1].patches[0].get_width(), 100.0)


@pytest.mark.parametrize(
    ("distributions", "items", "error", "match"),
    [
        ([{"counts": [1, 2, 3]}], ["Item"], ValueError, "expected 5"),
        ([{"counts": {"6": 1}}], ["Item"], ValueError, "not in points"),
        ([{"counts": [1, 2, 3, 4, -5]}], ["Item"], ValueError, "whole number"),
        ([{"counts": [1, 2, 3, 4, 1.5]}], ["Item"], ValueError, "whole number"),
        ([{"dont_know": 1}], ["Item"], ValueError, "counts"),
        ([{"counts": [1, 2, 3, 4, 5]}], ["A", "B"], ValueError, "item_labels"),
        ([{"counts": "12345"}], ["Item"], TypeError, "counts"),
    ],
)
def test_likert_rejects_bad_input(distributions, items, error, match):
    with pytest.raises(error, match=match):
        likert(distributions, items)


# ----------------------------------------------------------------------------- over time


def time_rows(values: dict[str, list[float | None]]) -> list[dict]:
    return [{"series": s, "round": r, "mean": v, "ci_low": None if v is None else v - 0.3,
             "ci_high": None if v is None else v + 0.3, "n": 10, "suppressed": v is None}
            for s, vs in values.items() for r, v in enumerate(vs)]


ROUNDS = {0: "2024", 1: "2025", 2: "2026"}
SERIES = {"eq": "Kesetaraan", "tr": "Transparansi"}


def test_over_time_leaves_a_gap_for_a_suppressed_round():
    rows = time_rows({"eq": [3.1, None, 3.9], "tr": [2.5, 2.9, 3.3]})
    rows[1]["mean"] = 4.44  # a number passed with suppressed=True must still not be drawn
    fig = over_time_chart(rows, round_labels=ROUNDS, scale_min=1, scale_max=5,
                          series_labels=SERIES)
    eq, tr = (line for line in fig.axes[0].lines if line.get_label() in SERIES.values())
    eq_y = eq.get_ydata()
    assert eq_y[0] == 3.1 and math.isnan(eq_y[1]) and eq_y[2] == 3.9
    assert list(tr.get_ydata()) == [2.5, 2.9, 3.3]
    assert [to_hex(eq.get_color()), to_hex(tr.get_color())] == [c.lower() for c in OKABE_ITO[:2]]
    assert eq.get_marker() != tr.get_marker()
    text = assert_clean_svg(fig)
    assert "4.4" not in text
    for label in (*ROUNDS.values(), *SERIES.values(), DEFAULT_LABELS["gap_note"]):
        assert label in text


def test_over_time_missing_combination_is_a_gap_too():
    rows = [r for r in time_rows({"eq": [3.1, 3.5, 3.9]}) if r["round"] != 1]
    fig = over_time_chart(rows, round_labels=ROUNDS, scale_min=1, scale_max=5,
                          series_labels={"eq": "Kesetaraan"})
    assert math.isnan(fig.axes[0].lines[0].get_ydata()[1])


def test_over_time_one_series_is_annotated_and_one_round_works():
    fig = over_time_chart(time_rows({"eq": [3.1, 3.5, 3.9]}), round_labels=ROUNDS,
                          scale_min=1, scale_max=5, series_labels={"eq": "Kesetaraan"})
    assert [t.get_text() for t in fig.axes[0].texts] == ["3.1", "3.5", "3.9"]
    assert DEFAULT_LABELS["gap_note"] not in assert_clean_svg(fig)
    one = over_time_chart(time_rows({"eq": [4.0]}), round_labels={0: "Putaran 1"},
                          scale_min=1, scale_max=5, series_labels={"eq": "Kesetaraan"})
    assert "Putaran 1" in assert_clean_svg(one)


def test_over_time_all_equal_values():
    fig = over_time_chart(time_rows({"eq": [3.0] * 3, "tr": [3.0] * 3}), round_labels=ROUNDS,
                          scale_min=1, scale_max=5, series_labels=SERIES)
    assert all(list(line.get_ydata()) == [3.0] * 3 for line in fig.axes[0].lines)
    assert_clean_svg(fig)


@pytest.mark.parametrize(
    ("rows", "series", "error", "match"),
    [
        ([{"series": "eq", "round": 9, "mean": 3.0}], SERIES, ValueError, "round 9"),
        ([{"series": "xx", "round": 0, "mean": 3.0}], SERIES, ValueError, "series 'xx'"),
        ([{"series": "eq", "mean": 3.0}], SERIES, ValueError, "'round'"),
        ([{"series": "eq", "round": 0, "mean": 3.0}] * 2, SERIES, ValueError, "two entries"),
        ([{"series": "eq", "round": 0, "mean": 0.5}], SERIES, ValueError, "outside"),
        ([], {f"s{i}": f"S{i}" for i in range(9)}, ValueError, "at most 8"),
        ([], [], TypeError, "mapping"),
    ],
)
def test_over_time_rejects_bad_input(rows, series, error, match):
    with pytest.raises(error, match=match):
        over_time_chart(rows, round_labels=ROUNDS, scale_min=1, scale_max=5,
                        series_labels=series)


# ----------------------------------------------------------------------------- alt text


def test_alt_text_for_scores_lists_values_and_never_a_hidden_number():
    text = chart_alt_text("partner_scores", score_rows(),
                          {"suppressed": "kurang dari 5 jawaban", "decimal": ","},
                          scale_min=1, scale_max=5, bands=BANDS, title="Kesetaraan")
    assert text.startswith("Kesetaraan. Mean scores on a 1 to 5 scale")
    # ci_low 3.55 rounds half up, as in the sentences (f"{3.55:.1f}" would print 3.5)
    assert "Dinas Kesehatan 3,9 (3,6\u20134,2, n = 14)" in text
    assert "Yayasan Sehat kurang dari 5 jawaban" in text
    assert "4,9" not in text and "n = 3" not in text


def test_alt_text_for_each_chart_kind_uses_the_callers_words():
    heat = chart_alt_text("heatmap", HEAT, {"alt_heatmap": "Skor {min}-{max}. {items}."},
                          row_labels=ROWS, col_labels=COLS, scale_min=1, scale_max=5,
                          suppressed_label="tersembunyi")
    assert heat.startswith("Skor 1-5. Dinas: Kesetaraan 3.9, Transparansi 3.2")
    assert "Puskesmas: Kesetaraan 3.4, Transparansi tersembunyi" in heat
    rating = chart_alt_text("rating_matrix", [[5.0, 4.1], [3.9, 5.0]], rater_labels=["A", "B"],
                            ratee_labels=["A", "B"], scale_min=1, scale_max=5,
                            suppressed_label="hidden")
    assert "A: B 4.1. B: A 3.9" in rating and "5.0" not in rating
    dist = chart_alt_text("diverging_likert", [{"counts": [1, 2, 3, 8, 6], "dont_know": 5},
                                               {"suppressed": True}],
                          points=POINTS, point_labels=POINT_LABELS, dont_know_label="DK",
                          item_labels=["Item", "Hidden"], sort=True)
    assert ("Item (n = 20): Strongly disagree 5%, Disagree 10%, Neither 15%, Agree 40%, "
            "Strongly agree 30%; DK 20%") in dist
    assert f"Hidden: {DEFAULT_LABELS['suppressed']}" in dist
    trend = chart_alt_text("over_time", time_rows({"eq": [3.1, None, 3.9]}),
                           round_labels=ROUNDS, series_labels={"eq": "Kesetaraan"},
                           scale_min=1, scale_max=5)
    assert f"Kesetaraan: 2024 3.1, 2025 {DEFAULT_LABELS['suppressed']}, 2026 3.9" in trend


def test_alt_text_rejects_unknown_kinds_and_broken_templates():
    with pytest.raises(ValueError, match="unknown chart kind"):
        chart_alt_text("radar", [])
    with pytest.raises(ValueError, match="alt_scores"):
        chart_alt_text("partner_scores", score_rows(), {"alt_scores": "{itmes}"},
                       scale_min=1, scale_max=5)


# ----------------------------------------------------------------------------- shared rules

BUILDERS: dict[str, Callable[[], Figure]] = {
    "partner_scores": lambda: partner_scores_chart(score_rows(), scale_min=1, scale_max=5,
                                                   bands=BANDS, title="T"),
    "heatmap": lambda: heatmap_chart(HEAT, row_labels=ROWS, col_labels=COLS, scale_min=1,
                                     scale_max=5, suppressed_label="hidden",
                                     n=[[5] * 3] * 3),
    "rating_matrix": lambda: rating_matrix_chart(HEAT, rater_labels=ROWS, ratee_labels=ROWS,
                                                 scale_min=1, scale_max=5,
                                                 suppressed_label="hidden"),
    "diverging_likert": lambda: likert([{"counts": [1, 2, 3, 8, 6], "dont_know": 2},
                                        {"suppressed": True}], ["One", "Two"]),
    "over_time": lambda: over_time_chart(time_rows({"eq": [3.1, None, 3.9],
                                                    "tr": [2.5, 2.9, 3.3]}),
                                         round_labels=ROUNDS, scale_min=1, scale_max=5,
                                         series_labels=SERIES, bands=BANDS),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_same_data_gives_byte_identical_svg(name):
    first, second = to_svg(BUILDERS[name]()), to_svg(BUILDERS[name]())
    assert first == second


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_text_is_at_least_9_points_and_the_figure_fits_720_px(name):
    fig = BUILDERS[name]()
    to_svg(fig)  # draw once so tick labels exist
    sizes = {t.get_text(): t.get_fontsize() for t in figure_texts(fig)}
    assert sizes and min(sizes.values()) >= 9, {k: v for k, v in sizes.items() if v < 9}
    width_px = fig.get_figwidth() * 96  # CSS px per inch
    assert 680 <= width_px <= 760


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_building_a_chart_leaves_global_rcparams_alone(name):
    before = dict(matplotlib.rcParams)
    BUILDERS[name]()
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_analysis_charts_never_imports_pyplot():
    code = (
        "import sys\n"
        "from analysis.charts import partner_scores_chart\n"
        "import io\n"
        "fig = partner_scores_chart([{'label': 'A', 'mean': 3.0}], scale_min=1, scale_max=5)\n"
        "fig.savefig(io.BytesIO(), format='svg')\n"
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib.pyplot')))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'app'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "[]"], result.stdout



# ----------------------------------------------------------------------------- from results


@pytest.fixture(scope="module")
def results() -> dict:
    """A real ``round_results(...).to_dict()``: 3 rounds, one partner below k, ratings."""
    import json

    from analysis.results import round_results

    rng = np.random.default_rng(7)
    partners = pd.DataFrame({"partner_id": ["dinas", "pkm", "ngo", "pt"],
                             "name": ["Dinas Kesehatan", "Puskesmas", "Yayasan", "PT Farmasi"],
                             "sector": ["gov", "gov", "ngo", "biz"]})
    sizes = {"dinas": 12, "pkm": 15, "ngo": 3, "pt": 9}
    items = pd.DataFrame({"item_id": [f"q{i}" for i in range(6)],
                          "dimension": ["eq"] * 3 + ["tr"] * 3, "reverse": False,
                          "scale_min": 1, "scale_max": 5})
    rows = []
    for rnd in (1, 2, 3):
        for partner, size in sizes.items():
            for r in range(size):
                for item in items["item_id"]:
                    dont_know = bool(rng.random() < 0.1)
                    value = np.nan if dont_know else float(rng.integers(1, 6))
                    rows.append((f"{rnd}-{partner}-{r}", rnd, partner, item, value, dont_know))
    answers = pd.DataFrame(rows, columns=["response_id", "round_id", "partner_id", "item_id",
                                          "value", "dont_know"])
    ratings = pd.DataFrame(
        [(f"3-{a}-{r}", 3, a, b, "deliver", float(rng.integers(1, 6)))
         for a in sizes for b in sizes if a != b for r in range(6 if a != "pkm" else 2)],
        columns=["response_id", "round_id", "rater_partner_id", "ratee_partner_id", "item_id",
                 "value"])
    labels = {"eq": {"id": "Kesetaraan", "en": "Equality"},
              "tr": {"id": "Transparansi", "en": "Transparency"},
              "deliver": {"id": "Memenuhi komitmen", "en": "Delivered"},
              **{f"q{i}": {"id": f"Pernyataan {i}", "en": f"Statement {i}"} for i in range(6)}}
    out = round_results(answers, items, round_id=3, partners=partners, k=5,
                        round_order=[1, 2, 3], ratings=ratings, labels=labels,
                        random_state=0).to_dict()
    return json.loads(json.dumps(out))  # what a cache or the JSON API hands back


def test_score_chart_from_results(results):
    table = results["scores"][0]
    inputs = score_chart_inputs(table, language="en", partnership_label="Partnership",
                                partnership="respondent_weighted",
                                bands=[{"label": {"id": "Masalah", "en": "Concern"},
                                        "min": 1, "max": 3}])
    labels = [row["label"] for row in inputs["rows"]]
    assert labels == [*(p["name"] for p in table["partners"]), "Partnership"]
    hidden = {p["name"] for p in table["partners"] if p["suppressed"]}
    assert "Yayasan" in hidden  # 3 responses, below k = 5
    assert {r["label"] for r in inputs["rows"] if r.get("suppressed")} == hidden
    pooled = table["partnership"]["respondent_weighted"]
    assert inputs["rows"][-1]["ci_low"] == pooled["ci_low"]
    assert inputs["bands"] == [{"label": "Concern", "min": 1, "max": 3}]
    text = assert_clean_svg(partner_scores_chart(**inputs))
    for partner in table["partners"]:
        if not partner["suppressed"]:
            assert f"{partner['mean']:.1f}" in text
    weighted = score_chart_inputs(table, language="en", partnership_label="P")["rows"][-1]
    assert weighted == {"label": "P", "mean": table["partnership"]["partner_weighted"]["mean"],
                        "n": table["partnership"]["n"], "overall": True}


def test_heatmap_from_results(results):
    heat = results["heatmap"]
    inputs = heatmap_chart_inputs(heat, language="id", partnership_label="Kemitraan")
    assert inputs["col_labels"] == ["Kesetaraan", "Transparansi"]
    assert inputs["matrix"] == [*heat["mean"], heat["partnership"]]
    assert inputs["total_row"] is True
    fig = heatmap_chart(**inputs, suppressed_label="tersembunyi")
    texts = _cell_texts(fig)
    hidden_cells = sum(v is None for row in heat["mean"] for v in row)
    assert texts.count("tersembunyi") == hidden_cells > 0
    assert fig.axes[0].get_yticklabels()[-1].get_fontweight() == "bold"
    assert_clean_svg(fig)


def test_likert_from_results(results):
    inputs = likert_chart_inputs(results["distributions"], language="en",
                                 item_ids=["q2", "q0"])
    assert inputs["item_labels"] == ["Statement 2", "Statement 0"]
    assert inputs["points"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    by_id = {d["item_id"]: d for d in results["distributions"]}
    assert inputs["distributions"][1]["counts"] == by_id["q0"]["partnership"]["counts"]
    fig = diverging_likert_chart(**inputs, point_labels=POINT_LABELS, dont_know_label="DK")
    assert_clean_svg(fig)
    ngo = likert_chart_inputs(results["distributions"], language="en", partner_id="ngo")
    assert all(d == {"suppressed": True} for d in ngo["distributions"])
    with pytest.raises(ValueError, match="no partner"):
        likert_chart_inputs(results["distributions"], language="en", partner_id="nobody")
    with pytest.raises(ValueError, match="'fr'"):
        likert_chart_inputs(results["distributions"], language="fr")


def test_rating_matrix_from_results(results):
    entry = results["rating_matrix"][0]
    names = {p["partner_id"]: p["name"] for p in results["response_counts"]["partners"]}
    inputs = rating_matrix_chart_inputs(entry, partners=names)
    ids = list(names)
    for cell in entry["cells"]:
        i, j = ids.index(cell["rater_partner_id"]), ids.index(cell["ratee_partner_id"])
        assert inputs["matrix"][i][j] == (None if cell["suppressed"] else cell["mean"])
    assert any(c["suppressed"] for c in entry["cells"])  # pkm gave only 2 ratings each
    fig = rating_matrix_chart(**inputs, scale_min=1, scale_max=5, suppressed_label="hidden")
    assert _cell_texts(fig).count("\u2014") == len(ids)
    assert_clean_svg(fig)
    with pytest.raises(ValueError, match="does not list"):
        rating_matrix_chart_inputs(entry, partners={"dinas": "Dinas"})


def test_over_time_from_results(results):
    series = results["over_time"]["series"]
    rounds = {r: f"Round {r}" for r in results["over_time"]["meta"]["rounds"]}
    by_dimension = over_time_chart_inputs(series, language="en")
    assert list(by_dimension["series_labels"].values())[:2] == ["Equality", "Transparency"]
    assert len(by_dimension["rows"]) == len(series) * len(rounds)
    assert_clean_svg(over_time_chart(**by_dimension, round_labels=rounds, scale_min=1,
                                     scale_max=5))
    by_partner = over_time_chart_inputs(series, language="en", dimension="eq")
    assert by_partner["series_labels"] == {"dinas": "Dinas Kesehatan", "pkm": "Puskesmas",
                                           "ngo": "Yayasan", "pt": "PT Farmasi"}
    fig = over_time_chart(**by_partner, round_labels=rounds, scale_min=1, scale_max=5)
    legend = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert f"Yayasan: {DEFAULT_LABELS['suppressed']}" in legend  # hidden in every round
    with pytest.raises(ValueError, match="no dimension"):
        over_time_chart_inputs(series, language="en", dimension="nope")


def test_adapters_reject_what_one_chart_cannot_show():
    with pytest.raises(ValueError, match="different scales"):
        heatmap_chart_inputs({"labels": [], "names": [], "mean": [], "n": [],
                              "scale_min": None, "scale_max": None}, language="id")
    mixed = [{"item_id": "a", "label": "A", "values": [1.0, 2.0, 3.0],
              "partnership": {"counts": [1, 1, 1], "dont_know": 0, "suppressed": False}},
             {"item_id": "b", "label": "B", "values": [1.0, 2.0, 3.0, 4.0],
              "partnership": {"counts": [1, 1, 1, 1], "dont_know": 0, "suppressed": False}}]
    with pytest.raises(ValueError, match="another scale"):
        likert_chart_inputs(mixed, language="id")
    with pytest.raises(ValueError, match="lacks"):
        heatmap_chart_inputs({"labels": []}, language="id")
    with pytest.raises(ValueError, match="partnership must be"):
        score_chart_inputs({"scale_min": 1, "scale_max": 5, "partners": [],
                            "partnership": {"suppressed": False}}, language="id",
                           partnership_label="P", partnership="median")


# --------------------------------------------------------------------------- screens


def _smallest_text_points(fig) -> float:
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize")
                                                    and hasattr(a, "get_text"))
             if t.get_text().strip() and t.get_visible()]
    return min(sizes)


@pytest.mark.parametrize("screen", ["page", "slide", "phone"])
def test_each_screen_gets_its_size_and_text_that_reads_at_14_px(screen):
    """Slides are 16:9 and phones narrow and tall; the smallest text, shown at the size the
    slide (960 CSS px) and the phone (about 330 px) give the chart, is at least 14 px."""
    from analysis.charts import SCREENS

    rows = [{"label": f"Mitra {i}", "mean": 3.0 + i / 10, "ci_low": 2.5, "ci_high": 3.8,
             "n": 10 + i} for i in range(5)]
    fig = partner_scores_chart(rows, scale_min=1, scale_max=5, screen=screen)
    width, height = fig.get_size_inches()
    shown_px = {"page": 720, "slide": 960, "phone": 330}[screen]
    smallest_px = _smallest_text_points(fig) * 96 / 72 * shown_px / (width * 96)
    assert width == SCREENS[screen].width
    if screen == "slide":
        assert height == pytest.approx(width * 9 / 16)
    if screen == "phone":
        assert height > width
    if screen != "page":
        assert smallest_px >= 14, smallest_px
    assert partner_scores_chart(rows, scale_min=1, scale_max=5).get_size_inches()[0] == 7.5


def test_an_unknown_screen_is_refused():
    from analysis.charts import screen_of

    with pytest.raises(ValueError, match="screen must be one of"):
        partner_scores_chart([{"label": "A", "mean": 3}], scale_min=1, scale_max=5,
                             screen="tv")
    with pytest.raises(ValueError):
        screen_of(None)
