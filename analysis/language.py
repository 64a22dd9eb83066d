"""Plain sentences, in Bahasa Indonesia and English, saying what each result means.

Every result on the results page carries one short sentence that a facilitator in a district
office can read aloud: what the number is, how big a difference is, how sure we are. Each
function takes one row of a statistics table (a ``dict`` or a ``pandas.Series``) and returns
``{"id": ..., "en": ...}``. The two texts say the same thing; the Indonesian one is written
as an Indonesian facilitator would say it, not translated word for word.

Wording rules, the same in every function:

- **No "significant".** Neither "significant" nor "signifikan" is ever written: readers take
  it to mean "important". The strength of evidence is said in words from the p-value
  (:data:`P_STRONG`, :data:`P_WEAK`, after Bland 2015 and Sterne & Davey Smith 2001):

  - p < 0.05: "... this large would rarely arise by chance alone" / "... sebesar ini
    jarang muncul hanya karena kebetulan";
  - 0.05 <= p < 0.10: "it might be chance" / "masih mungkin hanya kebetulan";
  - p >= 0.10: "it could easily be chance" / "bisa saja hanya kebetulan".

  A large p never becomes "no difference": it only means the data cannot tell.
- **Size in words, always with n.** Every sentence with a p-value also gives n and the size
  of the effect in words (very small / small / medium / large), from documented cut-offs:
  :data:`EPSILON_SQUARED_CUTOFFS` (Field 2013), :data:`RANK_BISERIAL_CUTOFFS` (Romano et al.
  2006). A small p with a very small effect adds "but it is small in practice".
- **Adjusted p.** When the row has ``p_adjusted`` (Holm across dimensions by default) that
  is the p shown and judged, marked "adjusted for multiple tests"; otherwise ``p_value``.
- **Too few.** A row with a ``reason`` (the test was not run), a NaN p-value, a NaN effect or
  n below what the test needs gives "too few responses to say ..." / "terlalu sedikit
  jawaban untuk menyimpulkan ...", without any number (so no small count is revealed). Two
  reasons that are not about too few answers have their own sentence: all values identical
  (nothing to compare) and a one-question dimension (consistency cannot be checked).
- **Numbers per language.** English: decimal point and thousands comma (3.8, n = 1,234).
  Indonesian: decimal comma and thousands point (3,8, n = 1.234). p-values: "p < 0.001";
  three decimals below 0.01 ("p = 0.004"); otherwise two ("p = 0.01", "p = 0.47").
- **Rounding.** Half away from zero on the shortest decimal form of the number (``repr``),
  as done by hand: 2.675 -> 2.68, 3.85 -> 3.9 (Python's ``round`` would give 2.67 because
  the binary value is below 2.675). This is the project's one rounding rule
  (:func:`round_half_up`): the charts (:mod:`analysis.charts`) and the web app's number
  formatter (``app.results.numbers``) round with it too, so 3.25 reads 3.3 in a sentence, on a
  chart and in a table alike. Scores, intervals, differences and gaps: 1 decimal;
  alpha and agreement indices: 2 decimals; shares: whole per cent. Each number is rounded on
  its own, so a rounded difference can differ by 0.1 from the difference of rounded means.
  Words (size, strength of evidence) are chosen from the unrounded values.
- **Verbatim.** Labels, partner names and item texts are inserted exactly as given (no case
  change, no escaping): the output is plain text and the templates escape it. A label is
  ``{"id": ..., "en": ...}``; a missing or empty language falls back to the other; a plain
  ``str`` is used for both.
- **Small in practice** for differences in scale points (gaps, mutual ratings): below
  :data:`PRACTICAL_SHARE` of the scale range (0.4 points on 1-5), a judgement of this
  project since no benchmark exists for them.
- **No test, no verdict.** A comparison without a p-value (mutual ratings) says that no test
  was run and offers the gap as a prompt for discussion, not a finding.

References
----------
Bland M (2015) An Introduction to Medical Statistics, 4th ed. Oxford University Press, ch. 9.
Sterne JAC, Davey Smith G (2001) Sifting the evidence: what's wrong with significance tests?
BMJ 322:226.
Wasserstein RL, Lazar NA (2016) The ASA statement on p-values. Am Stat 70:129.
Field A (2013) Discovering Statistics Using IBM SPSS Statistics, 4th ed. Sage.
Romano J, Kromrey JD, Coraggio J, Skowronek J (2006) Appropriate statistics for ordinal level
data. Annual meeting of the Florida Association of Institutional Research.
George D, Mallery P (2003) SPSS for Windows Step by Step, 4th ed. Allyn & Bacon.
LeBreton JM, Senter JL (2008) Organ Res Methods 11:815.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.agreement import DEFAULT_SPLIT_SHARE

__all__ = [
    "ALPHA_CUTOFFS",
    "EPSILON_SQUARED_CUTOFFS",
    "LANGUAGES",
    "PRACTICAL_SHARE",
    "P_STRONG",
    "P_WEAK",
    "RANK_BISERIAL_CUTOFFS",
    "RWG_CUTOFFS",
    "agreement_sentence",
    "change_sentence",
    "effect_size_category",
    "format_number",
    "format_p",
    "gap_sentence",
    "group_sentence",
    "meta_perception_sentence",
    "p_method_sentence",
    "partner_difference_sentence",
    "rating_asymmetry_sentence",
    "reliability_choice_sentence",
    "reliability_sentence",
    "suppressed_sentence",
    "trend_sentence",
]

Lang = Literal["id", "en"]
Sentence = dict[str, str]
SizeCategory = Literal["negligible", "small", "medium", "large"]

#: Languages of every sentence, in the order of the returned dict.
LANGUAGES: tuple[Lang, Lang] = ("id", "en")

#: Rank epsilon-squared: below 0.01 very small, then small, medium from 0.06, large from 0.14.
#: Field (2013), the default rules of R ``effectsize::interpret_epsilon_squared``, which carry
#: Cohen's (1988) eta-squared benchmarks over to epsilon-squared.
EPSILON_SQUARED_CUTOFFS = (0.01, 0.06, 0.14)
#: |rank-biserial r| (= |Cliff's delta|): below 0.147 negligible, then small, medium from 0.33,
#: large from 0.474. Romano et al. (2006), the thresholds the project's statistics notes use.
RANK_BISERIAL_CUTOFFS = (0.147, 0.33, 0.474)
#: Cronbach's alpha: below 0.6 poor, 0.6 questionable, 0.7 acceptable, 0.8 good, 0.9
#: excellent. George & Mallery (2003), with their "poor" and "unacceptable" bands merged:
#: both mean "do not read this score on its own".
ALPHA_CUTOFFS = (0.6, 0.7, 0.8, 0.9)
#: r_wg(J) upper edges of LeBreton & Senter's (2008) bands: 0-.30 lack of agreement, .31-.50
#: weak, .51-.70 moderate, .71-.90 strong, .91-1 very strong (an edge value belongs to the
#: lower band, as in their table).
RWG_CUTOFFS = (0.30, 0.50, 0.70, 0.90)
#: p below this: "would rarely arise by chance alone".
P_STRONG = 0.05
#: p below this (and at least P_STRONG): "might be chance"; at or above it: "could easily be
#: chance".
P_WEAK = 0.10
#: A gap (or rating difference) below this share of the scale range is "small in practice"
#: even when unlikely to be chance: 0.4 points on a 1-5 scale, less than half an answer step.
#: A judgement of this project (no published benchmark exists for the gap index).
PRACTICAL_SHARE = 0.10
# Scale assumed for the practical judgement when neither the caller nor the row gives one:
# both bundled questionnaires use 1-5.
_DEFAULT_SCALE = (1.0, 5.0)

_SIZE_WORDS: dict[str, Sentence] = {
    "negligible": {"id": "sangat kecil", "en": "very small"},
    "small": {"id": "kecil", "en": "small"},
    "medium": {"id": "sedang", "en": "medium"},
    "large": {"id": "besar", "en": "large"},
}
_CUTOFFS = {
    "epsilon_squared": EPSILON_SQUARED_CUTOFFS,
    "rank_biserial": RANK_BISERIAL_CUTOFFS,
    "cliffs_delta": RANK_BISERIAL_CUTOFFS,
}
_ADJUSTED: Sentence = {
    "id": ", sudah dikoreksi untuk uji berganda",
    "en": ", adjusted for multiple tests",
}
# (noun, "this large" phrase, "-nya" form) per kind of result, for _size_and_evidence.
_NOUNS: dict[str, dict[str, tuple[str, str, str]]] = {
    "difference": {
        "en": ("difference", "a difference this large", ""),
        "id": ("Perbedaan", "perbedaan sebesar ini", "perbedaannya"),
    },
    "change": {
        "en": ("change", "a change this large", ""),
        "id": ("Perubahan", "perubahan sebesar ini", "perubahannya"),
    },
    "trend": {
        "en": ("trend", "a trend this strong", ""),
        "id": ("Tren", "tren sekuat ini", "trennya"),
    },
}
_OPEN, _CLOSE = "\u201c", "\u201d"  # typographic quotes around item texts and band labels


# --------------------------------------------------------------------------- numbers


def _check_lang(lang: str) -> Lang:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")
    return lang


def _decimal(value: Any) -> Decimal:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"cannot format a non-finite number: {value!r}")
    return Decimal(repr(x))


def round_half_up(value: float | Decimal, decimals: int) -> Decimal:
    """Round a number for reading: half away from zero, on its shortest decimal form.

    This is the one rounding rule of every figure people read (sentences here, chart labels
    in :mod:`analysis.charts`, tables in the web app). Half-up is how a reader rounds a
    printed number by hand, so a value exported with more decimals (3.25) reads the same
    wherever it is shown (3.3). Banker's rounding (half to even) only pays off when many
    rounded values are summed again, which no reader does with a displayed figure.

    Parameters
    ----------
    value : float or Decimal
        A finite number. A float is taken at its shortest decimal form (``repr``), so 2.675
        is 2.675, not the binary 2.67499999...
    decimals : int
        Decimal places kept (0 or more).

    Returns
    -------
    Decimal
        The rounded value with exactly ``decimals`` places; negative zero becomes zero.

    Examples
    --------
    >>> str(round_half_up(3.25, 1)), str(round_half_up(2.675, 2)), str(round_half_up(-0.04, 1))
    ('3.3', '2.68', '0.0')
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
    d = value if isinstance(value, Decimal) else _decimal(value)
    if not d.is_finite():
        raise ValueError(f"cannot round a non-finite number: {value!r}")
    rounded = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # never "-0.0"


