"""Tests for analysis.language: plain Indonesian and English sentences for every result.

The expected words and cut-offs come from the module's documented rules and their sources
(Field 2013 for epsilon-squared; Romano et al. 2006 for rank-biserial r / Cliff's delta;
George & Mallery 2003 for alpha; LeBreton & Senter 2008 for r_wg(J)); expected numbers are
worked out by hand in the comments, never produced by the module itself.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.language import (
    agreement_sentence,
    change_sentence,
    effect_size_category,
    format_number,
    format_p,
    gap_sentence,
    group_sentence,
    partner_difference_sentence,
    rating_asymmetry_sentence,
    reliability_sentence,
    suppressed_sentence,
    trend_sentence,
)

NAN = float("nan")
TRANSPARENCY = {"id": "Transparansi", "en": "Transparency"}
TOO_FEW = {"en": "too few responses to say", "id": "terlalu sedikit jawaban untuk menyimpulkan"}
SIGNIFICANT = re.compile(r"signif", re.IGNORECASE)
# A decimal written the other language's way: "3.8" in Indonesian, "3,8" in English. Thousands
# groups always have three digits ("2.000" / "2,000"), so one or two digits after the
# separator can only be a decimal.
WRONG_DECIMAL = {"id": re.compile(r"\d\.\d{1,2}(?!\d)"), "en": re.compile(r"\d,\d{1,2}(?!\d)")}


def check_plain(out: Any) -> None:
    """Every sentence: a non-empty str per language, no "significant", decimals per language."""
    assert isinstance(out, dict)
    assert set(out) == {"id", "en"}
    for lang, text in out.items():
        assert isinstance(text, str)
        assert text.strip(), f"empty {lang} sentence"
        assert not SIGNIFICANT.search(text), text
        assert not WRONG_DECIMAL[lang].search(text), f"{lang}: {text}"
        # A large p never turns into "no difference".
        assert "no difference" not in text.lower()
        assert "tidak ada perbedaan" not in text.lower()


def is_too_few(out: dict[str, str]) -> bool:
    return TOO_FEW["en"] in out["en"].lower() and TOO_FEW["id"] in out["id"].lower()


def has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "decimals", "english", "indonesian"),
    [
        (3.8, 1, "3.8", "3,8"),
        (4, 1, "4.0", "4,0"),
        (3.85, 1, "3.9", "3,9"),  # half up by hand
        (2.675, 2, "2.68", "2,68"),  # round() would give 2.67 (binary 2.67499...)
        (0.25, 1, "0.3", "0,3"),  # round() gives 0.2 (half to even)
        (-0.04, 1, "0.0", "0,0"),  # no negative zero
        (-1.25, 1, "-1.3", "-1,3"),  # half away from zero
        (1234.5, 0, "1,235", "1.235"),
        (2000, 0, "2,000", "2.000"),
        (1234567.891, 2, "1,234,567.89", "1.234.567,89"),
    ],
)
def test_format_number_per_language(value, decimals, english, indonesian):
    assert format_number(value, "en", decimals) == english
    assert format_number(value, "id", decimals) == indonesian


def test_format_number_refuses_bad_input():
    with pytest.raises(ValueError, match="lang"):
        format_number(1.0, "fr")
    with pytest.raises(ValueError, match="non-finite"):
        format_number(NAN, "en")
    with pytest.raises(ValueError, match="decimals"):
        format_number(1.0, "en", -1)


@pytest.mark.parametrize(
    ("p", "english", "indonesian"),
    [
        (0.0, "p < 0.001", "p < 0,001"),
        (0.00099, "p < 0.001", "p < 0,001"),
        (0.001, "p = 0.001", "p = 0,001"),
        (0.0042, "p = 0.004", "p = 0,004"),
        (0.00996, "p = 0.010", "p = 0,010"),
        (0.01, "p = 0.01", "p = 0,01"),
        (0.049, "p = 0.05", "p = 0,05"),
        (0.47, "p = 0.47", "p = 0,47"),
        (1.0, "p = 1.00", "p = 1,00"),
    ],
)
def test_format_p(p, english, indonesian):
    assert format_p(p, "en") == english
    assert format_p(p, "id") == indonesian


@pytest.mark.parametrize("p", [-0.01, 1.01, NAN])
def test_format_p_refuses_values_outside_0_1(p):
    with pytest.raises(ValueError, match="p must be in"):
        format_p(p, "en")


# --------------------------------------------------------------------------- effect sizes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "negligible"),
        (0.0099, "negligible"),
        (0.01, "small"),  # Field (2013): 0.01 <= ES < 0.06 small
        (0.0599, "small"),
        (0.06, "medium"),
        (0.1399, "medium"),
        (0.14, "large"),  # ES >= 0.14 large
        (0.9, "large"),
    ],
)
def test_epsilon_squared_cutoffs_field_2013(value, expected):
    assert effect_size_category(value, "epsilon_squared") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "negligible"),
        (0.1469, "negligible"),
        (0.147, "small"),  # Romano et al. (2006): |d| < .147 negligible
        (-0.147, "small"),
        (0.3299, "small"),
        (0.33, "medium"),
        (-0.4739, "medium"),
        (0.474, "large"),
        (-1.0, "large"),
    ],
)
def test_rank_biserial_cutoffs_romano_2006(value, expected):
    assert effect_size_category(value, "rank_biserial") == expected
    assert effect_size_category(value, "cliffs_delta") == expected


def test_effect_size_category_refuses_bad_input():
    with pytest.raises(ValueError, match="effect size name"):
        effect_size_category(0.2, "cohens_d")
    with pytest.raises(ValueError, match="NaN"):
        effect_size_category(NAN, "rank_biserial")
    with pytest.raises(ValueError, match="negative"):
        effect_size_category(-0.1, "epsilon_squared")


# --------------------------------------------------------------------------- group


def describe_row(**changes: Any) -> dict[str, Any]:
    row = {
        "n": 42,
        "mean": 3.82,
        "sd": 0.7,
        "median": 4.0,
        "share_favourable": 0.714,
        "ci_low": 3.51,
        "ci_high": 4.07,
        "ci_method": "bca",
    }
    row.update(changes)
    return row


STRENGTH = {"id": "kekuatan", "label": {"id": "Kekuatan", "en": "Strength"}, "min": 4, "max": 5}


def test_group_sentence_typical_in_both_languages():
    out = group_sentence(describe_row(), TRANSPARENCY, scale_min=1, scale_max=5)
    check_plain(out)
    assert out["en"].startswith("Transparency scores 3.8 out of 5 (95% CI 3.5 to 4.1, n = 42)")
    assert "71% of respondents" in out["en"]
    assert out["id"].startswith("Transparansi mendapat skor 3,8 dari 5")
    assert "3,5 sampai 4,1" in out["id"] and "n = 42" in out["id"] and "71% responden" in out["id"]


def test_group_sentence_names_the_band_verbatim_and_flags_an_interval_outside_it():
    inside = group_sentence(describe_row(mean=4.5, ci_low=4.2, ci_high=4.7), TRANSPARENCY, STRENGTH)
    check_plain(inside)
    assert "\u201cStrength\u201d band" in inside["en"]
    assert "kategori \u201cKekuatan\u201d" in inside["id"]
    assert "neighbouring" not in inside["en"]
    crossing = group_sentence(
        describe_row(mean=4.1, ci_low=3.7, ci_high=4.4), TRANSPARENCY, STRENGTH
    )
    assert "neighbouring band" in crossing["en"]
    assert "kategori di sebelahnya" in crossing["id"]


def test_group_sentence_takes_band_and_scale_from_the_row():
    row = describe_row(band=STRENGTH, scale_min=0, scale_max=4, mean=3.2, ci_low=2.9, ci_high=3.5)
    out = group_sentence(row, TRANSPARENCY)
    assert "on a scale of 0 to 4" in out["en"] and "pada skala 0 sampai 4" in out["id"]
    assert "Strength" in out["en"]


def test_group_sentence_without_interval_says_too_few_to_judge_precision():
    out = group_sentence(describe_row(n=2, ci_low=NAN, ci_high=NAN, ci_method="none"), TRANSPARENCY)
    check_plain(out)
    assert "too few responses to say how precise" in out["en"]
    assert "terlalu sedikit jawaban untuk menyimpulkan seberapa tepat" in out["id"]
    assert "CI" not in out["en"]


def test_group_sentence_all_same_answers_gives_no_zero_width_interval():
    out = group_sentence(
        describe_row(n=6, mean=4.0, ci_low=4.0, ci_high=4.0, ci_method="degenerate"), TRANSPARENCY
    )
    check_plain(out)
    assert "everyone gave the same score" in out["en"]
    assert "semua responden memberi skor yang sama" in out["id"]
    assert "4.0 to 4.0" not in out["en"]


@pytest.mark.parametrize("row", [describe_row(n=0, mean=NAN), describe_row(mean=None)])
def test_group_sentence_without_data_is_too_few_and_shows_no_number(row):
    out = group_sentence(row, TRANSPARENCY)
    check_plain(out)
    assert is_too_few(out)
    assert not has_digit(out["en"]) and not has_digit(out["id"])


def test_group_sentence_accepts_a_series_and_does_not_change_it():
    row = pd.Series(describe_row())
    before = row.copy()
    assert group_sentence(row, TRANSPARENCY) == group_sentence(describe_row(), TRANSPARENCY)
    pd.testing.assert_series_equal(row, before)


def test_label_falls_back_to_the_other_language():
    only_en = group_sentence(describe_row(), {"en": "Transparency"})
    assert only_en["id"].startswith("Transparency mendapat skor")
    empty_id = group_sentence(describe_row(), {"id": "", "en": "Transparency"})
    assert empty_id["id"].startswith("Transparency ")
    only_id = group_sentence(describe_row(), {"id": "Transparansi"})
    assert only_id["en"].startswith("Transparansi scores")


@pytest.mark.parametrize(
    ("label", "error"),
    [({}, ValueError), ({"id": "", "en": ""}, ValueError), (3, TypeError), ({"en": 3}, TypeError)],
)
def test_bad_labels_are_refused(label, error):
    with pytest.raises(error):
        group_sentence(describe_row(), label)


def test_missing_columns_and_bad_rows_are_refused():
    with pytest.raises(ValueError, match="'mean'"):
        group_sentence({"n": 3}, TRANSPARENCY)
    with pytest.raises(TypeError, match="dict or a pandas Series"):
        group_sentence([42, 3.8], TRANSPARENCY)
    with pytest.raises(TypeError, match="mean must be a number"):
        group_sentence(describe_row(mean="3.8"), TRANSPARENCY)


# --------------------------------------------------------------------------- partners


NAMES = {1: "Dinas Kesehatan", 2: "Puskesmas <Maju> & Sehat", 3: "Yayasan Anak Sehat"}
MEANS = {1: 4.21, 2: 3.6, 3: 3.02}


def compare_row(**changes: Any) -> dict[str, Any]:
    row = {
        "dimension": "transparansi",
        "test": "kruskal_wallis",
        "n_groups": 3,
        "groups": (1, 2, 3),
        "excluded": (),
        "n": 42,
        "statistic": 8.6,
        "df": 2.0,
        "method": "chi2",
        "p_value": 0.004,
        "effect_size": 0.21,
        "effect_size_name": "epsilon_squared",
        "p_adjusted": 0.012,
        "reason": None,
    }
    row.update(changes)
    return row


def test_partner_difference_names_highest_and_lowest_with_size_n_and_p():
    out = partner_difference_sentence(compare_row(), MEANS, TRANSPARENCY, NAMES)
    check_plain(out)
    en, ind = out["en"], out["id"]
    assert en.startswith(
        "Partners see Transparency differently: Dinas Kesehatan scores highest (4.2)"
    )
    assert "Yayasan Anak Sehat lowest (3.0), 1.2 points apart (n = 42 from 3 partners)" in en
    assert "large difference" in en and "rarely arise by chance" in en
    assert "p = 0.01, adjusted for multiple tests" in en  # p_adjusted 0.012, not p_value 0.004
    assert ind.startswith("Para mitra menilai Transparansi secara berbeda: Dinas Kesehatan")
    assert "(4,2)" in ind and "(3,0)" in ind and "selisih 1,2 poin" in ind
    assert "tergolong besar" in ind and "jarang muncul hanya karena kebetulan" in ind
    assert "p = 0,01, sudah dikoreksi untuk uji berganda" in ind


def test_partner_difference_large_p_could_easily_be_chance():
    out = partner_difference_sentence(
        compare_row(p_value=0.31, p_adjusted=0.62, effect_size=0.08), MEANS, TRANSPARENCY, NAMES
    )
    check_plain(out)
    assert "could easily be chance (p = 0.62" in out["en"]
    assert "bisa saja hanya kebetulan (p = 0,62" in out["id"]
    assert "medium difference" in out["en"] and "tergolong sedang" in out["id"]
    assert "see Transparency differently" not in out["en"]


def test_partner_difference_weak_evidence_might_be_chance():
    out = partner_difference_sentence(
        compare_row(p_adjusted=0.07, effect_size=0.03), MEANS, TRANSPARENCY, NAMES
    )
    check_plain(out)
    assert out["en"].startswith("Partners may see Transparency somewhat differently")
    assert "might be chance (p = 0.07" in out["en"]
    assert "masih mungkin hanya kebetulan (p = 0,07" in out["id"]
    assert "small difference" in out["en"] and "tergolong kecil" in out["id"]


def test_partner_difference_small_p_with_tiny_effect_is_small_in_practice():
    row = compare_row(n=3000, p_value=1e-5, p_adjusted=4e-5, effect_size=0.004)
    out = partner_difference_sentence(row, {1: 3.95, 2: 4.0, 3: 4.1}, TRANSPARENCY, NAMES)
    check_plain(out)
    assert "very small difference" in out["en"] and "small in practice" in out["en"]
    assert "tergolong sangat kecil" in out["id"] and "dalam praktik perbedaannya kecil" in out["id"]
    assert "p < 0.001" in out["en"] and "p < 0,001" in out["id"]
    assert "n = 3,000" in out["en"] and "n = 3.000" in out["id"]


@pytest.mark.parametrize(
    ("effect", "english", "indonesian"),
    [
        (0.0099, "very small difference", "tergolong sangat kecil"),
        (0.01, "a small difference", "tergolong kecil"),
        (0.06, "medium difference", "tergolong sedang"),
        (0.14, "large difference", "tergolong besar"),
    ],
)
def test_partner_difference_epsilon_squared_words_at_the_cutoffs(effect, english, indonesian):
    out = partner_difference_sentence(compare_row(effect_size=effect), MEANS, TRANSPARENCY, NAMES)
    assert english in out["en"] and indonesian in out["id"]


@pytest.mark.parametrize(
    ("r", "english"),
    [(-0.1469, "very small"), (0.147, "a small"), (-0.33, "medium"), (0.474, "large")],
)
def test_partner_difference_two_partners_uses_rank_biserial_cutoffs(r, english):
    row = compare_row(
        test="mann_whitney",
        groups=(1, 3),
        n_groups=2,
        effect_size=r,
        effect_size_name="rank_biserial",
        n=14,
    )
    out = partner_difference_sentence(row, MEANS, TRANSPARENCY, NAMES)
    check_plain(out)
    assert f"{english} difference" in out["en"]
    # Two partners: "A scores 1.2 points higher than B", highest named first whatever r's sign.
    assert (
        "Dinas Kesehatan scores 1.2 points higher than Yayasan Anak Sehat (4.2 against 3.0"
        in out["en"]
    )
    assert "skor Dinas Kesehatan 1,2 poin lebih tinggi daripada Yayasan Anak Sehat" in out["id"]


def test_partner_names_are_inserted_verbatim():
    means = {1: 3.0, 2: 4.4, 3: 3.5}
    out = partner_difference_sentence(compare_row(), means, TRANSPARENCY, NAMES)
    assert "Puskesmas <Maju> & Sehat scores highest" in out["en"]
    assert "Puskesmas <Maju> & Sehat memberi skor tertinggi" in out["id"]
    assert "&amp;" not in out["en"] and "&lt;" not in out["id"]


def test_partner_difference_never_names_an_excluded_partner():
    # Partner 4 had too few answers to be compared; its (extreme) mean must not be named.
    row = compare_row(excluded=(4,))
    out = partner_difference_sentence(row, {**MEANS, 4: 1.0}, TRANSPARENCY, {**NAMES, 4: "Kecil"})
    check_plain(out)
    assert "Kecil" not in out["en"] and "Kecil" not in out["id"]
    assert "1 partner with too few responses was left out" in out["en"]
    assert "1 mitra dengan jawaban terlalu sedikit tidak diikutkan" in out["id"]


def test_partner_difference_reads_a_partner_means_frame_for_the_rows_dimension():
    frame = pd.DataFrame(
        {
            "dimension": ["transparansi"] * 3 + ["kesetaraan"] * 3,
            "partner_id": [1, 2, 3, 1, 2, 3],
            "n": [14] * 6,
            "mean": [4.21, 3.6, 3.02, 1.0, 5.0, 3.0],
        }
    )
    out = partner_difference_sentence(compare_row(), frame, TRANSPARENCY, NAMES)
    assert "Dinas Kesehatan scores highest (4.2)" in out["en"]
    with pytest.raises(ValueError, match="several means for one partner"):
        partner_difference_sentence(compare_row(), frame.drop(columns="dimension"), TRANSPARENCY)


def test_partner_difference_refuses_means_missing_a_compared_partner():
    with pytest.raises(ValueError, match="no mean for partners \\[3\\]"):
        partner_difference_sentence(compare_row(), {1: 4.0, 2: 3.0}, TRANSPARENCY, NAMES)


@pytest.mark.parametrize(
    "changes",
    [
        {
            "reason": "fewer than two groups with at least 5 values",
            "p_value": NAN,
            "p_adjusted": NAN,
            "effect_size": NAN,
            "test": None,
            "groups": (1,),
            "n_groups": 1,
        },
        {"p_value": NAN, "p_adjusted": NAN},
        {"effect_size": NAN},
    ],
)
def test_partner_difference_too_few(changes):
    out = partner_difference_sentence(compare_row(**changes), {}, TRANSPARENCY, NAMES)
    check_plain(out)
    assert is_too_few(out)
    assert not has_digit(out["en"])


def test_partner_difference_identical_values_is_nothing_to_compare():
    row = compare_row(
        reason="all values are identical", p_value=NAN, p_adjusted=NAN, effect_size=NAN
    )
    out = partner_difference_sentence(row, {}, TRANSPARENCY, NAMES)
    check_plain(out)
    assert "nothing to compare" in out["en"] and "tidak ada yang bisa dibandingkan" in out["id"]


def test_unadjusted_p_is_not_called_adjusted():
    row = compare_row()
    del row["p_adjusted"]
    out = partner_difference_sentence(row, MEANS, TRANSPARENCY, NAMES)
    assert "(p = 0.004)" in out["en"] and "adjusted" not in out["en"]
    assert "(p = 0,004)" in out["id"] and "dikoreksi" not in out["id"]


# --------------------------------------------------------------------------- gaps


def gap_row(**changes: Any) -> dict[str, Any]:
    row = {
        "dimension": "rasa_memiliki",
        "n_groups": 3,
        "groups": (1, 2, 3),
        "excluded": (),
        "n": 30,
        "high_group": 1,
        "high_mean": 4.4,
        "low_group": 3,
        "low_mean": 3.1,
        "gap": 1.3,
        "mean_abs_gap": 0.9,
        "null_mean": 0.52,
        "n_permutations": 999,
        "exact": False,
        "p_value": 0.003,
        "p_adjusted": 0.009,
        "reason": None,
    }
    row.update(changes)
    return row


OWNERSHIP = {"id": "Rasa memiliki", "en": "Ownership"}


def test_gap_sentence_typical():
    out = gap_sentence(gap_row(), OWNERSHIP, NAMES)
    check_plain(out)
    assert (
        "between Dinas Kesehatan (4.4) and Yayasan Anak Sehat (3.1): 1.3 points "
        "(n = 30 from 3 partners)" in out["en"]
    )
    assert "gap of about 0.5 points" in out["en"]
    assert "rarely arise by chance alone (p = 0.009, adjusted" in out["en"]
    assert "antara Dinas Kesehatan (4,4) dan Yayasan Anak Sehat (3,1): 1,3 poin" in out["id"]
    assert "selisih sekitar 0,5 poin" in out["id"]


def test_gap_sentence_large_p_and_no_null():
    out = gap_sentence(gap_row(p_value=0.4, p_adjusted=0.8, null_mean=NAN), OWNERSHIP, NAMES)
    check_plain(out)
    assert "could easily be chance (p = 0.80" in out["en"]
    assert "bisa saja hanya kebetulan" in out["id"]
    assert "chance alone would give" not in out["en"]


def test_gap_sentence_small_in_practice_depends_on_the_scale():
    # 0.3 points: below a tenth of a 1-5 range (0.4), above a tenth of 1-2 (0.1).
    row = gap_row(n=3000, high_mean=3.8, low_mean=3.5, gap=0.3, p_value=0.001, p_adjusted=0.004)
    out = gap_sentence(row, OWNERSHIP, NAMES, scale_min=1, scale_max=5)
    assert "small in practice" in out["en"] and "dalam praktik selisihnya kecil" in out["id"]
    narrow = gap_sentence(row, OWNERSHIP, NAMES, scale_min=1, scale_max=2)
    assert "small in practice" not in narrow["en"]


def test_gap_sentence_too_few():
    row = gap_row(
        reason="fewer than two partners with at least 5 values",
        high_group=None,
        high_mean=NAN,
        low_group=None,
        low_mean=NAN,
        gap=NAN,
        p_value=NAN,
        p_adjusted=NAN,
    )
    out = gap_sentence(row, OWNERSHIP, NAMES)
    check_plain(out)
    assert is_too_few(out) and not has_digit(out["en"])


# --------------------------------------------------------------------------- rounds


EQUALITY = {"id": "Kesetaraan", "en": "Equality"}


def rounds_row(**changes: Any) -> dict[str, Any]:
    row = {
        "dimension": "kesetaraan",
        "round_from": 1,
        "round_to": 2,
        "n_from": 20,
        "n_to": 25,
        "mean_from": 3.42,
        "mean_to": 3.86,
        "mean_difference": 0.44,
        "u": 340.0,
        "method": "asymptotic",
        "p_value": 0.004,
        "rank_biserial": 0.36,
        "p_adjusted": 0.016,
        "reason": None,
    }
    row.update(changes)
    return row


def test_change_sentence_rise():
    out = change_sentence(rounds_row(), EQUALITY)
    check_plain(out)
    assert out["en"].startswith(
        "Equality rose by 0.4 points compared with the previous round, from 3.4 to 3.9 "
        "(n = 20, then 25)."
    )
    assert "medium change" in out["en"] and "(p = 0.02, adjusted for multiple tests)" in out["en"]
    assert out["id"].startswith(
        "Kesetaraan naik 0,4 poin dibanding putaran sebelumnya, dari 3,4 menjadi 3,9"
    )
    assert "tergolong sedang" in out["id"] and "p = 0,02" in out["id"]


def test_change_sentence_fall_with_large_p():
    row = rounds_row(
        mean_from=3.9,
        mean_to=3.6,
        mean_difference=-0.3,
        rank_biserial=-0.2,
        p_value=0.3,
        p_adjusted=0.9,
    )
    out = change_sentence(row, EQUALITY)
    check_plain(out)
    assert "Equality fell by 0.3 points" in out["en"] and "could easily be chance" in out["en"]
    assert "Kesetaraan turun 0,3 poin" in out["id"] and "bisa saja hanya kebetulan" in out["id"]
    assert "small change" in out["en"]


def test_change_sentence_tiny_change_with_small_p():
    row = rounds_row(
        n_from=2000,
        n_to=2500,
        mean_from=3.62,
        mean_to=3.64,
        mean_difference=0.02,
        rank_biserial=0.05,
        p_value=0.0004,
        p_adjusted=0.0016,
    )
    out = change_sentence(row, EQUALITY)
    check_plain(out)
    assert "barely changed" in out["en"] and "small in practice" in out["en"]
    assert "hampir tidak berubah" in out["id"] and "dalam praktik perubahannya kecil" in out["id"]


@pytest.mark.parametrize(
    "changes",
    [
        {
            "reason": "a round has fewer than 5 values",
            "mean_from": NAN,
            "mean_to": NAN,
            "mean_difference": NAN,
            "rank_biserial": NAN,
            "p_value": NAN,
            "p_adjusted": NAN,
            "n_from": 3,
        },
        {"p_adjusted": NAN},
    ],
)
def test_change_sentence_too_few(changes):
    out = change_sentence(rounds_row(**changes), EQUALITY)
    check_plain(out)
    assert is_too_few(out) and not has_digit(out["id"])


def trend_row(**changes: Any) -> dict[str, Any]:
    row = {
        "dimension": "manfaat",
        "n_rounds": 3,
        "rounds": (1, 2, 3),
        "excluded": (),
        "n": 60,
        "j": 820.0,
        "j_expected": 600.0,
        "j_variance": 5000.0,
        "z": 3.1,
        "p_value": 0.002,
        "tau_b": 0.25,
        "p_adjusted": 0.004,
        "reason": None,
    }
    row.update(changes)
    return row


BENEFIT = {"id": "Manfaat bersama", "en": "Shared benefit"}


def test_trend_sentence_rising():
    out = trend_sentence(trend_row(), BENEFIT)
    check_plain(out)
    # delta = (820 - 600) / 600 = 0.367: medium (0.33 <= |d| < 0.474).
    assert out["en"].startswith("Shared benefit has tended to rise over 3 rounds (n = 60).")
    assert "medium trend" in out["en"] and "p = 0.004" in out["en"]
    assert out["id"].startswith("Manfaat bersama cenderung naik selama 3 putaran (n = 60).")
    assert "tergolong sedang" in out["id"]


@pytest.mark.parametrize(
    ("j", "english"),
    # j_expected 1000: delta = j/1000 - 1, against Romano's 0.147 / 0.33 / 0.474.
    [(1146.0, "very small"), (1147.0, "a small"), (670.0, "medium"), (526.0, "large")],
)
def test_trend_size_from_jonckheere_delta_at_the_cutoffs(j, english):
    out = trend_sentence(trend_row(j=j, j_expected=1000.0), BENEFIT)
    assert f"{english} trend" in out["en"]


def test_trend_sentence_falling_weak_and_large_p():
    weak = trend_sentence(trend_row(j=400.0, p_value=0.03, p_adjusted=0.08), BENEFIT)
    check_plain(weak)
    assert weak["en"].startswith("Shared benefit may have tended to fall")
    assert "mungkin cenderung turun" in weak["id"]
    loose = trend_sentence(
        trend_row(j=700.0, p_value=0.3, p_adjusted=0.6, excluded=(4, 5)), BENEFIT
    )
    check_plain(loose)
    assert "drifts upwards" in loose["en"] and "could easily be chance" in loose["en"]
    assert "2 rounds with too few responses were left out" in loose["en"]
    assert "2 putaran dengan jawaban terlalu sedikit tidak diikutkan" in loose["id"]


def test_trend_sentence_too_few_and_identical():
    row = trend_row(
        reason="fewer than three rounds with at least 5 values; use compare_rounds",
        n_rounds=2,
        j=NAN,
        j_expected=NAN,
        p_value=NAN,
        p_adjusted=NAN,
    )
    out = trend_sentence(row, BENEFIT)
    check_plain(out)
    assert is_too_few(out)
    same = trend_sentence(
        trend_row(reason="all values are identical", p_value=NAN, p_adjusted=NAN), BENEFIT
    )
    assert "nothing to compare" in same["en"]


def test_trend_sentence_refuses_an_impossible_j():
    with pytest.raises(ValueError, match="2 \\* j_expected"):
        trend_sentence(trend_row(j=1500.0, j_expected=600.0), BENEFIT)


# --------------------------------------------------------------------------- agreement


def agreement_row(**changes: Any) -> dict[str, Any]:
    row = {
        "round_id": 1,
        "partner_id": 3,
        "dimension": "rasa_memiliki",
        "n": 9,
        "n_items": 4,
        "scale_points": 5,
        "mean_item_variance": 0.6,
        "rwg_j": 0.8,
        "rwg_j_lindell": 0.7,
        "share_low": 0.1,
        "share_high": 0.6,
        "split": False,
        "reason": None,
    }
    row.update(changes)
    return row


OWNERSHIP_LOWER = {"id": "rasa memiliki", "en": "ownership"}


def test_agreement_split_into_two_camps():
    row = agreement_row(rwg_j=0.62, share_low=0.33, share_high=0.44, split=True)
    out = agreement_sentence(row, OWNERSHIP_LOWER, "Yayasan Anak Sehat")
    check_plain(out)
    assert out["en"] == (
        "Yayasan Anak Sehat is split on ownership: some members rate it high and others low "
        "(n = 9)."
    )
    assert "Yayasan Anak Sehat" in out["id"] and "terbelah" in out["id"]


def test_agreement_split_by_low_rwg_is_a_wide_spread():
    out = agreement_sentence(agreement_row(rwg_j=0.35, split=True), OWNERSHIP_LOWER, "Puskesmas")
    check_plain(out)
    assert "very differently from one another" in out["en"] and "0.35" in out["en"]
    assert "sangat beragam" in out["id"] and "0,35" in out["id"]
    assert "some members rate it high" not in out["en"]


@pytest.mark.parametrize(
    ("rwg", "english", "indonesian"),
    # LeBreton & Senter (2008): .00-.30 lack, .31-.50 weak, .51-.70 moderate, .71-.90 strong,
    # .91-1.00 very strong.
    [
        (0.30, "do not agree", "tidak sepakat"),
        (0.31, "agree only weakly", "lemah"),
        (0.50, "agree only weakly", "lemah"),
        (0.51, "partly agree", "cukup sepakat"),
        (0.70, "partly agree", "cukup sepakat"),
        (0.71, "largely agree", "umumnya sepakat"),
        (0.90, "largely agree", "umumnya sepakat"),
        (0.91, "agree very closely", "sangat sepakat"),
    ],
)
def test_agreement_bands_lebreton_senter(rwg, english, indonesian):
    out = agreement_sentence(agreement_row(rwg_j=rwg, split=False), OWNERSHIP_LOWER, "Puskesmas")
    check_plain(out)
    assert english in out["en"] and indonesian in out["id"]


@pytest.mark.parametrize(
    "changes",
    [
        {"split": pd.NA, "rwg_j": NAN, "reason": "fewer than 5 respondents", "n": 3},
        {"split": None, "rwg_j": NAN},
    ],
)
def test_agreement_too_few(changes):
    out = agreement_sentence(pd.Series(agreement_row(**changes)), OWNERSHIP_LOWER, "Puskesmas")
    check_plain(out)
    assert is_too_few(out) and not has_digit(out["en"])


# --------------------------------------------------------------------------- reliability


def reliability_row(**changes: Any) -> dict[str, Any]:
    row = {
        "dimension": "transparansi",
        "alpha": 0.812,
        "ci_low": 0.76,
        "ci_high": 0.86,
        "n": 120,
        "n_complete": 110,
        "k": 5,
        "items_raise_alpha": [],
        "items_negative_r": [],
        "reason": None,
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("alpha", "english", "indonesian"),
    # George & Mallery (2003), two lowest bands merged.
    [
        (0.5999, "do not hang together well", "tidak konsisten"),
        (0.6, "hang together only weakly", "kurang konsisten"),
        (0.6999, "hang together only weakly", "kurang konsisten"),
        (0.7, "hang together acceptably", "cukup konsisten"),
        (0.8, "hang together well", "5 pertanyaan tentang Transparansi konsisten"),
        (0.9, "hang together very well", "sangat konsisten"),
    ],
)
def test_reliability_words_at_the_cutoffs(alpha, english, indonesian):
    row = reliability_row(alpha=alpha, ci_low=alpha - 0.05, ci_high=min(alpha + 0.05, 0.99))
    out = reliability_sentence(row, TRANSPARENCY)
    check_plain(out)
    assert english in out["en"] and indonesian in out["id"]
    assert "uncertain" not in out["en"]


def test_reliability_typical_numbers_and_items():
    row = reliability_row(items_raise_alpha=["tr_2", "tr_4"], items_negative_r=["tr_4"])
    out = reliability_sentence(
        row, TRANSPARENCY, item_labels={"tr_4": {"id": "Info telat", "en": "Late info"}}
    )
    check_plain(out)
    assert "Cronbach's alpha 0.81, 95% CI 0.76 to 0.86, n = 120" in out["en"]
    assert "Alpha Cronbach 0,81; selang kepercayaan 95%: 0,76 sampai 0,86; n = 120" in out["id"]
    assert "\u201cLate info\u201d runs against the other questions" in out["en"]
    assert "\u201ctr_2\u201d lowers the consistency" in out["en"]
    assert "Pertanyaan \u201cInfo telat\u201d berlawanan arah" in out["id"]
    assert "Pertanyaan \u201ctr_2\u201d menurunkan konsistensi" in out["id"]
    # tr_4 is named once (as running against the others), not again as lowering alpha.
    assert out["en"].count("Late info") == 1


def test_reliability_wide_interval_is_uncertain():
    out = reliability_sentence(
        reliability_row(alpha=0.85, ci_low=0.62, ci_high=0.95, n=12), TRANSPARENCY
    )
    assert "uncertain" in out["en"] and "belum pasti" in out["id"]


def test_reliability_reasons():
    one = reliability_sentence(
        reliability_row(alpha=NAN, k=1, reason="fewer_than_2_items"), TRANSPARENCY
    )
    assert "only one question" in one["en"] and "hanya memiliki satu pertanyaan" in one["id"]
    flat = reliability_sentence(
        reliability_row(alpha=NAN, reason="no_total_variance"), TRANSPARENCY
    )
    assert "barely vary" in flat["en"] and "tidak bervariasi" in flat["id"]
    few = reliability_sentence(
        reliability_row(alpha=NAN, reason="too_few_complete_respondents"), TRANSPARENCY
    )
    nan = reliability_sentence(reliability_row(alpha=NAN), TRANSPARENCY)
    for out in (one, flat, few, nan):
        check_plain(out)
    assert is_too_few(few) and is_too_few(nan)


# --------------------------------------------------------------------------- ratings


COMMITMENT = {"id": "Memenuhi komitmen", "en": "Delivers on its commitments"}


def rating_row(**changes: Any) -> dict[str, Any]:
    row = {
        "rater": 1,
        "ratee": 3,
        "mean_ab": 4.25,
        "mean_ba": 3.1,
        "n_ab": 8,
        "n_ba": 6,
        "difference": 1.15,
    }
    row.update(changes)
    return row


def test_rating_asymmetry_without_a_test_is_a_prompt_not_a_finding():
    out = rating_asymmetry_sentence(rating_row(), COMMITMENT, NAMES)
    check_plain(out)
    assert out["en"].startswith(
        "Dinas Kesehatan rates Yayasan Anak Sehat 4.3 on "
        "\u201cDelivers on its commitments\u201d (n = 8), "
        "while Yayasan Anak Sehat rates Dinas Kesehatan 3.1 (n = 6): a gap of 1.2 points."
    )
    assert "No test was run" in out["en"]
    assert (
        "Dinas Kesehatan memberi Yayasan Anak Sehat nilai 4,3 untuk \u201cMemenuhi komitmen\u201d"
        in out["id"]
    )
    assert "belum diuji" in out["id"]


def test_rating_asymmetry_with_a_test():
    row = rating_row(n_ab=80, n_ba=60, mean_ab=4.0, mean_ba=3.7, difference=4.0 - 3.7, p_value=0.01)
    out = rating_asymmetry_sentence(row, COMMITMENT, NAMES)
    check_plain(out)
    assert "rarely arise by chance alone (p = 0.01), but it is small in practice" in out["en"]
    loose = rating_asymmetry_sentence(rating_row(p_value=0.5), COMMITMENT, NAMES)
    assert "could easily be chance (p = 0.50)" in loose["en"]


def test_rating_asymmetry_about_the_same_and_too_few():
    same = rating_asymmetry_sentence(
        rating_row(mean_ab=4.0, mean_ba=4.02, difference=-0.02), COMMITMENT, NAMES
    )
    check_plain(same)
    assert "about the same" in same["en"] and "hampir sama" in same["id"]
    few = rating_asymmetry_sentence(rating_row(n_ba=4), COMMITMENT, NAMES)
    check_plain(few)
    assert is_too_few(few) and not has_digit(few["en"])
    assert rating_asymmetry_sentence(rating_row(n_ba=4), COMMITMENT, NAMES, min_n=3) != few


def test_rating_asymmetry_refuses_a_difference_with_the_wrong_sign():
    with pytest.raises(ValueError, match="mean_ab - mean_ba"):
        rating_asymmetry_sentence(rating_row(difference=-1.15), COMMITMENT, NAMES)


# --------------------------------------------------------------------------- suppression


def test_suppressed_sentence():
    out = suppressed_sentence(5)
    check_plain(out)
    assert out["en"] == "Fewer than 5 responses: not shown, to protect anonymity."
    assert out["id"].startswith("Kurang dari 5 jawaban: tidak ditampilkan")
    assert "Fewer than 8 " in suppressed_sentence(8)["en"]
    with pytest.raises(TypeError):
        suppressed_sentence(5.0)
    with pytest.raises(ValueError):
        suppressed_sentence(0)


# --------------------------------------------------------------------------- properties

letters = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ <>&'"),
    min_size=1,
    max_size=20,
).filter(
    lambda s: (
        s.strip() and not any(word in s.lower() for word in ("signif", "difference", "perbedaan"))
    )
)
labels = st.fixed_dictionaries({"id": letters, "en": letters})
p_values = st.one_of(st.just(NAN), st.floats(0, 1))
counts = st.integers(0, 5000)
means = st.floats(0, 10)
maybe = st.one_of(st.just(NAN), st.floats(-1, 1))
reasons = st.one_of(st.none(), st.just("fewer than two groups with at least 5 values"))
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(
    n=counts,
    mean=st.one_of(st.just(NAN), means),
    ci=st.tuples(means, means).map(sorted),
    method=st.sampled_from(["bca", "percentile", "degenerate", "none"]),
    share=st.one_of(st.just(NAN), st.floats(0, 1)),
    band=st.one_of(st.none(), st.builds(lambda lab: {"id": "b", "label": lab}, labels)),
    label=labels,
)
def test_property_group(n, mean, ci, method, share, band, label):
    row = {
        "n": n,
        "mean": mean,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "ci_method": method,
        "share_favourable": share,
    }
    out = group_sentence(row, label, band, scale_min=1, scale_max=5)
    check_plain(out)
    if n == 0 or math.isnan(mean):
        assert is_too_few(out)


@FAST
@given(
    k=st.integers(2, 5),
    partner_means=st.lists(means, min_size=5, max_size=5),
    p=p_values,
    adjusted=p_values,
    effect=st.floats(0, 1),
    n=counts,
    reason=reasons,
    label=labels,
    names=st.lists(letters, min_size=5, max_size=5),
)
def test_property_partner_difference(
    k, partner_means, p, adjusted, effect, n, reason, label, names
):
    groups = tuple(range(k))
    name = "epsilon_squared" if k > 2 else "rank_biserial"
    row = {
        "n": n,
        "n_groups": k,
        "groups": groups,
        "excluded": (),
        "p_value": p,
        "p_adjusted": adjusted,
        "effect_size": effect,
        "effect_size_name": name,
        "reason": reason,
    }
    out = partner_difference_sentence(
        row, dict(enumerate(partner_means)), label, dict(enumerate(names))
    )
    check_plain(out)
    if reason is not None or math.isnan(adjusted):
        assert is_too_few(out)


@FAST
@given(
    high=means,
    low=means,
    null=maybe.map(abs),
    p=p_values,
    n=counts,
    reason=reasons,
    label=labels,
    names=st.tuples(letters, letters),
)
def test_property_gap(high, low, null, p, n, reason, label, names):
    high, low = max(high, low), min(high, low)
    row = {
        "n": n,
        "n_groups": 3,
        "high_group": "a",
        "high_mean": high,
        "low_group": "b",
        "low_mean": low,
        "gap": high - low,
        "null_mean": null,
        "p_value": p,
        "reason": reason,
    }
    out = gap_sentence(row, label, {"a": names[0], "b": names[1]})
    check_plain(out)
    if reason is not None or math.isnan(p):
        assert is_too_few(out)


@FAST
@given(
    before=means,
    after=means,
    r=maybe,
    p=p_values,
    n=st.tuples(counts, counts),
    reason=reasons,
    label=labels,
)
def test_property_change(before, after, r, p, n, reason, label):
    row = {
        "n_from": n[0],
        "n_to": n[1],
        "mean_from": before,
        "mean_to": after,
        "mean_difference": after - before,
        "rank_biserial": r,
        "p_value": p,
        "reason": reason,
    }
    out = change_sentence(row, label)
    check_plain(out)
    if reason is not None or math.isnan(p) or math.isnan(r):
        assert is_too_few(out)


@FAST
@given(
    expected=st.floats(1, 1e5),
    share=st.floats(0, 2),
    k=st.integers(3, 6),
    p=p_values,
    n=counts,
    reason=reasons,
    label=labels,
)
def test_property_trend(expected, share, k, p, n, reason, label):
    row = {
        "n": n,
        "n_rounds": k,
        "j": expected * share,
        "j_expected": expected,
        "p_value": p,
        "excluded": (),
        "reason": reason,
    }
    out = trend_sentence(row, label)
    check_plain(out)
    if reason is not None or math.isnan(p):
        assert is_too_few(out)


@FAST
@given(
    rwg=st.one_of(st.just(NAN), st.floats(0, 1)),
    low=st.floats(0, 1),
    high=st.floats(0, 1),
    split=st.sampled_from([True, False, None]),
    n=counts,
    label=labels,
    partner=letters,
)
def test_property_agreement(rwg, low, high, split, n, label, partner):
    row = {"n": n, "rwg_j": rwg, "share_low": low, "share_high": high, "split": split}
    out = agreement_sentence(row, label, partner)
    check_plain(out)
    assert partner in out["en"] and partner in out["id"]
    if split is None or math.isnan(rwg):
        assert is_too_few(out)


@FAST
@given(
    alpha=st.one_of(st.just(NAN), st.floats(-2, 1)),
    ci=st.tuples(maybe, maybe).map(sorted),
    k=st.integers(0, 20),
    n=counts,
    raising=st.lists(st.sampled_from(["q1", "q2", "q3"]), unique=True),
    negative=st.lists(st.sampled_from(["q1", "q2", "q3"]), unique=True),
    reason=st.sampled_from(
        [None, "fewer_than_2_items", "too_few_complete_respondents", "no_total_variance"]
    ),
    label=labels,
)
def test_property_reliability(alpha, ci, k, n, raising, negative, reason, label):
    row = {
        "alpha": alpha,
        "ci_low": ci[0],
        "ci_high": ci[1],
        "n": n,
        "k": k,
        "items_raise_alpha": raising,
        "items_negative_r": negative,
        "reason": reason,
    }
    check_plain(reliability_sentence(row, label))


@FAST
@given(
    ab=means,
    ba=means,
    n=st.tuples(counts, counts),
    p=st.one_of(st.none(), p_values),
    item=labels,
    names=st.tuples(letters, letters),
)
def test_property_rating_asymmetry(ab, ba, n, p, item, names):
    row = {
        "rater": "a",
        "ratee": "b",
        "mean_ab": ab,
        "mean_ba": ba,
        "n_ab": n[0],
        "n_ba": n[1],
        "difference": ab - ba,
    }
    if p is not None:
        row["p_value"] = p
    out = rating_asymmetry_sentence(row, item, {"a": names[0], "b": names[1]})
    check_plain(out)
    if min(n) < 5 or (p is not None and math.isnan(p)):
        assert is_too_few(out)


# ----------------------------------------------------------------------------- one rounding rule


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (3.25, 1, "3.3"), (3.35, 1, "3.4"), (2.675, 2, "2.68"), (-3.25, 1, "-3.3"),
    (-0.04, 1, "0.0"), (0.125, 2, "0.13"), (4.0, 1, "4.0"),
])
def test_round_half_up_is_the_rule_of_format_number(value, decimals, expected):
    from analysis.language import format_number, round_half_up

    assert str(round_half_up(value, decimals)) == expected
    assert format_number(value, "en", decimals) == expected
    assert format_number(value, "id", decimals) == expected.replace(".", ",")


def test_p_value_parts_are_what_format_p_prints():
    from analysis.language import format_p, p_value_parts

    for p in (0.0, 0.0004, 0.001, 0.0042, 0.0095, 0.01, 0.125, 0.5, 1.0):
        relation, value = p_value_parts(p)
        assert format_p(p, "en") == f"p {relation} {value}"
    with pytest.raises(ValueError):
        p_value_parts(1.5)
