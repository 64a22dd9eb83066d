"""Discussion prompts for a reflection workshop, in Bahasa Indonesia and English.

A prompt is an open question the facilitator can put to the room, written from one published
figure, with the figure it came from (its *source*) so that nobody has to take the question
on trust. Each function takes plain numbers and labels (as a snapshot holds them) and returns
``{"question": {"id", "en"}, "source": {"id", "en"}}``. Numbers are written by
:func:`analysis.language.format_number` and :func:`analysis.language.format_p`: the project's
one rounding rule (half up) and each language's decimal mark, as in every results sentence.

The questions never blame a partner: they ask what one partner sees that another does not,
what would help, what got in the way. Labels and names are inserted verbatim (the templates
escape them).

Examples
--------
>>> p = gap_prompt({"id": "Kesetaraan", "en": "Equality"}, "Dinas", 4.22, "Posyandu", 3.0,
...                1.22, 0.011)
>>> p["source"]["en"]
'Equality: Dinas 4.2, Posyandu 3.0; gap 1.2 points (p = 0.01, adjusted).'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis.language import format_number, format_p

__all__ = ["Prompt", "action_prompt", "change_prompt", "disagreement_share", "gap_prompt",
           "low_item_prompt", "split_prompt"]

Prompt = dict[str, dict[str, str]]
LANGS = ("id", "en")


def _t(label: Any, lang: str) -> str:
    """Return a label in ``lang`` from a ``{"id", "en"}`` mapping (falling back) or a str."""
    if isinstance(label, Mapping):
        return str(label.get(lang) or label.get("en" if lang == "id" else "id") or "")
    return "" if label is None else str(label)


def _p(p: float | None, lang: str) -> str:
    if p is None:
        return ""
    text = format_p(p, lang)  # "p = 0.01" or "p < 0.001"
    word = "terkoreksi" if lang == "id" else "adjusted"
    return f" ({text}, {word})"


def gap_prompt(label: Any, high_name: str, high_mean: float, low_name: str, low_mean: float,
               gap: float, p_adjusted: float | None) -> Prompt:
    """Ask about the widest gap between two partners on a dimension or question.

    Parameters
    ----------
    label : str or mapping
        The dimension's or question's label.
    high_name, low_name : str
        The partners with the highest and the lowest mean.
    high_mean, low_mean, gap : float
        Their means and the gap (highest minus lowest), scale points.
    p_adjusted : float or None
        The permutation test's adjusted p of the gap (None: not tested).

    Returns
    -------
    dict
        ``question`` and ``source``, each ``{"id", "en"}``.
    """
    question = {
        "id": f"{high_name} menilai “{_t(label, 'id')}” lebih tinggi daripada {low_name}. "
              f"Apa yang dialami {high_name} yang tidak dialami {low_name}?",
        "en": f"{high_name} rates “{_t(label, 'en')}” higher than {low_name} does. "
              f"What does {high_name} experience that {low_name} does not?",
    }
    source = {lang: (f"{_t(label, lang)}: {high_name} {format_number(high_mean, lang)}, "
                     f"{low_name} {format_number(low_mean, lang)}; "
                     + ("selisih" if lang == "id" else "gap")
                     + f" {format_number(gap, lang)} "
                     + ("poin" if lang == "id" else "points") + _p(p_adjusted, lang) + ".")
              for lang in LANGS}
    return {"question": question, "source": source}


def disagreement_share(counts: Sequence[int]) -> float | None:
    """Share of valid answers below the scale's middle (disagreeing), from published counts.

    Parameters
    ----------
    counts : sequence of int
        Answers per scale point, most negative first (a snapshot distribution's ``counts``).

    Returns
    -------
    float or None
        ``sum(counts[: m // 2]) / sum(counts)`` for ``m`` points; None without answers.

    Notes
    -----
    The same split the diverging bar chart draws left of zero (the middle point of an odd
    scale counts as neither side).

    Examples
    --------
    >>> disagreement_share([1, 3, 15, 27, 9])
    0.07272727272727272
    """
    total = sum(counts)
    if not total:
        return None
    return sum(counts[: len(counts) // 2]) / total


def low_item_prompt(label: Any, share: float, n: int) -> Prompt:
    """Ask about a question that many answered unfavourably (share of disagreeing answers)."""
    percent = {lang: format_number(share * 100, lang, 0) + "%" for lang in LANGS}
    question = {
        "id": f"{percent['id']} tidak setuju bahwa “{_t(label, 'id')}”. "
              "Apa yang perlu berubah agar pernyataan ini benar bagi semua mitra?",
        "en": f"{percent['en']} disagree that “{_t(label, 'en')}”. "
              "What would need to change for this to be true for every partner?",
    }
    source = {
        "id": f"{percent['id']} jawaban sah tidak setuju atau sangat tidak setuju "
              f"(n = {format_number(n, 'id', 0)}).",
        "en": f"{percent['en']} of valid answers disagree or strongly disagree "
              f"(n = {format_number(n, 'en', 0)}).",
    }
    return {"question": question, "source": source}


def split_prompt(name: str, label: Any, rwg: float | None, share_low: float | None,
                 share_high: float | None, n: int) -> Prompt:
    """Ask about a partner whose own people answer very differently on a dimension."""
    question = {
        "id": f"Orang-orang {name} berbeda pendapat tentang {_t(label, 'id')}. "
              "Pengalaman apa yang membuat pandangan mereka berbeda?",
        "en": f"People of {name} disagree among themselves about {_t(label, 'en')}. "
              "What experiences make their views differ?",
    }
    source = {}
    for lang in LANGS:
        parts = []
        if rwg is not None:
            parts.append(("indeks kesepakatan " if lang == "id" else "agreement index ")
                         + format_number(rwg, lang, 2))
        if share_low is not None and share_high is not None:
            low = format_number(share_low * 100, lang, 0) + "%"
            high = format_number(share_high * 100, lang, 0) + "%"
            parts.append(f"{low} rendah, {high} tinggi" if lang == "id"
                         else f"{low} low, {high} high")
        parts.append(f"n = {format_number(n, lang, 0)}")
        source[lang] = f"{name}, {_t(label, lang)}: " + "; ".join(parts) + "."
    return {"question": question, "source": source}


def change_prompt(label: Any, mean_from: float, mean_to: float, difference: float,
                  p_adjusted: float | None, round_from: str, round_to: str) -> Prompt:
    """Ask what lies behind a change of a dimension since the previous round."""
    rose = difference > 0
    question = {
        "id": f"{_t(label, 'id')} " + ("naik" if rose else "turun") + " sejak putaran lalu. "
              + ("Apa yang membantu, dan bagaimana menjaganya?" if rose
                 else "Apa yang menghambat, dan apa yang bisa kita lakukan?"),
        "en": f"{_t(label, 'en')} " + ("rose" if rose else "fell") + " since the last round. "
              + ("What helped, and how do we keep it up?" if rose
                 else "What got in the way, and what can we do?"),
    }
    source = {}
    for lang in LANGS:
        signed = format_number(difference, lang)
        signed = signed if signed.startswith("-") or not rose else "+" + signed
        source[lang] = (f"{_t(label, lang)}: {round_from} {format_number(mean_from, lang)}, "
                        f"{round_to} {format_number(mean_to, lang)} ({signed})"
                        + _p(p_adjusted, lang) + ".")
    return {"question": question, "source": source}


def action_prompt(action: str, label: Any, stats: Mapping[str, str]) -> Prompt:
    """Ask about an agreed action whose dimension did not move by this round.

    ``stats`` holds the change as already written for each language (``{"id", "en"}``) by
    the follow-up pages, so the figure reads the same there and here.
    """
    question = {
        "id": f"Kita sepakat “{action}”, tetapi {_t(label, 'id')} belum bergerak. "
              "Apa yang terjadi, dan apa langkah berikutnya?",
        "en": f"We agreed “{action}”, but {_t(label, 'en')} has not moved. "
              "What happened, and what is the next step?",
    }
    source = {lang: f"{_t(label, lang)}: {stats.get(lang, '')}".strip() for lang in LANGS}
    return {"question": question, "source": source}