def p_value_parts(p: float) -> tuple[Literal["<", "="], Decimal]:
    """Split a p-value into how it is printed: a relation and a rounded value.

    Below 0.001 the relation is ``"<"`` and the value 0.001; otherwise ``"="`` and the
    p-value rounded to three decimals below 0.01, two from there on (see :func:`format_p`).

    Parameters
    ----------
    p : float
        A p-value in [0, 1].

    Returns
    -------
    tuple of (str, Decimal)
        ``("<", Decimal("0.001"))`` or ``("=", rounded p)``.

    Examples
    --------
    >>> p_value_parts(0.0004), p_value_parts(0.0042), p_value_parts(0.125)
    (('<', Decimal('0.001')), ('=', Decimal('0.004')), ('=', Decimal('0.13')))
    """
    x = float(p)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    if x < 0.001:
        return "<", Decimal("0.001")
    return "=", round_half_up(x, 3 if x < 0.01 else 2)


def _format_decimal(d: Decimal, lang: Lang, decimals: int) -> str:
    return _localise(round_half_up(d, decimals), lang)


def _localise(rounded: Decimal, lang: Lang) -> str:
    """Write an already rounded number with the language's decimal and thousands marks."""
    text = format(rounded, ",f")
    if lang == "id":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def format_number(value: float, lang: str, decimals: int = 1) -> str:
    """Format a number for a sentence: decimal point (en) or comma (id), rounded half up.

    Parameters
    ----------
    value : float
        A finite number.
    lang : {"id", "en"}
        Language: Indonesian uses a decimal comma and a thousands point, English a decimal
        point and a thousands comma.
    decimals : int, default 1
        Decimal places kept (trailing zeros are kept: 4 -> "4.0").

    Returns
    -------
    str
        The formatted number; negative zero is shown as zero.

    Notes
    -----
    Rounds half away from zero on the shortest decimal representation of the float
    (``repr``), which is how a reader rounds the printed number by hand: 2.675 becomes 2.68,
    where ``round(2.675, 2)`` gives 2.67 because the binary value is 2.67499999...

    Examples
    --------
    >>> format_number(3.85, "en"), format_number(3.85, "id")
    ('3.9', '3,9')
    >>> format_number(1234.5, "id", 0), format_number(1234.5, "en", 0)
    ('1.235', '1,235')
    >>> format_number(-0.04, "en")
    '0.0'
    """
    language = _check_lang(lang)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
    return _format_decimal(_decimal(value), language, decimals)


def format_p(p: float, lang: str) -> str:
    """Format a p-value: "p < 0.001", three decimals below 0.01, otherwise two.

    Parameters
    ----------
    p : float
        A p-value in [0, 1].
    lang : {"id", "en"}
        Language (decimal comma in Indonesian).

    Returns
    -------
    str
        ``"p < 0.001"``, ``"p = 0.004"``, ``"p = 0.01"``, ``"p = 0.47"`` (English) or the same
        with a decimal comma (Indonesian).

    Notes
    -----
    Two decimals are enough to judge evidence (APA 7th ed., 6.36); below 0.01 a third
    decimal keeps small p-values from all reading "0.00", and below 0.001 the exact value
    carries no further meaning for a reader.

    Examples
    --------
    >>> format_p(0.01, "id"), format_p(0.0004, "id"), format_p(0.0042, "en")
    ('p = 0,01', 'p < 0,001', 'p = 0.004')
    """
    language = _check_lang(lang)
    relation, value = p_value_parts(p)
    return f"p {relation} {_localise(value, language)}"


def _fmt(value: float, lang: Lang, decimals: int = 1) -> str:
    return _format_decimal(_decimal(value), lang, decimals)


def _fmt_bound(value: float, lang: Lang) -> str:
    """Format a scale bound: no decimals when whole (5, not 5.0)."""
    return _fmt(value, lang, 0 if float(value).is_integer() else 1)


def _is_zero(value: float, decimals: int = 1) -> bool:
    """Whether the value shows as zero at this many decimals."""
    return round_half_up(value, decimals) == 0


def _percent(share: float, lang: Lang) -> str:
    return _format_decimal(_decimal(share) * 100, lang, 0) + "%"


# --------------------------------------------------------------------------- effect size


def effect_size_category(value: float, name: str) -> SizeCategory:
    """Put an effect size in words: negligible, small, medium or large.

    Parameters
    ----------
    value : float
        The effect size. Its sign (direction) is ignored.
    name : {"epsilon_squared", "rank_biserial", "cliffs_delta"}
        Which effect size, as in the ``effect_size_name`` column of
        :func:`analysis.compare.compare_partners`.

    Returns
    -------
    {"negligible", "small", "medium", "large"}
        The category; a value exactly on a cut-off belongs to the higher one.

    Notes
    -----
    - epsilon-squared: < 0.01 negligible ("very small"), < 0.06 small, < 0.14 medium, else
      large (Field 2013; R ``effectsize::interpret_epsilon_squared`` default rules, Cohen's
      1988 benchmarks for eta-squared).
    - rank-biserial r and Cliff's delta (the same quantity): |r| < 0.147 negligible,
      < 0.33 small, < 0.474 medium, else large (Romano et al. 2006).

    References
    ----------
    Field A (2013) Discovering Statistics Using IBM SPSS Statistics, 4th ed. Sage.
    Cohen J (1988) Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Romano J, Kromrey JD, Coraggio J, Skowronek J (2006) Appropriate statistics for ordinal
    level data. Annual meeting of the Florida Association of Institutional Research.

    Examples
    --------
    >>> effect_size_category(0.14, "epsilon_squared")
    'large'
    >>> effect_size_category(-0.2, "rank_biserial")
    'small'
    """
    if name not in _CUTOFFS:
        raise ValueError(f"effect size name must be one of {sorted(_CUTOFFS)}, got {name!r}")
    x = _float(value, "effect size")
    if math.isnan(x):
        raise ValueError("effect size is NaN; there is no size to put in words")
    if name == "epsilon_squared" and x < 0:
        raise ValueError(f"epsilon-squared cannot be negative, got {x}")
    small, medium, large = _CUTOFFS[name]
    size = abs(x)
    if size >= large:
        return "large"
    if size >= medium:
        return "medium"
    if size >= small:
        return "small"
    return "negligible"


def _tier(p: float) -> Literal["strong", "weak", "none"]:
    if p < P_STRONG:
        return "strong"
    if p < P_WEAK:
        return "weak"
    return "none"


def _size_and_evidence(kind: str, size: SizeCategory, p: float, adjusted: bool, lang: Lang) -> str:
    """One sentence: how big the effect is, and how easily chance could produce it."""
    noun, this_large, nya = _NOUNS[kind][lang]
    word = _SIZE_WORDS[size][lang]
    ptext = _p_text(p, adjusted, lang)
    tier = _tier(p)
    if lang == "en":
        if tier == "strong" and size != "negligible":
            return (
                f"This is a {word} {noun}; {this_large} would rarely arise by chance alone "
                f"({ptext})."
            )
        if tier == "strong":
            return (
                f"This is a {word} {noun}: it would rarely arise by chance alone ({ptext}), "
                "but it is small in practice."
            )
        if tier == "weak":
            return f"This is a {word} {noun}, but it might be chance ({ptext})."
        return f"This is a {word} {noun}, but it could easily be chance ({ptext})."
    if tier == "strong" and size != "negligible":
        return (
            f"{noun} ini tergolong {word}; {this_large} jarang muncul hanya karena kebetulan "
            f"({ptext})."
        )
    if tier == "strong":
        return (
            f"{noun} ini tergolong {word}; {noun.lower()} seperti ini jarang muncul hanya karena "
            f"kebetulan ({ptext}), tetapi dalam praktik {nya} kecil."
        )
    if tier == "weak":
        return f"{noun} ini tergolong {word}, tetapi masih mungkin hanya kebetulan ({ptext})."
    return f"{noun} ini tergolong {word}, tetapi bisa saja hanya kebetulan ({ptext})."


def _p_text(p: float, adjusted: bool, lang: Lang) -> str:
    return format_p(p, lang) + (_ADJUSTED[lang] if adjusted else "")


# --------------------------------------------------------------------------- inputs


def _text(value: Any, what: str) -> Sentence:
    """Return a text per language from ``{"id", "en"}`` (missing language falls back) or a str."""
    if isinstance(value, str):
        if not value:
            raise ValueError(f"{what} must not be empty")
        return {"id": value, "en": value}
    if isinstance(value, Mapping):
        texts = {lang: value.get(lang) for lang in LANGUAGES}
        for lang, text in texts.items():
            if text is not None and not isinstance(text, str):
                raise TypeError(f"{what}[{lang!r}] must be a str, got {type(text).__name__}")
        indonesian, english = texts["id"] or None, texts["en"] or None
        if indonesian is None and english is None:
            raise ValueError(f"{what} needs a non-empty 'id' or 'en' text, got {dict(value)!r}")
        return {"id": indonesian or english or "", "en": english or indonesian or ""}
    raise TypeError(
        f"{what} must be a str or a mapping with 'id' and/or 'en' texts, got {type(value).__name__}"
    )


def _name(names: Mapping[Any, Any] | None, key: Any) -> Sentence:
    """Display name of a partner: from ``names`` when given, else the id itself."""
    if names is not None and not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping of id to name, got {type(names).__name__}")
    if names is not None and key in names:
        return _text(names[key], f"names[{key!r}]")
    return _text(str(key), "partner id")


def _check_row(row: Any, where: str, required: Iterable[str]) -> None:
    if not isinstance(row, Mapping | pd.Series):
        raise TypeError(f"{where}: row must be a dict or a pandas Series, got {type(row).__name__}")
    missing = [key for key in required if key not in row]
    if missing:
        raise ValueError(f"{where}: the row has no {', '.join(map(repr, missing))}")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _float(value: Any, name: str) -> float:
    """Read a float from a row cell; None, NA and NaN become NaN."""
    if _missing(value):
        return math.nan
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def _opt_float(row: Any, key: str) -> float:
    return _float(row.get(key), key) if key in row else math.nan


def _count(value: Any, name: str) -> int:
    """Read a count from a row cell; missing counts as 0."""
    x = _float(value, name)
    if math.isnan(x):
        return 0
    if x < 0 or not x.is_integer():
        raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")
    return int(x)


def _p(row: Any, where: str) -> tuple[float, bool]:
    """Return the p-value to report (adjusted when the row has one) and whether it is adjusted."""
    if "p_value" not in row and "p_adjusted" not in row:
        raise ValueError(f"{where}: the row has no 'p_value' or 'p_adjusted'")
    raw = _opt_float(row, "p_value")
    if "p_adjusted" in row:
        p = _float(row["p_adjusted"], "p_adjusted")
        adjusted = p != raw
    else:
        p, adjusted = raw, False
    if not math.isnan(p) and not 0.0 <= p <= 1.0 + 1e-12:
        raise ValueError(f"{where}: p-value must be in [0, 1], got {p}")
    return min(p, 1.0), adjusted


def _reason(row: Any) -> str | None:
    value = row.get("reason") if "reason" in row else None
    return None if _missing(value) else str(value)


def _sequence(value: Any) -> list[Any]:
    """Read a list from a row cell holding a list, tuple or array (missing gives [])."""
    if _missing(value):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    raise TypeError(f"expected a list of ids, got {value!r}")


def _scale(row: Any, scale_min: float | None, scale_max: float | None) -> tuple[float, float]:
    """Scale bounds from the arguments, else the row, else NaN."""
    low = _float(scale_min, "scale_min") if scale_min is not None else _opt_float(row, "scale_min")
    high = _float(scale_max, "scale_max") if scale_max is not None else _opt_float(row, "scale_max")
    if not math.isnan(low) and not math.isnan(high) and high <= low:
        raise ValueError(f"scale_max must be above scale_min, got {low} and {high}")
    return low, high


def _small_in_practice(difference: float, low: float, high: float) -> bool:
    if math.isnan(low) or math.isnan(high):
        low, high = _DEFAULT_SCALE
    return abs(difference) < PRACTICAL_SHARE * (high - low)


def _join(items: list[str], lang: Lang) -> str:
    """Join words as "a", "a and b", "a, b and c" (en) / "a, b, dan c" (id)."""
    if len(items) == 1:
        return items[0]
    if lang == "en":
        return ", ".join(items[:-1]) + " and " + items[-1]
    if len(items) == 2:
        return f"{items[0]} dan {items[1]}"
    return ", ".join(items[:-1]) + ", dan " + items[-1]


def _quote(text: str) -> str:
    return f"{_OPEN}{text}{_CLOSE}"


def _both(build: Any) -> Sentence:
    """Call ``build(lang)`` for every language."""
    return {lang: build(lang) for lang in LANGUAGES}


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# --------------------------------------------------------------------------- group


def group_sentence(
    row: Mapping[str, Any] | pd.Series,
    label: Mapping[str, str] | str,
    band: Mapping[str, Any] | None = None,
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
) -> Sentence:
    """Say how a group scores: mean, its interval, n, band and share favourable.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.describe.describe`: ``n``, ``mean`` and, when present,
        ``ci_low``, ``ci_high``, ``ci_method``, ``ci_level`` (default 0.95) and
        ``share_favourable``. The row may also carry ``band``, ``scale_min`` and
        ``scale_max``; the arguments take precedence.
    label : {"id": str, "en": str} or str
        What is scored, e.g. ``{"id": "Transparansi", "en": "Transparency"}``.
    band : mapping, optional
        ``{"id": band id, "label": {"id", "en"}}``, optionally with the band's ``min`` and
        ``max``; with them, an interval reaching outside the band is said.
    scale_min, scale_max : float, optional
        Scale bounds: "out of 5" (when the scale starts at 1) or "on a scale of 0 to 4".

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    - n = 0 or a missing mean: "too few responses to say how it scores" (no numbers).
    - ``ci_method == "none"`` (too few for an interval): the mean is given with "too few
      responses to say how precise this is"; ``"degenerate"`` (all answers equal): "everyone
      gave the same score" instead of a zero-width interval, which would overstate precision.
    - Mean and interval to 1 decimal, share favourable in whole per cent.

    Examples
    --------
    >>> row = {"n": 42, "mean": 3.82, "ci_low": 3.51, "ci_high": 4.07, "ci_method": "bca",
    ...        "share_favourable": 0.714}
    >>> band = {"id": "perlu_perhatian", "label": {"id": "Perlu perhatian",
    ...                                            "en": "Needs attention"}}
    >>> out = group_sentence(row, {"id": "Transparansi", "en": "Transparency"}, band,
    ...                      scale_min=1, scale_max=5)
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Transparency scores 3.8 out of 5 (95% CI 3.5 to 4.1, n = 42), in the
    “Needs attention” band; 71% of respondents give it a favourable score.
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Transparansi mendapat skor 3,8 dari 5 (selang kepercayaan 95%: 3,5 sampai 4,1;
    n = 42), termasuk kategori “Perlu perhatian”; 71% responden menilainya positif.
    """
    where = "group_sentence"
    _check_row(row, where, ("n", "mean"))
    name = _text(label, "label")
    n = _count(row["n"], "n")
    mean = _float(row["mean"], "mean")
    if n == 0 or math.isnan(mean):
        return {
            "id": f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan skornya.",
            "en": f"{name['en']}: too few responses to say how it scores.",
        }
    if band is None and "band" in row and not _missing(row.get("band")):
        band = row.get("band")
    band_label, band_min, band_max = _band(band)
    low, high = _scale(row, scale_min, scale_max)
    ci_low, ci_high = _opt_float(row, "ci_low"), _opt_float(row, "ci_high")
    method = row.get("ci_method") if "ci_method" in row else None
    level = _opt_float(row, "ci_level")
    level = 0.95 if math.isnan(level) else level
    if not 0 < level < 1:
        raise ValueError(f"{where}: ci_level must be between 0 and 1, got {level}")
    share = _opt_float(row, "share_favourable")
    has_ci = not math.isnan(ci_low) and not math.isnan(ci_high)
    same = method == "degenerate" or (has_ci and ci_low == ci_high)
    reaches_out = (
        has_ci
        and not same
        and band_label is not None
        and (
            (band_min is not None and ci_low < band_min)
            or (band_max is not None and ci_high > band_max)
        )
    )

    def build(lang: Lang) -> str:
        en = lang == "en"
        text = (
            f"{name[lang]} scores {_fmt(mean, lang)}"
            if en
            else (f"{name[lang]} mendapat skor {_fmt(mean, lang)}")
        )
        if not math.isnan(high):
            if math.isnan(low) or low == 1:
                text += (
                    f" out of {_fmt_bound(high, lang)}" if en else f" dari {_fmt_bound(high, lang)}"
                )
            else:
                bounds = (_fmt_bound(low, lang), _fmt_bound(high, lang))
                text += (
                    f" on a scale of {bounds[0]} to {bounds[1]}"
                    if en
                    else f" pada skala {bounds[0]} sampai {bounds[1]}"
                )
        count = _fmt(n, lang, 0)
        if same:
            text += (
                f" (n = {count}; everyone gave the same score)"
                if en
                else f" (n = {count}; semua responden memberi skor yang sama)"
            )
        elif has_ci:
            pct = _percent(level, lang)
            lo_text, hi_text = _fmt(ci_low, lang), _fmt(ci_high, lang)
            text += (
                f" ({pct} CI {lo_text} to {hi_text}, n = {count})"
                if en
                else f" (selang kepercayaan {pct}: {lo_text} sampai {hi_text}; n = {count})"
            )
        elif method == "none":
            text += (
                " (too few responses to say how precise this is)"
                if en
                else " (terlalu sedikit jawaban untuk menyimpulkan seberapa tepat angka ini)"
            )
        else:
            text += f" (n = {count})"
        if band_label is not None:
            quoted = _quote(band_label[lang])
            text += f", in the {quoted} band" if en else f", termasuk kategori {quoted}"
            if reaches_out:
                text += (
                    " (though the interval reaches into a neighbouring band)"
                    if en
                    else " (meski rentangnya menjangkau kategori di sebelahnya)"
                )
        if not math.isnan(share):
            pct = _percent(share, lang)
            text += (
                f"; {pct} of respondents give it a favourable score"
                if en
                else f"; {pct} responden menilainya positif"
            )
        return text + "."

    return _both(build)


def _band(band: Any) -> tuple[Sentence | None, float | None, float | None]:
    if band is None:
        return None, None, None
    if not isinstance(band, Mapping):
        raise TypeError(f"band must be a mapping with a 'label', got {type(band).__name__}")
    if "label" not in band:
        raise ValueError("band needs a 'label' ({'id': ..., 'en': ...})")
    low = _float(band["min"], "band min") if "min" in band else math.nan
    high = _float(band["max"], "band max") if "max" in band else math.nan
    return (
        _text(band["label"], "band label"),
        None if math.isnan(low) else low,
        None if math.isnan(high) else high,
    )


# --------------------------------------------------------------------------- partners


def partner_difference_sentence(
    row: Mapping[str, Any] | pd.Series,
    partner_means: Mapping[Hashable, float] | pd.Series | pd.DataFrame,
    label: Mapping[str, str] | str,
    names: Mapping[Hashable, Any] | None = None,
    *,
    group: str = "partner_id",
) -> Sentence:
    """Say whether partners see a dimension differently, naming the highest and lowest.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.compare.compare_partners`: ``n``, ``p_value`` (and
        ``p_adjusted`` when present, which is then the p reported), ``effect_size``,
        ``effect_size_name``, and, when present, ``groups``, ``excluded``, ``reason``.
    partner_means : mapping, pandas.Series or pandas.DataFrame
        Partner means: ``{partner id: mean}``, a Series indexed by partner id, or a frame
        such as :func:`analysis.gaps.partner_means` (columns ``group`` and ``mean``; other
        columns that the row also has, e.g. ``dimension``, select the row's cell). Only the
        partners in ``row["groups"]`` are named, so a partner set aside for having too few
        answers is never named with its mean.
    label : {"id": str, "en": str} or str
        The dimension.
    names : mapping, optional
        Partner id to display name (a str or ``{"id", "en"}``); the id is shown otherwise.
    group : str, default "partner_id"
        Partner column of a ``partner_means`` frame.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Raises
    ------
    ValueError
        If a testable row's partners are missing from ``partner_means``.

    Notes
    -----
    The opening depends on the strength of evidence (p < 0.05: "Partners see X
    differently"; 0.05-0.10: "Partners may see X somewhat differently"; otherwise just the
    spread, followed by "it could easily be chance"). The size word comes from
    :func:`effect_size_category`: epsilon-squared with Field's (2013) cut-offs 0.01 / 0.06 /
    0.14 (three or more partners, Kruskal-Wallis), |rank-biserial r| with Romano et al.'s
    (2006) cut-offs 0.147 / 0.33 / 0.474 (two partners, Mann-Whitney). A p below 0.05 with a
    very small effect adds "but it is small in practice".

    References
    ----------
    Field A (2013) Discovering Statistics Using IBM SPSS Statistics, 4th ed. Sage.
    Romano J et al. (2006) Annual meeting of the Florida Association of Institutional
    Research.

    Examples
    --------
    >>> row = {"n": 42, "n_groups": 3, "groups": (1, 2, 3), "excluded": (),
    ...        "p_value": 0.004, "p_adjusted": 0.012, "effect_size": 0.21,
    ...        "effect_size_name": "epsilon_squared", "reason": None}
    >>> means = {1: 4.2, 2: 3.6, 3: 3.0}
    >>> names = {1: "Dinas Kesehatan", 2: "Puskesmas Maju", 3: "Yayasan Anak Sehat"}
    >>> out = partner_difference_sentence(row, means, {"id": "Transparansi",
    ...                                                "en": "Transparency"}, names)
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Partners see Transparency differently: Dinas Kesehatan scores highest (4.2) and
    Yayasan Anak Sehat lowest (3.0), 1.2 points apart (n = 42 from 3 partners). This is a
    large difference; a difference this large would rarely arise by chance alone
    (p = 0.01, adjusted for multiple tests).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Para mitra menilai Transparansi secara berbeda: Dinas Kesehatan memberi skor tertinggi
    (4,2) dan Yayasan Anak Sehat terendah (3,0), selisih 1,2 poin (n = 42 dari 3 mitra).
    Perbedaan ini tergolong besar; perbedaan sebesar ini jarang muncul hanya karena
    kebetulan (p = 0,01, sudah dikoreksi untuk uji berganda).
    """
    where = "partner_difference_sentence"
    _check_row(row, where, ("n", "effect_size", "effect_size_name"))
    name = _text(label, "label")
    p, adjusted = _p(row, where)
    effect = _float(row["effect_size"], "effect_size")
    reason = _reason(row)
    if reason is not None and "identical" in reason:
        return _identical(name)
    if reason is not None or math.isnan(p) or math.isnan(effect):
        return {
            "id": (
                f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan apakah para mitra "
                "menilainya berbeda."
            ),
            "en": f"{name['en']}: too few responses to say whether partners see it differently.",
        }
    size = effect_size_category(effect, str(row["effect_size_name"]))
    means = _means_for_row(partner_means, row, group, where)
    high_id = max(means, key=lambda k: means[k])
    low_id = min(means, key=lambda k: means[k])
    high, low = _name(names, high_id), _name(names, low_id)
    high_mean, low_mean = means[high_id], means[low_id]
    spread = high_mean - low_mean
    n = _count(row["n"], "n")
    n_groups = _count(row.get("n_groups"), "n_groups") if "n_groups" in row else 0
    n_groups = n_groups or len(means)
    excluded = len(_sequence(row.get("excluded"))) if "excluded" in row else 0
    tier = _tier(p)

    def build(lang: Lang) -> str:
        en = lang == "en"
        dim = name[lang]
        if tier == "strong" and size != "negligible":
            opening = (
                f"Partners see {dim} differently: "
                if en
                else (f"Para mitra menilai {dim} secara berbeda: ")
            )
        elif tier == "strong":
            opening = (
                f"Partners differ only slightly on {dim}: "
                if en
                else (f"Penilaian para mitra tentang {dim} hanya sedikit berbeda: ")
            )
        elif tier == "weak":
            opening = (
                f"Partners may see {dim} somewhat differently: "
                if en
                else (f"Para mitra mungkin menilai {dim} agak berbeda: ")
            )
        else:
            opening = f"On {dim}, " if en else f"Untuk {dim}, "
        hm, lm, d = _fmt(high_mean, lang), _fmt(low_mean, lang), _fmt(spread, lang)
        hi, lo = high[lang], low[lang]
        count = _fmt(n, lang, 0)
        of = (
            f"n = {count} from {n_groups} {_plural(n_groups, 'partner', 'partners')}"
            if en
            else f"n = {count} dari {n_groups} mitra"
        )
        if _is_zero(spread):
            body = (
                f"the partners' averages are almost the same ({lm} to {hm}; {of})."
                if en
                else f"rata-rata skor para mitra hampir sama ({lm} sampai {hm}; {of})."
            )
        elif len(means) == 2:
            body = (
                f"{hi} scores {d} points higher than {lo} ({hm} against {lm}; {of})."
                if en
                else f"skor {hi} {d} poin lebih tinggi daripada {lo} ({hm} dibanding {lm}; {of})."
            )
        else:
            body = (
                f"{hi} scores highest ({hm}) and {lo} lowest ({lm}), {d} points apart ({of})."
                if en
                else f"{hi} memberi skor tertinggi ({hm}) dan {lo} terendah ({lm}), "
                f"selisih {d} poin ({of})."
            )
        text = f"{opening}{body} {_size_and_evidence('difference', size, p, adjusted, lang)}"
        if excluded:
            text += (
                f" {excluded} {_plural(excluded, 'partner', 'partners')} with too few "
                f"responses {_plural(excluded, 'was', 'were')} left out."
                if en
                else f" {excluded} mitra dengan jawaban terlalu sedikit tidak diikutkan."
            )
        return text

    return _both(build)


def _identical(name: Sentence) -> Sentence:
    return {
        "id": (
            f"{name['id']}: semua responden memberi skor yang sama, jadi tidak ada yang bisa "
            "dibandingkan."
        ),
        "en": (
            f"{name['en']}: every respondent gave the same score, so there is nothing to compare."
        ),
    }


def _means_for_row(partner_means: Any, row: Any, group: str, where: str) -> dict[Hashable, float]:
    """Partner id -> mean for the partners compared in ``row``."""
    if isinstance(partner_means, pd.DataFrame):
        frame = partner_means
        for column in (group, "mean"):
            if column not in frame.columns:
                raise ValueError(f"{where}: partner_means has no column {column!r}")
        for column in frame.columns:
            if column not in (group, "mean", "n") and column in row:
                frame = frame.loc[frame[column] == row[column]]
        if frame[group].duplicated().any():
            raise ValueError(
                f"{where}: partner_means has several means for one partner; filter it to the "
                "row's dimension (and round) first"
            )
        pairs = list(zip(frame[group], frame["mean"], strict=True))
    elif isinstance(partner_means, pd.Series | Mapping):
        pairs = list(partner_means.items())
    else:
        raise TypeError(
            f"{where}: partner_means must be a mapping, Series or DataFrame, "
            f"got {type(partner_means).__name__}"
        )
    means = {key: _float(value, f"mean of partner {key!r}") for key, value in pairs}
    compared = _sequence(row.get("groups")) if "groups" in row else []
    if compared:
        absent = [g for g in compared if g not in means]
        if absent:
            raise ValueError(f"{where}: partner_means has no mean for partners {absent}")
        means = {g: means[g] for g in compared}
    unusable = [key for key, value in means.items() if math.isnan(value)]
    if unusable:
        raise ValueError(f"{where}: partner_means has no mean for partners {unusable}")
    if len(means) < 2:
        raise ValueError(f"{where}: partner_means must hold at least two partners")
    return means


# --------------------------------------------------------------------------- gaps


def gap_sentence(
    row: Mapping[str, Any] | pd.Series,
    label: Mapping[str, str] | str,
    names: Mapping[Hashable, Any] | None = None,
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
) -> Sentence:
    """Say how far apart partners see a dimension: the widest gap and how chance compares.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.gaps.perception_gaps`: ``n``, ``high_group``,
        ``high_mean``, ``low_group``, ``low_mean``, ``gap``, ``p_value`` (``p_adjusted`` when
        present is reported instead) and, when present, ``n_groups``, ``null_mean``,
        ``reason``.
    label : {"id": str, "en": str} or str
        The dimension.
    names : mapping, optional
        Partner id to display name; the id is shown otherwise.
    scale_min, scale_max : float, optional
        Scale bounds (else taken from the row, else 1 and 5) for the practical judgement.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    The gap itself, in scale points, is the effect size; ``null_mean`` (the gap chance alone
    gives with these group sizes) is quoted beside it when present. A gap below
    :data:`PRACTICAL_SHARE` of the scale range (0.4 points on 1-5) with p < 0.05 is called
    small in practice.

    Examples
    --------
    >>> row = {"n": 30, "n_groups": 3, "high_group": "a", "high_mean": 4.4,
    ...        "low_group": "b", "low_mean": 3.1, "gap": 1.3, "null_mean": 0.52,
    ...        "p_value": 0.003, "reason": None}
    >>> out = gap_sentence(row, {"id": "Rasa memiliki", "en": "Ownership"},
    ...                    {"a": "Dinas Kesehatan", "b": "Kelompok Tani"})
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    The widest gap on Ownership is between Dinas Kesehatan (4.4) and Kelompok Tani (3.1):
    1.3 points (n = 30 from 3 partners). With groups this size, chance alone would give a
    gap of about 0.5 points. A gap this large would rarely arise by chance alone
    (p = 0.003).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Selisih terbesar untuk Rasa memiliki ada antara Dinas Kesehatan (4,4) dan Kelompok Tani
    (3,1): 1,3 poin (n = 30 dari 3 mitra). Dengan jumlah responden seperti ini, kebetulan
    saja dapat menghasilkan selisih sekitar 0,5 poin. Selisih sebesar ini jarang muncul
    hanya karena kebetulan (p = 0,003).
    """
    where = "gap_sentence"
    _check_row(row, where, ("n", "high_group", "high_mean", "low_group", "low_mean", "gap"))
    name = _text(label, "label")
    p, adjusted = _p(row, where)
    gap = _float(row["gap"], "gap")
    high_mean, low_mean = _float(row["high_mean"], "high_mean"), _float(row["low_mean"], "low_mean")
    if (
        _reason(row) is not None
        or math.isnan(p)
        or math.isnan(gap)
        or math.isnan(high_mean)
        or math.isnan(low_mean)
    ):
        return {
            "id": (
                f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan seberapa jauh "
                "selisih antarmitra."
            ),
            "en": f"{name['en']}: too few responses to say how far apart partners are.",
        }
    low_scale, high_scale = _scale(row, scale_min, scale_max)
    small = _small_in_practice(gap, low_scale, high_scale)
    high, low = _name(names, row["high_group"]), _name(names, row["low_group"])
    n = _count(row["n"], "n")
    n_groups = _count(row.get("n_groups"), "n_groups") if "n_groups" in row else 0
    null_mean = _opt_float(row, "null_mean")
    tier = _tier(p)

    def build(lang: Lang) -> str:
        en = lang == "en"
        hm, lm = _fmt(high_mean, lang), _fmt(low_mean, lang)
        count = _fmt(n, lang, 0)
        if en:
            of = f" from {n_groups} {_plural(n_groups, 'partner', 'partners')}" if n_groups else ""
        else:
            of = f" dari {n_groups} mitra" if n_groups else ""
        if _is_zero(gap):
            text = (
                f"Partners score {name[lang]} almost the same on average ({lm} to {hm}; "
                f"n = {count}{of})."
                if en
                else f"Rata-rata skor para mitra untuk {name[lang]} hampir sama ({lm} sampai "
                f"{hm}; n = {count}{of})."
            )
        else:
            g = _fmt(gap, lang)
            text = (
                f"The widest gap on {name[lang]} is between {high[lang]} ({hm}) and "
                f"{low[lang]} ({lm}): {g} points (n = {count}{of})."
                if en
                else f"Selisih terbesar untuk {name[lang]} ada antara {high[lang]} ({hm}) dan "
                f"{low[lang]} ({lm}): {g} poin (n = {count}{of})."
            )
        if not math.isnan(null_mean):
            null = _fmt(null_mean, lang)
            text += (
                f" With groups this size, chance alone would give a gap of about {null} points."
                if en
                else " Dengan jumlah responden seperti ini, kebetulan saja dapat menghasilkan "
                f"selisih sekitar {null} poin."
            )
        ptext = _p_text(p, adjusted, lang)
        if tier == "strong":
            text += (
                f" A gap this large would rarely arise by chance alone ({ptext})"
                if en
                else f" Selisih sebesar ini jarang muncul hanya karena kebetulan ({ptext})"
            )
            if small:
                text += (
                    ", but it is small in practice"
                    if en
                    else (", tetapi dalam praktik selisihnya kecil")
                )
            text += "."
        elif tier == "weak":
            text += (
                f" This gap might be chance ({ptext})."
                if en
                else f" Selisih ini masih mungkin hanya kebetulan ({ptext})."
            )
        else:
            text += (
                f" This gap could easily be chance ({ptext})."
                if en
                else f" Selisih ini bisa saja hanya kebetulan ({ptext})."
            )
        return text

    return _both(build)


# --------------------------------------------------------------------------- rounds


def change_sentence(row: Mapping[str, Any] | pd.Series, label: Mapping[str, str] | str) -> Sentence:
    """Say how a dimension changed since the previous round: direction, size, evidence.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.rounds.compare_rounds`: ``n_from``, ``n_to``,
        ``mean_from``, ``mean_to``, ``mean_difference``, ``rank_biserial``, ``p_value``
        (``p_adjusted``, when present, is reported instead) and ``reason``.
    label : {"id": str, "en": str} or str
        The dimension.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    Direction comes from the difference of means ("rose" / "fell"; "barely changed" when it
    rounds to 0.0); the size word from |rank-biserial r| with Romano et al.'s (2006)
    cut-offs 0.147 / 0.33 / 0.474. The two can in rare cases point different ways (a mean
    pulled by a few answers); the sentence reports the means as they are.

    References
    ----------
    Romano J et al. (2006) Annual meeting of the Florida Association of Institutional
    Research.

    Examples
    --------
    >>> row = {"n_from": 20, "n_to": 25, "mean_from": 3.42, "mean_to": 3.86,
    ...        "mean_difference": 0.44, "rank_biserial": 0.36, "p_value": 0.02,
    ...        "p_adjusted": 0.06, "reason": None}
    >>> out = change_sentence(row, {"id": "Kesetaraan", "en": "Equality"})
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Equality rose by 0.4 points compared with the previous round, from 3.4 to 3.9
    (n = 20, then 25). This is a medium change, but it might be chance (p = 0.06, adjusted
    for multiple tests).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Kesetaraan naik 0,4 poin dibanding putaran sebelumnya, dari 3,4 menjadi 3,9 (n = 20,
    lalu 25). Perubahan ini tergolong sedang, tetapi masih mungkin hanya kebetulan
    (p = 0,06, sudah dikoreksi untuk uji berganda).
    """
    where = "change_sentence"
    _check_row(
        row, where, ("n_from", "n_to", "mean_from", "mean_to", "mean_difference", "rank_biserial")
    )
    name = _text(label, "label")
    p, adjusted = _p(row, where)
    values = {
        key: _float(row[key], key)
        for key in ("mean_from", "mean_to", "mean_difference", "rank_biserial")
    }
    if _reason(row) is not None or math.isnan(p) or any(map(math.isnan, values.values())):
        return {
            "id": (
                f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan apakah ada perubahan "
                "dibanding putaran sebelumnya."
            ),
            "en": (
                f"{name['en']}: too few responses to say whether it changed compared with the "
                "previous round."
            ),
        }
    size = effect_size_category(values["rank_biserial"], "rank_biserial")
    n_from, n_to = _count(row["n_from"], "n_from"), _count(row["n_to"], "n_to")
    difference = values["mean_difference"]

    def build(lang: Lang) -> str:
        en = lang == "en"
        before, after = _fmt(values["mean_from"], lang), _fmt(values["mean_to"], lang)
        n1, n2 = _fmt(n_from, lang, 0), _fmt(n_to, lang, 0)
        dim = name[lang]
        if _is_zero(difference):
            text = (
                f"{dim} barely changed compared with the previous round ({before}, then "
                f"{after}; n = {n1}, then {n2}). "
                if en
                else f"{dim} hampir tidak berubah dibanding putaran sebelumnya ({before}, lalu "
                f"{after}; n = {n1}, lalu {n2}). "
            )
        else:
            d = _fmt(abs(difference), lang)
            up = difference > 0
            if en:
                verb = "rose" if up else "fell"
                text = (
                    f"{dim} {verb} by {d} points compared with the previous round, from "
                    f"{before} to {after} (n = {n1}, then {n2}). "
                )
            else:
                verb = "naik" if up else "turun"
                text = (
                    f"{dim} {verb} {d} poin dibanding putaran sebelumnya, dari {before} menjadi "
                    f"{after} (n = {n1}, lalu {n2}). "
                )
        return text + _size_and_evidence("change", size, p, adjusted, lang)

    return _both(build)


def trend_sentence(row: Mapping[str, Any] | pd.Series, label: Mapping[str, str] | str) -> Sentence:
    r"""Say whether a dimension tends to rise or fall over three or more rounds.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.rounds.trend_test`: ``n``, ``n_rounds``, ``j``,
        ``j_expected``, ``p_value`` (``p_adjusted``, when present, is reported instead) and,
        when present, ``excluded`` and ``reason``.
    label : {"id": str, "en": str} or str
        The dimension.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    The size of the trend is the Jonckheere-Terpstra statistic read as a Cliff's delta over
    all pairs of answers from different rounds:

    .. math:: \delta_J = \frac{J - E(J)}{E(J)}
              = P(\text{later} > \text{earlier}) - P(\text{later} < \text{earlier}),

    because :math:`J` counts the cross-round pairs in which the later answer is higher (ties
    half) and :math:`E(J)` is half the number of such pairs. It lies in [-1, 1], is positive
    for an upward trend and, for two rounds, equals the rank-biserial r; so it is put in
    words with Romano et al.'s (2006) cut-offs, like every other ordinal difference here.
    (``tau_b`` in the row carries the same direction but has no established cut-offs.)

    References
    ----------
    Jonckheere AR (1954) Biometrika 41:133. Cliff N (1993) Psychol Bull 114:494.
    Romano J et al. (2006) Annual meeting of the Florida Association of Institutional
    Research.

    Examples
    --------
    >>> row = {"n": 60, "n_rounds": 3, "j": 820.0, "j_expected": 600.0, "p_value": 0.004,
    ...        "excluded": (), "reason": None}
    >>> out = trend_sentence(row, {"id": "Manfaat bersama", "en": "Shared benefit"})
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Shared benefit has tended to rise over 3 rounds (n = 60). This is a medium trend;
    a trend this strong would rarely arise by chance alone (p = 0.004).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Manfaat bersama cenderung naik selama 3 putaran (n = 60). Tren ini tergolong sedang;
    tren sekuat ini jarang muncul hanya karena kebetulan (p = 0,004).
    """
    where = "trend_sentence"
    _check_row(row, where, ("n", "n_rounds", "j", "j_expected"))
    name = _text(label, "label")
    p, adjusted = _p(row, where)
    reason = _reason(row)
    if reason is not None and "identical" in reason:
        return _identical(name)
    j, expected = _float(row["j"], "j"), _float(row["j_expected"], "j_expected")
    n_rounds = _count(row["n_rounds"], "n_rounds")
    if reason is not None or math.isnan(p) or math.isnan(j) or not expected > 0 or n_rounds < 3:
        return {
            "id": (
                f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan apakah skornya naik "
                "atau turun dari putaran ke putaran."
            ),
            "en": (
                f"{name['en']}: too few responses to say whether it is rising or falling over "
                "the rounds."
            ),
        }
    delta = (j - expected) / expected
    if not -1 - 1e-9 <= delta <= 1 + 1e-9:
        raise ValueError(f"{where}: j must lie between 0 and 2 * j_expected, got {j}, {expected}")
    size = effect_size_category(delta, "cliffs_delta")
    n = _count(row["n"], "n")
    excluded = len(_sequence(row.get("excluded"))) if "excluded" in row else 0
    tier = _tier(p)

    def build(lang: Lang) -> str:
        en = lang == "en"
        dim, count = name[lang], _fmt(n, lang, 0)
        ptext = _p_text(p, adjusted, lang)
        if delta == 0:
            text = (
                f"Over {n_rounds} rounds, {dim} moves neither up nor down overall "
                f"(n = {count}; {ptext})."
                if en
                else f"Selama {n_rounds} putaran, {dim} secara keseluruhan tidak naik maupun "
                f"turun (n = {count}; {ptext})."
            )
        else:
            up = delta > 0
            if en:
                verb = "rise" if up else "fall"
                if tier == "strong":
                    text = f"{dim} has tended to {verb} over {n_rounds} rounds (n = {count}). "
                elif tier == "weak":
                    text = f"{dim} may have tended to {verb} over {n_rounds} rounds (n = {count}). "
                else:
                    way = "upwards" if up else "downwards"
                    text = f"Over {n_rounds} rounds, {dim} drifts {way} (n = {count}). "
            else:
                verb = "naik" if up else "turun"
                if tier == "strong":
                    text = f"{dim} cenderung {verb} selama {n_rounds} putaran (n = {count}). "
                elif tier == "weak":
                    text = (
                        f"{dim} mungkin cenderung {verb} selama {n_rounds} putaran (n = {count}). "
                    )
                else:
                    text = (
                        f"Selama {n_rounds} putaran, {dim} tampak bergerak {verb} (n = {count}). "
                    )
            text += _size_and_evidence("trend", size, p, adjusted, lang)
        if excluded:
            text += (
                f" {excluded} {_plural(excluded, 'round', 'rounds')} with too few responses "
                f"{_plural(excluded, 'was', 'were')} left out."
                if en
                else f" {excluded} putaran dengan jawaban terlalu sedikit tidak diikutkan."
            )
        return text

    return _both(build)


# --------------------------------------------------------------------------- agreement


def agreement_sentence(
    row: Mapping[str, Any] | pd.Series,
    label: Mapping[str, str] | str,
    partner_name: Mapping[str, str] | str,
    *,
    split_share: float = DEFAULT_SPLIT_SHARE,
) -> Sentence:
    """Say whether a partner's members agree with one another on a dimension.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.agreement.agreement_by_partner`: ``n``, ``rwg_j``,
        ``split`` and, when present, ``share_low``, ``share_high``, ``reason``.
    label : {"id": str, "en": str} or str
        The dimension.
    partner_name : str or {"id": str, "en": str}
        The partner's display name, inserted verbatim.
    split_share : float, default analysis.agreement.DEFAULT_SPLIT_SHARE
        The share used by ``agreement_by_partner``: a split partner with at least this share
        leaning each way is described as "some rate it high and others low".

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    - ``split`` true with both shares at least ``split_share``: "X is split on Y: some
      members rate it high and others low". Split for a low r_wg(J) only: "members see Y
      very differently from one another" (a wide spread, not necessarily two camps).
    - Otherwise r_wg(J) in LeBreton & Senter's (2008) bands (upper edges 0.30 / 0.50 /
      0.70 / 0.90): lack of agreement, weak, moderate, strong, very strong.
    - Untested rows (``split`` missing, a ``reason``, r_wg(J) NaN): "too few responses to
      say how far its members agree". Shares are never printed: with a handful of members a
      percentage would come close to showing individual answers.

    References
    ----------
    LeBreton JM, Senter JL (2008) Answers to 20 questions about interrater reliability and
    interrater agreement. Organ Res Methods 11:815.

    Examples
    --------
    >>> row = {"n": 9, "rwg_j": 0.62, "share_low": 0.33, "share_high": 0.44, "split": True,
    ...        "reason": None}
    >>> out = agreement_sentence(row, {"id": "rasa memiliki", "en": "ownership"},
    ...                          "Yayasan Anak Sehat")
    >>> print(out["en"])
    Yayasan Anak Sehat is split on ownership: some members rate it high and others low (n = 9).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Penilaian Yayasan Anak Sehat tentang rasa memiliki terbelah: sebagian anggota memberi
    nilai tinggi, sebagian lain rendah (n = 9).
    """
    where = "agreement_sentence"
    _check_row(row, where, ("n", "rwg_j", "split"))
    name = _text(label, "label")
    partner = _text(partner_name, "partner_name")
    rwg = _float(row["rwg_j"], "rwg_j")
    split = _flag(row["split"])
    if _reason(row) is not None or split is None or math.isnan(rwg):
        return {
            "id": (
                f"{partner['id']}, {name['id']}: terlalu sedikit jawaban untuk menyimpulkan "
                "seberapa jauh anggotanya sepakat."
            ),
            "en": (
                f"{partner['en']}, {name['en']}: too few responses to say how far its members "
                "agree."
            ),
        }
    n = _count(row["n"], "n")
    share_low, share_high = _opt_float(row, "share_low"), _opt_float(row, "share_high")
    two_camps = split and share_low >= split_share and share_high >= split_share
    band = sum(rwg > edge for edge in RWG_CUTOFFS)  # 0 lack ... 4 very strong

    def build(lang: Lang) -> str:
        en = lang == "en"
        who, dim, count = partner[lang], name[lang], _fmt(n, lang, 0)
        if two_camps:
            return (
                f"{who} is split on {dim}: some members rate it high and others low (n = {count})."
                if en
                else f"Penilaian {who} tentang {dim} terbelah: sebagian anggota memberi nilai "
                f"tinggi, sebagian lain rendah (n = {count})."
            )
        index = (
            f"(agreement index {_fmt(rwg, lang, 2)} out of 1, n = {count})"
            if en
            else f"(indeks kesepakatan {_fmt(rwg, lang, 2)} dari 1; n = {count})"
        )
        if split:
            return (
                f"Members of {who} see {dim} very differently from one another {index}, so its "
                "average hides a wide spread."
                if en
                else f"Anggota {who} menilai {dim} sangat beragam {index}, sehingga rata-ratanya "
                "menutupi perbedaan yang lebar."
            )
        sentences = {
            "en": (
                f"Members of {who} do not agree on {dim} {index}: their answers vary about as "
                "much as random answers would.",
                f"Members of {who} agree only weakly on {dim} {index}.",
                f"Members of {who} partly agree on {dim} {index}, with some differences of view.",
                f"Members of {who} largely agree on {dim} {index}.",
                f"Members of {who} agree very closely on {dim} {index}.",
            ),
            "id": (
                f"Anggota {who} tidak sepakat tentang {dim} {index}: jawaban mereka hampir "
                "seberagam jawaban acak.",
                f"Kesepakatan anggota {who} tentang {dim} lemah {index}.",
                f"Anggota {who} cukup sepakat tentang {dim} {index}, meski ada sejumlah "
                "perbedaan pandangan.",
                f"Anggota {who} umumnya sepakat tentang {dim} {index}.",
                f"Anggota {who} sangat sepakat tentang {dim} {index}.",
            ),
        }
        return sentences[lang][band]

    return _both(build)


def _flag(value: Any) -> bool | None:
    """Read a nullable boolean cell as True / False / None."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"split must be a boolean or missing, got {value!r}")


# --------------------------------------------------------------------------- reliability


def reliability_sentence(
    row: Mapping[str, Any] | pd.Series,
    label: Mapping[str, str] | str,
    *,
    item_labels: Mapping[str, Any] | None = None,
) -> Sentence:
    """Say how well a dimension's questions hang together (Cronbach's alpha in words).

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.reliability.reliability_by_dimension`: ``alpha``, ``n`` and,
        when present, ``ci_low``, ``ci_high``, ``k``, ``items_raise_alpha``,
        ``items_negative_r``, ``reason``.
    label : {"id": str, "en": str} or str
        The dimension.
    item_labels : mapping, optional
        Item id to a short text (str or ``{"id", "en"}``) used when naming items; the item
        id is shown otherwise.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Notes
    -----
    Alpha in words, after George & Mallery (2003) with their two lowest bands merged:
    >= 0.9 "very well", >= 0.8 "well", >= 0.7 "acceptably", >= 0.6 "only weakly", below 0.6
    "do not hang together well, so read the score with care". When the lower end of the
    interval lies two or more bands below alpha, the sentence adds that the result is
    uncertain. Items with a negative corrected item-total r are named first ("runs against
    the other questions: check whether it should be scored in reverse"); other items whose
    removal would raise alpha are named as lowering it. Reasons: ``fewer_than_2_items`` ->
    one question, cannot be checked; ``no_total_variance`` -> the answers barely vary;
    anything else -> too few responses to say.

    References
    ----------
    George D, Mallery P (2003) SPSS for Windows Step by Step, 4th ed. Allyn & Bacon.
    Cronbach LJ (1951) Psychometrika 16:297.

    Examples
    --------
    >>> row = {"alpha": 0.812, "ci_low": 0.74, "ci_high": 0.87, "n": 120, "k": 5,
    ...        "items_raise_alpha": ["tr_4"], "items_negative_r": [], "reason": None}
    >>> out = reliability_sentence(row, {"id": "Transparansi", "en": "Transparency"})
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    The 5 questions on Transparency hang together well (Cronbach's alpha 0.81, 95% CI 0.74
    to 0.87, n = 120). “tr_4” lowers the consistency: without it the other questions would
    hang together better.
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Ke-5 pertanyaan tentang Transparansi konsisten satu sama lain (Alpha Cronbach 0,81;
    selang kepercayaan 95%: 0,74 sampai 0,87; n = 120). Pertanyaan “tr_4” menurunkan
    konsistensi: tanpa pertanyaan itu, pertanyaan lainnya akan lebih konsisten.
    """
    where = "reliability_sentence"
    _check_row(row, where, ("alpha", "n"))
    name = _text(label, "label")
    reason = _reason(row)
    alpha = _float(row["alpha"], "alpha")
    if reason == "fewer_than_2_items":
        return {
            "id": (
                f"{name['id']} hanya memiliki satu pertanyaan, sehingga konsistensinya tidak "
                "dapat diperiksa."
            ),
            "en": (
                f"{name['en']} has only one question, so how well its questions hang together "
                "cannot be checked."
            ),
        }
    if reason == "no_total_variance":
        return {
            "id": (
                f"{name['id']}: jawaban hampir tidak bervariasi, sehingga konsistensi "
                "pertanyaannya tidak dapat diukur."
            ),
            "en": (
                f"{name['en']}: the answers barely vary, so how well the questions hang "
                "together cannot be measured."
            ),
        }
    if reason is not None or math.isnan(alpha):
        return {
            "id": (
                f"{name['id']}: terlalu sedikit jawaban untuk menyimpulkan seberapa konsisten "
                "pertanyaan-pertanyaannya."
            ),
            "en": (f"{name['en']}: too few responses to say how well its questions hang together."),
        }
    n = _count(row["n"], "n")
    k = _count(row.get("k"), "k") if "k" in row else 0
    ci_low, ci_high = _opt_float(row, "ci_low"), _opt_float(row, "ci_high")
    has_ci = not math.isnan(ci_low) and not math.isnan(ci_high)
    band = sum(alpha >= edge for edge in ALPHA_CUTOFFS)  # 0 poor ... 4 excellent
    uncertain = has_ci and band - sum(ci_low >= edge for edge in ALPHA_CUTOFFS) >= 2
    negative = (
        [str(i) for i in _sequence(row.get("items_negative_r"))]
        if ("items_negative_r" in row)
        else []
    )
    raising = (
        [str(i) for i in _sequence(row.get("items_raise_alpha"))]
        if ("items_raise_alpha" in row)
        else []
    )
    raising = [i for i in raising if i not in negative]

    def items_text(ids: list[str], lang: Lang) -> str:
        return _join([_quote(_name(item_labels, i)[lang]) for i in ids], lang)

    def build(lang: Lang) -> str:
        en = lang == "en"
        dim, count = name[lang], _fmt(n, lang, 0)
        a = _fmt(alpha, lang, 2)
        if en:
            subject = f"The {k} questions on {dim}" if k else f"The questions on {dim}"
            stats_text = f"Cronbach's alpha {a}"
            if has_ci:
                stats_text += f", 95% CI {_fmt(ci_low, lang, 2)} to {_fmt(ci_high, lang, 2)}"
            stats_text += f", n = {count}"
            verdict = (
                f"do not hang together well, so read the score for {dim} with care",
                "hang together only weakly",
                "hang together acceptably",
                "hang together well",
                "hang together very well",
            )[band]
            text = f"{subject} {verdict} ({stats_text})."
            if uncertain:
                text += " With this few respondents the result is uncertain."
            if negative:
                one = len(negative) == 1
                text += (
                    f" {items_text(negative, lang)} {'runs' if one else 'run'} against the other "
                    f"questions: check whether {'it' if one else 'they'} should be scored in "
                    "reverse."
                )
            if raising:
                one = len(raising) == 1
                text += (
                    f" {items_text(raising, lang)} {'lowers' if one else 'lower'} the "
                    f"consistency: without {'it' if one else 'them'} the other questions would "
                    "hang together better."
                )
            return text
        subject = (
            f"Ke-{k} pertanyaan tentang {dim}" if k else f"Pertanyaan-pertanyaan tentang {dim}"
        )
        stats_text = f"Alpha Cronbach {a}"
        if has_ci:
            stats_text += (
                f"; selang kepercayaan 95%: {_fmt(ci_low, lang, 2)} sampai {_fmt(ci_high, lang, 2)}"
            )
        stats_text += f"; n = {count}"
        verdict = (
            "tidak konsisten satu sama lain",
            "kurang konsisten satu sama lain",
            "cukup konsisten satu sama lain",
            "konsisten satu sama lain",
            "sangat konsisten satu sama lain",
        )[band]
        text = f"{subject} {verdict} ({stats_text})"
        text += f", jadi baca skor {dim} dengan hati-hati." if band == 0 else "."
        if uncertain:
            text += " Dengan jumlah responden ini, hasilnya masih belum pasti."
        if negative:
            text += (
                f" Pertanyaan {items_text(negative, lang)} berlawanan arah dengan pertanyaan "
                "lain; periksa apakah skornya perlu dibalik."
            )
        if raising:
            text += (
                f" Pertanyaan {items_text(raising, lang)} menurunkan konsistensi: tanpa "
                "pertanyaan itu, pertanyaan lainnya akan lebih konsisten."
            )
        return text

    return _both(build)


# --------------------------------------------------------------------------- ratings


def rating_asymmetry_sentence(
    row: Mapping[str, Any] | pd.Series,
    item_label: Mapping[str, str] | str,
    names: Mapping[Hashable, Any] | None = None,
    *,
    min_n: int = 5,
    scale_min: float | None = None,
    scale_max: float | None = None,
) -> Sentence:
    """Say how two partners rate each other: A's rating of B against B's rating of A.

    Parameters
    ----------
    row : dict or pandas.Series
        ``rater`` (A), ``ratee`` (B), ``mean_ab`` (A's mean rating of B), ``mean_ba`` (B's
        of A), ``n_ab``, ``n_ba`` (their numbers of ratings) and ``difference``
        (``mean_ab - mean_ba``). Optional ``p_value`` / ``p_adjusted`` when a test was run.
    item_label : {"id": str, "en": str} or str
        The rating question, quoted verbatim.
    names : mapping, optional
        Partner id to display name; the id is shown otherwise.
    min_n : int, default 5
        Fewest ratings on each side for a comparison (pass the anonymity threshold k).
    scale_min, scale_max : float, optional
        Scale bounds (else from the row, else 1 and 5) for the practical judgement.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Raises
    ------
    ValueError
        If ``difference`` is not ``mean_ab - mean_ba`` (a sign mix-up would reverse the
        sentence).

    Notes
    -----
    Without a p-value the sentence says that no test was run and offers the gap as a prompt
    for discussion, not a finding. With one, the usual evidence words apply, and a gap
    below :data:`PRACTICAL_SHARE` of the scale range with p < 0.05 is called small in
    practice. A gap that rounds to 0.0 is "about the same".

    Examples
    --------
    >>> row = {"rater": 1, "ratee": 2, "mean_ab": 4.25, "mean_ba": 3.1, "n_ab": 8,
    ...        "n_ba": 6, "difference": 1.15}
    >>> out = rating_asymmetry_sentence(
    ...     row, {"id": "Memenuhi komitmen", "en": "Delivers on its commitments"},
    ...     {1: "Dinas Kesehatan", 2: "Yayasan Anak Sehat"})
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Dinas Kesehatan rates Yayasan Anak Sehat 4.3 on “Delivers on its commitments”
    (n = 8), while Yayasan Anak Sehat rates Dinas Kesehatan 3.1 (n = 6): a gap of
    1.2 points. No test was run on this gap: use it to start a conversation, not as
    a finding.
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Dinas Kesehatan memberi Yayasan Anak Sehat nilai 4,3 untuk “Memenuhi komitmen” (n = 8),
    sedangkan Yayasan Anak Sehat memberi Dinas Kesehatan nilai 3,1 (n = 6): selisih
    1,2 poin. Selisih ini belum diuji secara statistik; gunakan sebagai bahan diskusi,
    bukan kesimpulan.
    """
    where = "rating_asymmetry_sentence"
    _check_row(row, where, ("rater", "ratee", "mean_ab", "mean_ba", "n_ab", "n_ba", "difference"))
    item = _text(item_label, "item_label")
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise ValueError(f"min_n must be a positive int, got {min_n!r}")
    rater, ratee = _name(names, row["rater"]), _name(names, row["ratee"])
    mean_ab, mean_ba = _float(row["mean_ab"], "mean_ab"), _float(row["mean_ba"], "mean_ba")
    difference = _float(row["difference"], "difference")
    n_ab, n_ba = _count(row["n_ab"], "n_ab"), _count(row["n_ba"], "n_ba")
    has_test = "p_value" in row or "p_adjusted" in row
    p, adjusted = _p(row, where) if has_test else (math.nan, False)
    if (
        min(n_ab, n_ba) < min_n
        or math.isnan(mean_ab)
        or math.isnan(mean_ba)
        or math.isnan(difference)
        or (has_test and math.isnan(p))
    ):
        return {
            "id": (
                f"Terlalu sedikit jawaban untuk menyimpulkan bagaimana {rater['id']} dan "
                f"{ratee['id']} saling menilai untuk {_quote(item['id'])}."
            ),
            "en": (
                f"Too few responses to say how {rater['en']} and {ratee['en']} rate each other "
                f"on {_quote(item['en'])}."
            ),
        }
    if abs(difference - (mean_ab - mean_ba)) > 1e-9 * max(1.0, abs(mean_ab), abs(mean_ba)):
        raise ValueError(
            f"{where}: difference must be mean_ab - mean_ba = {mean_ab - mean_ba}, got {difference}"
        )
    low, high = _scale(row, scale_min, scale_max)
    small = _small_in_practice(difference, low, high)

    def build(lang: Lang) -> str:
        en = lang == "en"
        a, b, quoted = rater[lang], ratee[lang], _quote(item[lang])
        ab, ba = _fmt(mean_ab, lang), _fmt(mean_ba, lang)
        n1, n2 = _fmt(n_ab, lang, 0), _fmt(n_ba, lang, 0)
        if _is_zero(difference):
            text = (
                f"{a} and {b} rate each other about the same on {quoted} ({ab} and {ba}; "
                f"n = {n1} and {n2})."
                if en
                else f"{a} dan {b} saling memberi nilai yang hampir sama untuk {quoted} ({ab} "
                f"dan {ba}; n = {n1} dan {n2})."
            )
        else:
            d = _fmt(abs(difference), lang)
            text = (
                f"{a} rates {b} {ab} on {quoted} (n = {n1}), while {b} rates {a} {ba} "
                f"(n = {n2}): a gap of {d} points."
                if en
                else f"{a} memberi {b} nilai {ab} untuk {quoted} (n = {n1}), sedangkan {b} "
                f"memberi {a} nilai {ba} (n = {n2}): selisih {d} poin."
            )
        if not has_test:
            return text + (
                " No test was run on this gap: use it to start a conversation, not as a finding."
                if en
                else " Selisih ini belum diuji secara statistik; gunakan sebagai bahan diskusi, "
                "bukan kesimpulan."
            )
        ptext = _p_text(p, adjusted, lang)
        tier = _tier(p)
        if tier == "strong":
            text += (
                f" A gap this large would rarely arise by chance alone ({ptext})"
                if en
                else f" Selisih sebesar ini jarang muncul hanya karena kebetulan ({ptext})"
            )
            if small:
                text += (
                    ", but it is small in practice"
                    if en
                    else (", tetapi dalam praktik selisihnya kecil")
                )
            return text + "."
        if tier == "weak":
            return text + (
                f" This gap might be chance ({ptext})."
                if en
                else f" Selisih ini masih mungkin hanya kebetulan ({ptext})."
            )
        return text + (
            f" This gap could easily be chance ({ptext})."
            if en
            else f" Selisih ini bisa saja hanya kebetulan ({ptext})."
        )

    return _both(build)


# --------------------------------------------------------------------------- meta-perception


def meta_perception_sentence(
    row: Mapping[str, Any] | pd.Series,
    label: Mapping[str, str] | str,
    name: Mapping[str, str] | str,
    *,
    min_n: int = 5,
    scale_min: float | None = None,
    scale_max: float | None = None,
) -> Sentence:
    """Say how a partner expects the others to rate something, against how they do.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.metaperception.meta_perception`: ``n_predicted``,
        ``predicted_mean``, ``n_actual``, ``actual_mean``, ``difference``, optional
        ``p_value`` / ``p_adjusted`` (no test: the partnership row) and ``reason``.
    label : {"id": str, "en": str} or str
        What is rated (a dimension, or an item's statement, quoted as the caller wishes).
    name : {"id": str, "en": str} or str
        Who predicts: the partner's name, or e.g. "Partners together" for the partnership row.
    min_n : int, default 5
        Fewest predictions and fewest actual values for a comparison (pass k).
    scale_min, scale_max : float, optional
        Scale bounds (else from the row, else 1 and 5) for the practical judgement.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Raises
    ------
    ValueError
        If ``difference`` is not ``predicted_mean - actual_mean``.

    Notes
    -----
    A positive difference is an overestimate ("thinks it is seen better than it is"), a
    negative one an underestimate; a difference that rounds to 0.0 matches. Evidence words
    and "small in practice" follow the module rules; without a p-value the sentence says no
    test was run.

    Examples
    --------
    >>> row = {"n_predicted": 6, "predicted_mean": 4.25, "n_actual": 11, "actual_mean": 3.1,
    ...        "difference": 1.15, "p_value": 0.004, "p_adjusted": 0.008}
    >>> out = meta_perception_sentence(row, "Transparansi", "Dinas Kesehatan")
    >>> print(out["en"])  # doctest: +NORMALIZE_WHITESPACE
    Dinas Kesehatan expects the other partners to rate Transparansi 4.3 (n = 6); they
    actually rate it 3.1 (n = 11). Dinas Kesehatan overestimates how it is seen by 1.2
    points. A difference this large would rarely arise by chance alone (p = 0.008,
    adjusted for multiple tests).
    >>> print(out["id"])  # doctest: +NORMALIZE_WHITESPACE
    Dinas Kesehatan memperkirakan mitra lain menilai Transparansi 4,3 (n = 6); kenyataannya
    mitra lain menilainya 3,1 (n = 11). Dinas Kesehatan memperkirakan terlalu tinggi
    sebesar 1,2 poin. Selisih sebesar ini jarang muncul hanya karena kebetulan (p = 0,008,
    sudah dikoreksi untuk uji berganda).
    """
    where = "meta_perception_sentence"
    _check_row(row, where, ("n_predicted", "predicted_mean", "n_actual", "actual_mean",
                            "difference"))
    what, who = _text(label, "label"), _text(name, "name")
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 1:
        raise ValueError(f"min_n must be a positive int, got {min_n!r}")
    predicted = _float(row["predicted_mean"], "predicted_mean")
    actual = _float(row["actual_mean"], "actual_mean")
    difference = _float(row["difference"], "difference")
    n_pred, n_act = _count(row["n_predicted"], "n_predicted"), _count(row["n_actual"], "n_actual")
    has_test = "p_value" in row and not _missing(row.get("p_value"))
    p, adjusted = _p(row, where) if has_test else (math.nan, False)
    if (
        _reason(row) is not None
        or min(n_pred, n_act) < min_n
        or math.isnan(predicted)
        or math.isnan(actual)
        or math.isnan(difference)
    ):
        return {
            "id": (
                f"Terlalu sedikit jawaban untuk membandingkan perkiraan {who['id']} dengan "
                f"penilaian mitra lain untuk {what['id']}."
            ),
            "en": (
                f"Too few responses to compare what {who['en']} expects the other partners to "
                f"say about {what['en']} with what they say."
            ),
        }
    if abs(difference - (predicted - actual)) > 1e-9 * max(1.0, abs(predicted), abs(actual)):
        raise ValueError(
            f"{where}: difference must be predicted_mean - actual_mean = "
            f"{predicted - actual}, got {difference}"
        )
    low, high = _scale(row, scale_min, scale_max)
    small = _small_in_practice(difference, low, high)

    def build(lang: Lang) -> str:
        en = lang == "en"
        a, quoted = who[lang], what[lang]
        pr, ac = _fmt(predicted, lang), _fmt(actual, lang)
        n1, n2 = _fmt(n_pred, lang, 0), _fmt(n_act, lang, 0)
        if _is_zero(difference):
            return (
                f"{a} expects the other partners to rate {quoted} {pr} (n = {n1}), and they "
                f"do ({ac}, n = {n2}): the expectation matches how it is seen."
                if en
                else f"{a} memperkirakan mitra lain menilai {quoted} {pr} (n = {n1}), dan "
                f"memang begitu ({ac}, n = {n2}): perkiraannya sesuai dengan penilaian mereka."
            )
        d = _fmt(abs(difference), lang)
        over = difference > 0
        text = (
            f"{a} expects the other partners to rate {quoted} {pr} (n = {n1}); they actually "
            f"rate it {ac} (n = {n2}). {a} {'over' if over else 'under'}estimates how it is "
            f"seen by {d} points."
            if en
            else f"{a} memperkirakan mitra lain menilai {quoted} {pr} (n = {n1}); kenyataannya "
            f"mitra lain menilainya {ac} (n = {n2}). {a} memperkirakan terlalu "
            f"{'tinggi' if over else 'rendah'} sebesar {d} poin."
        )
        if not has_test:
            return text + (
                " No test was run on this difference: use it to start a conversation, not as "
                "a finding."
                if en
                else " Selisih ini belum diuji secara statistik; gunakan sebagai bahan "
                "diskusi, bukan kesimpulan."
            )
        ptext = _p_text(p, adjusted, lang)
        tier = _tier(p)
        if tier == "strong":
            text += (
                f" A difference this large would rarely arise by chance alone ({ptext})"
                if en
                else f" Selisih sebesar ini jarang muncul hanya karena kebetulan ({ptext})"
            )
            if small:
                text += ", but it is small in practice" if en else (
                    ", tetapi dalam praktik selisihnya kecil"
                )
            return text + "."
        if tier == "weak":
            return text + (
                f" This difference might be chance ({ptext})."
                if en
                else f" Selisih ini masih mungkin hanya kebetulan ({ptext})."
            )
        return text + (
            f" This difference could easily be chance ({ptext})."
            if en
            else f" Selisih ini bisa saja hanya kebetulan ({ptext})."
        )

    return _both(build)


# --------------------------------------------------------------------------- methods


def p_method_sentence(row: Mapping[str, Any] | pd.Series) -> Sentence | None:
    """Say how a p-value was obtained: exact, by permutation, by Monte Carlo or approximated.

    Parameters
    ----------
    row : dict or pandas.Series
        A test row with ``p_method`` (``"exact"``, ``"permutation"``, ``"monte_carlo"`` or
        ``"asymptotic"``) and, for Monte Carlo, ``p_mc_se`` and the number of random
        arrangements in ``n_resamples`` or ``n_permutations``.

    Returns
    -------
    dict or None
        ``{"id": str, "en": str}``, or None when the row has no p-value method.

    Notes
    -----
    "permutation" with a complete enumeration is exact too (conditional on ties). The Monte
    Carlo standard error is given to three decimals, or as "< 0.001".

    Examples
    --------
    >>> p_method_sentence({"p_method": "exact"})["en"]
    'Exact p-value: every possible arrangement of the answers was counted.'
    >>> row = {"p_method": "monte_carlo", "n_permutations": 999, "p_mc_se": 0.0071}
    >>> print(p_method_sentence(row)["en"])  # doctest: +NORMALIZE_WHITESPACE
    Monte Carlo p-value from 999 random arrangements of the answers (standard error
    0.007).
    >>> print(p_method_sentence(row)["id"])  # doctest: +NORMALIZE_WHITESPACE
    Nilai p Monte Carlo dari 999 susunan acak jawaban (galat baku 0,007).
    """
    method = row.get("p_method") if isinstance(row, Mapping | pd.Series) else None
    if _missing(method) or method is None:
        return None
    method = str(method)
    if method in ("exact", "permutation"):
        return {
            "id": "Nilai p eksak: setiap kemungkinan susunan jawaban dihitung.",
            "en": "Exact p-value: every possible arrangement of the answers was counted.",
        }
    if method == "asymptotic":
        return {
            "id": "Nilai p dari pendekatan normal/khi-kuadrat (kelompok terlalu besar untuk "
            "dihitung satu per satu).",
            "en": "Approximate p-value (normal or chi-squared): the groups are too large to "
            "count every arrangement.",
        }
    if method == "monte_carlo":
        m = _count(row.get("n_resamples") if "n_resamples" in row else row.get("n_permutations"),
                   "n_resamples")
        se = _opt_float(row, "p_mc_se")

        def build(lang: Lang) -> str:
            if math.isnan(se):
                error = ""
            elif se < 0.0005:
                error = " (standard error < 0.001)" if lang == "en" else " (galat baku < 0,001)"
            else:
                value = _fmt(se, lang, 3)
                error = (f" (standard error {value})" if lang == "en"
                         else f" (galat baku {value})")
            count = _fmt(m, lang, 0)
            return (
                f"Monte Carlo p-value from {count} random arrangements of the answers{error}."
                if lang == "en"
                else f"Nilai p Monte Carlo dari {count} susunan acak jawaban{error}."
            )

        return _both(build)
    raise ValueError(f"p_method_sentence: unknown p_method {method!r}")


_TRUST: dict[str, Sentence] = {
    "agree": {
        "id": "Alfa dan omega sejalan; keduanya dapat dipakai.",
        "en": "Alpha and omega agree; either can be quoted.",
    },
    "unequal_loadings": {
        "id": "Omega lebih tinggi daripada alfa karena pertanyaan-pertanyaannya tidak sama "
        "kuat mengukur hal yang sama; alfa meremehkan keandalan, jadi pakailah omega.",
        "en": "Omega is higher than alpha because the questions do not measure the common "
        "theme equally strongly; alpha underestimates reliability here, so trust omega.",
    },
    "omega_not_estimable": {
        "id": "Omega tidak dapat dihitung (kurang dari 3 pertanyaan atau terlalu sedikit "
        "jawaban lengkap); pakailah alfa.",
        "en": "Omega cannot be computed (fewer than 3 questions or too few complete "
        "responses); read alpha.",
    },
    "nothing_estimable": {
        "id": "Alfa maupun omega tidak dapat dihitung.",
        "en": "Neither alpha nor omega can be computed.",
    },
    "negative_loading": {
        "id": "Ada pertanyaan yang berlawanan arah dengan yang lain (mungkin skornya perlu "
        "dibalik); jangan pakai alfa maupun omega sebelum pertanyaan itu diperiksa.",
        "en": "A question runs against the others (perhaps it should be reverse-scored); "
        "trust neither alpha nor omega until it is checked.",
    },
    "improper_solution": {
        "id": "Model satu faktor di balik omega tidak wajar; jangan pakai alfa maupun omega "
        "sebagai ringkasan.",
        "en": "The one-factor model behind omega is improper; trust neither alpha nor omega "
        "as a summary.",
    },
    "poor_one_factor_fit": {
        "id": "Alfa jauh di atas omega: pertanyaan-pertanyaan ini tampaknya mengukur lebih "
        "dari satu hal, jadi keduanya bukan ringkasan yang baik.",
        "en": "Alpha is well above omega: the questions seem to measure more than one thing, "
        "so neither is a sound summary.",
    },
}


def reliability_choice_sentence(row: Mapping[str, Any] | pd.Series) -> Sentence | None:
    """Say which reliability coefficient to trust when alpha and omega are both shown.

    Parameters
    ----------
    row : dict or pandas.Series
        A row of :func:`analysis.reliability.reliability_by_dimension` with ``trust_reason``
        (from :func:`analysis.reliability.which_reliability`).

    Returns
    -------
    dict or None
        ``{"id": str, "en": str}``; None when the row has no ``trust_reason`` (older results).

    Examples
    --------
    >>> reliability_choice_sentence({"trust_reason": "agree"})["en"]
    'Alpha and omega agree; either can be quoted.'
    """
    reason = row.get("trust_reason") if isinstance(row, Mapping | pd.Series) else None
    if reason is None or _missing(reason):
        return None
    if str(reason) not in _TRUST:
        raise ValueError(f"reliability_choice_sentence: unknown trust_reason {reason!r}")
    return dict(_TRUST[str(reason)])


# --------------------------------------------------------------------------- suppression


def suppressed_sentence(k: int) -> Sentence:
    """Say that a figure is hidden because fewer than k people answered.

    Parameters
    ----------
    k : int
        The anonymity threshold (see :mod:`analysis.privacy`), a positive int.

    Returns
    -------
    dict
        ``{"id": str, "en": str}``.

    Examples
    --------
    >>> suppressed_sentence(5)["en"]
    'Fewer than 5 responses: not shown, to protect anonymity.'
    >>> suppressed_sentence(5)["id"]
    'Kurang dari 5 jawaban: tidak ditampilkan demi menjaga kerahasiaan responden.'
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return {
        "id": f"Kurang dari {_fmt(int(k), 'id', 0)} jawaban: tidak ditampilkan demi menjaga "
        "kerahasiaan responden.",
        "en": f"Fewer than {_fmt(int(k), 'en', 0)} responses: not shown, to protect anonymity.",
    }
