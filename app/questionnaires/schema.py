"""Validate a questionnaire definition held as plain data (the parsed YAML or a stored snapshot).

Two passes, both always run so that an author sees every problem at once:

1. *Structure* (pydantic, strict): unknown keys, missing keys, wrong types, id patterns, limits.
   Strict mode matters: YAML 1.1 turns unquoted ``no`` into ``False`` and ``010`` into ``8``,
   and a lax validator would quietly accept them as text.
2. *Meaning* (hand-written, tolerant of broken structure): translations, duplicate ids,
   references to scales and dimensions, scale order, reverse coding, favourable_min, bands.

Nothing here knows about YAML or line numbers: findings carry a field path, and the loader
turns paths into lines. :class:`Problem` and :class:`QuestionnaireError` live here because both
the loader and :meth:`Questionnaire.from_dict` raise them.
"""

from __future__ import annotations

import datetime
import difflib
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

MAX_FILE_BYTES = 256 * 1024
MAX_QUESTIONS = 200
MAX_TEXT_CHARS = 2000
MAX_PROBLEMS = 100
FALLBACK_LANGUAGE = "id"

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
_PATTERN_HELP = {
    SLUG_PATTERN: "lower-case letters and digits in words joined by '-', e.g. 'kemitraan-sehat'",
    ID_PATTERN: "a lower-case letter, then lower-case letters, digits or '_', e.g. 'kes1'",
    LANGUAGE_PATTERN: "a 2-3 letter lower-case language code such as 'id' or 'en'",
}
# Band edges are compared with this tolerance so that 3.0 written as 3 or 3.0000000001 matches.
EDGE_TOLERANCE = 1e-9

Path = tuple[str | int, ...]


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file, located by file, line and field path."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class QuestionnaireError(ValueError):
    """Raised with every problem found in a questionnaire definition, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("QuestionnaireError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Finding:
    """A problem before it has a file and a line: a field path, a message, maybe a reference.

    ``see`` points at an earlier field (the first use of a duplicated id) so the caller can
    say "first defined at line 12" or at a path when there are no lines. ``kind`` is "text"
    when text was expected, which the loader explains further when YAML coerced the value.
    """

    path: Path
    message: str
    see: Path | None = None
    kind: str = ""
    note: str = ""

    def describe(self, see_where: str | None = None) -> str:
        """Return the full message, naming where ``see`` is (a line or a field path)."""
        where = f" (first defined at {see_where})" if see_where else ""
        return f"{self.message}{where}{self.note}"


def format_path(path: Path) -> str:
    """Render ``('dimensions', 1, 'items', 3, 'scale')`` as ``dimensions[1].items[3].scale``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def cap_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Keep the report readable: at most MAX_PROBLEMS lines, then say how many were left out."""
    ordered = sorted(problems, key=lambda p: p.line or 0)
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    rest = len(ordered) - MAX_PROBLEMS
    last = Problem(ordered[0].source, None, "", f"... and {rest} more problems not shown")
    return [*ordered[:MAX_PROBLEMS], last]


# --------------------------------------------------------------------------- structure


def _strip(value: str) -> str:
    # Folded and literal YAML blocks end with a newline; it is not part of the text.
    return value.strip()


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]
Language = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
TextString = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS), AfterValidator(_strip)]
# Missing translations (including an empty mapping) are reported by the meaning pass.
TextSchema = dict[Language, TextString]
Number = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ScalePointSchema(_Strict):
    value: Annotated[int, Field(ge=-1000, le=1000)]
    label: TextSchema


class DontKnowSchema(_Strict):
    label: TextSchema


class ScaleSchema(_Strict):
    id: Ident
    points: Annotated[list[ScalePointSchema], Field(min_length=2, max_length=11)]
    dont_know: DontKnowSchema | None = None
    favourable_min: int | None = None


class BandSchema(_Strict):
    id: Ident
    label: TextSchema
    min: Number
    max: Number


class ItemSchema(_Strict):
    id: Ident
    text: TextSchema
    scale: Ident
    reverse: bool = False
    required: bool = True


class DimensionSchema(_Strict):
    id: Ident
    title: TextSchema
    description: TextSchema | None = None
    scoring: Literal["mean", "sum"] = "mean"
    min_answered: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.5
    bands: Annotated[list[BandSchema], Field(max_length=10)] = []
    discussion_prompts: Annotated[list[TextSchema], Field(max_length=20)] = []
    items: Annotated[list[ItemSchema], Field(min_length=1, max_length=MAX_QUESTIONS)]


class TotalSchema(_Strict):
    method: Literal["mean_of_dimensions", "sum_of_items"] = "mean_of_dimensions"
    bands: Annotated[list[BandSchema], Field(max_length=10)] = []


class OpenQuestionSchema(_Strict):
    id: Ident
    text: TextSchema
    required: bool = False
    max_length: Annotated[int, Field(ge=1, le=MAX_TEXT_CHARS)] = MAX_TEXT_CHARS


class PartnerRatingSchema(_Strict):
    id: Ident
    text: TextSchema
    scale: Ident
    dimension: Ident | None = None
    required: bool = False


class QuestionnaireSchema(_Strict):
    slug: Slug
    version: Annotated[int, Field(ge=1, le=1_000_000)]
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)]
    title: TextSchema
    description: TextSchema | None = None
    scales: Annotated[list[ScaleSchema], Field(min_length=1, max_length=20)]
    dimensions: Annotated[list[DimensionSchema], Field(min_length=1, max_length=50)]
    total: TotalSchema | None = None
    open_questions: Annotated[list[OpenQuestionSchema], Field(max_length=MAX_QUESTIONS)] = []
    partner_ratings: Annotated[list[PartnerRatingSchema], Field(max_length=MAX_QUESTIONS)] = []


def _all_keys() -> list[str]:
    keys: set[str] = set()
    for model in (
        QuestionnaireSchema,
        ScaleSchema,
        ScalePointSchema,
        DontKnowSchema,
        BandSchema,
        ItemSchema,
        DimensionSchema,
        TotalSchema,
        OpenQuestionSchema,
        PartnerRatingSchema,
    ):
        keys.update(model.model_fields)
    return sorted(keys)


_KNOWN_KEYS = _all_keys()
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def describe_value(value: Any) -> str:
    """Name a parsed value the way an author would recognise it in the file."""
    if isinstance(value, bool):
        return f"true/false value {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):
        return f"a date ({value})"
    return f"{type(value).__name__} {value}"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _message(err: dict[str, Any]) -> tuple[str, str]:
    """Turn a pydantic error into a plain sentence and a kind ("text" when text was expected)."""
    etype, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if etype == "missing":
        return "missing required key", ""
    if etype == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{key}'{hint}", ""
    if etype == "dict_type" and isinstance(value, str):
        return f"expected one text per language (id: ..., en: ...), got {describe_value(value)}", (
            "type"
        )
    if etype in _EXPECTED:
        # "text" marks the one case where quoting the value in YAML is the fix.
        kind = "text" if etype == "string_type" else "type"
        return f"expected {_EXPECTED[etype]}, got {describe_value(value)}", kind
    if etype == "string_pattern_mismatch":
        wanted = _PATTERN_HELP.get(ctx.get("pattern", ""), f"match {ctx.get('pattern')}")
        return f"{value!r} is not valid: use {wanted}", ""
    if etype == "string_too_long":
        return f"text is {len(value)} characters; the limit is {ctx['max_length']}", ""
    if etype == "too_short":
        least = ctx["min_length"]
        return f"needs at least {least} {'entry' if least == 1 else 'entries'}", ""
    if etype == "too_long":
        return f"has more than the allowed {ctx['max_length']} entries", ""
    if etype == "literal_error":
        return f"expected {ctx['expected']}, got {describe_value(value)}", ""
    if etype == "finite_number":
        return "must be a finite number", ""
    if etype in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        op = {
            "greater_than": ">",
            "greater_than_equal": ">=",
            "less_than": "<",
            "less_than_equal": "<=",
        }[etype]
        bound = next(iter(ctx.values()))
        return f"must be {op} {bound}, got {value}", ""
    return err["msg"][0].lower() + err["msg"][1:], ""


def structural_findings(data: Any) -> tuple[QuestionnaireSchema | None, list[Finding]]:
    """Validate the shape and types of ``data``; return the model when it is valid."""
    try:
        return QuestionnaireSchema.model_validate(data), []
    except PydanticValidationError as exc:
        findings = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            message, kind = _message(err)
            findings.append(Finding(loc, message, kind=kind))
        return None, findings


# --------------------------------------------------------------------------- meaning
# These checks read the raw data defensively: a field of the wrong type is simply skipped,
# because the structural pass has already reported it.


def _seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class _ScaleInfo:
    values: tuple[int, ...]
    ordered: bool
    evenly_spaced: bool

    @property
    def low(self) -> int:
        return min(self.values)

    @property
    def high(self) -> int:
        return max(self.values)


def _text_fields(data: dict[Any, Any]) -> Iterator[tuple[Path, Any]]:
    """Yield (path, value) for every translated text in the definition."""
    yield ("title",), data.get("title")
    if data.get("description") is not None:
        yield ("description",), data.get("description")
    for si, scale in enumerate(_seq(data.get("scales"))):
        scale = _map(scale)
        for pi, point in enumerate(_seq(scale.get("points"))):
            yield ("scales", si, "points", pi, "label"), _map(point).get("label")
        if isinstance(scale.get("dont_know"), dict):
            yield ("scales", si, "dont_know", "label"), scale["dont_know"].get("label")
    for di, dim in enumerate(_seq(data.get("dimensions"))):
        dim = _map(dim)
        base: Path = ("dimensions", di)
        yield (*base, "title"), dim.get("title")
        if dim.get("description") is not None:
            yield (*base, "description"), dim.get("description")
        for bi, band in enumerate(_seq(dim.get("bands"))):
            yield (*base, "bands", bi, "label"), _map(band).get("label")
        for qi, prompt in enumerate(_seq(dim.get("discussion_prompts"))):
            yield (*base, "discussion_prompts", qi), prompt
        for ii, item in enumerate(_seq(dim.get("items"))):
            yield (*base, "items", ii, "text"), _map(item).get("text")
    for bi, band in enumerate(_seq(_map(data.get("total")).get("bands"))):
        yield ("total", "bands", bi, "label"), _map(band).get("label")
    for section in ("open_questions", "partner_ratings"):
        for qi, question in enumerate(_seq(data.get(section))):
            yield (section, qi, "text"), _map(question).get("text")


def _declared_languages(data: dict[Any, Any], findings: list[Finding]) -> list[str]:
    raw = data.get("languages")
    if not isinstance(raw, list):
        return [FALLBACK_LANGUAGE]
    langs: list[str] = []
    for i, lang in enumerate(raw):
        if not isinstance(lang, str):
            continue
        if lang in langs:
            findings.append(Finding(("languages", i), f"language '{lang}' is listed twice"))
        else:
            langs.append(lang)
    if FALLBACK_LANGUAGE not in langs:
        findings.append(
            Finding(
                ("languages",),
                f"must include '{FALLBACK_LANGUAGE}' (Indonesian): it is the fallback language",
            )
        )
    return langs or [FALLBACK_LANGUAGE]


# Control characters other than tab and newline have no place in question text, and one of them
# (U+0085, "next line") does not even survive a YAML dump and reload unchanged.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _check_texts(data: dict[Any, Any], langs: list[str], findings: list[Finding]) -> None:
    lang_re = re.compile(LANGUAGE_PATTERN)
    for path, value in _text_fields(data):
        if not isinstance(value, dict):
            continue
        for lang in langs:
            text = value.get(lang)
            if lang not in value:
                findings.append(Finding(path, f"missing '{lang}' translation"))
            elif isinstance(text, str) and not text.strip():
                findings.append(Finding((*path, lang), f"'{lang}' text is empty"))
        for lang, text in value.items():
            control = _CONTROL.search(text) if isinstance(text, str) else None
            if control:
                findings.append(
                    Finding(
                        (*path, lang),
                        f"text contains the control character U+{ord(control.group()):04X}; "
                        "remove it",
                    )
                )
        for key in value:
            if isinstance(key, str) and key not in langs and lang_re.match(key):
                findings.append(
                    Finding(
                        (*path, key),
                        f"language '{key}' is not declared in languages ({', '.join(langs)})",
                    )
                )


class _Ids:
    """One namespace of ids; remembers where each id was first defined."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.first: dict[str, Path] = {}

    def add(self, value: Any, path: Path, findings: list[Finding], kind: str) -> None:
        if not isinstance(value, str):
            return
        if value in self.first:
            what = f"{self.what} id" if self.what else "id"
            findings.append(
                Finding(
                    path, f"duplicate {what} '{value}'", see=self.first[value], note=f"; {kind}"
                )
            )
        else:
            self.first[value] = path


def _check_scales(data: dict[Any, Any], findings: list[Finding]) -> dict[str, _ScaleInfo | None]:
    """Check each scale and return what later checks need to know about it.

    A scale whose points are malformed maps to None: it exists (so items using it are not told
    "unknown scale") but nothing can be computed from it.
    """
    scales: dict[str, _ScaleInfo | None] = {}
    ids = _Ids("scale")
    for si, scale in enumerate(_seq(data.get("scales"))):
        scale = _map(scale)
        sid = _str(scale.get("id"))
        ids.add(sid, ("scales", si, "id"), findings, "scale ids must be unique")
        points = _seq(scale.get("points"))
        values = [_int(_map(p).get("value")) for p in points]
        info: _ScaleInfo | None = None
        if points and all(v is not None for v in values):
            ints = [v for v in values if v is not None]
            seen: set[int] = set()
            ordered = True
            for pi, v in enumerate(ints):
                path: Path = ("scales", si, "points", pi, "value")
                if v in seen:
                    findings.append(Finding(path, f"value {v} appears twice in this scale"))
                    ordered = False
                elif pi and v < ints[pi - 1]:
                    findings.append(
                        Finding(
                            path,
                            f"values must increase from the first point to the last: "
                            f"{v} comes after {ints[pi - 1]}",
                        )
                    )
                    ordered = False
                seen.add(v)
            steps = {b - a for a, b in itertools.pairwise(ints)}
            info = _ScaleInfo(tuple(ints), ordered, ordered and len(steps) == 1)
            _check_favourable_min(scale, si, info, findings)
        if sid is not None and sid not in scales:
            scales[sid] = info
    return scales


def _check_favourable_min(
    scale: dict[Any, Any], si: int, info: _ScaleInfo, findings: list[Finding]
) -> None:
    fav = _int(scale.get("favourable_min"))
    if fav is None:
        return
    path: Path = ("scales", si, "favourable_min")
    span = f"{info.low} to {info.high}"
    if not info.low <= fav <= info.high:
        findings.append(Finding(path, f"favourable_min {fav} is outside the scale ({span})"))
    elif fav not in info.values:
        findings.append(
            Finding(
                path,
                f"favourable_min {fav} is not one of the scale's values "
                f"({', '.join(map(str, info.values))})",
            )
        )
    elif fav == info.low:
        findings.append(
            Finding(
                path,
                f"favourable_min {fav} is the lowest value, so every "
                "answer would count as favourable",
            )
        )


def _check_reverse(
    item: dict[Any, Any], path: Path, scale_id: str, info: _ScaleInfo, findings: list[Finding]
) -> None:
    if item.get("reverse") is not True:
        return
    if not info.ordered:
        findings.append(
            Finding(
                (*path, "reverse"),
                f"item is reverse-coded, but scale "
                f"'{scale_id}' is not ordered (its values do not increase)",
            )
        )
    elif not info.evenly_spaced:
        shown = ", ".join(map(str, info.values))
        findings.append(
            Finding(
                (*path, "reverse"),
                f"item is reverse-coded, but the values of scale '{scale_id}' ({shown}) are not "
                "evenly spaced, so min + max - value would give answers that are not on the scale",
            )
        )


def _unknown_scale(scale_id: str, scales: dict[str, _ScaleInfo | None]) -> str:
    known = ", ".join(sorted(scales)) or "none"
    return f"unknown scale '{scale_id}' (declared scales: {known})"


def _check_dimensions(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    questions: _Ids,
    findings: list[Finding],
) -> dict[str, tuple[float, float] | None]:
    """Check items and bands of each dimension; return each dimension's score range."""
    ranges: dict[str, tuple[float, float] | None] = {}
    for di, dim in enumerate(_seq(data.get("dimensions"))):
        dim = _map(dim)
        base: Path = ("dimensions", di)
        did = _str(dim.get("id"))
        questions.add(
            did, (*base, "id"), findings, "dimension and question ids share one namespace"
        )
        item_ranges: list[tuple[int, int] | None] = []
        first_range: tuple[int, int] | None = None
        for ii, item in enumerate(_seq(dim.get("items"))):
            item = _map(item)
            path: Path = (*base, "items", ii)
            questions.add(
                item.get("id"),
                (*path, "id"),
                findings,
                "dimension and question ids share one namespace",
            )
            scale_id = _str(item.get("scale"))
            if scale_id is None:
                item_ranges.append(None)
                continue
            if scale_id not in scales:
                findings.append(Finding((*path, "scale"), _unknown_scale(scale_id, scales)))
                item_ranges.append(None)
                continue
            info = scales[scale_id]
            if info is None:
                item_ranges.append(None)
                continue
            _check_reverse(item, path, scale_id, info, findings)
            rng = (info.low, info.high)
            if first_range is None:
                first_range = rng
            elif rng != first_range:
                findings.append(
                    Finding(
                        (*path, "scale"),
                        f"scale '{scale_id}' runs {rng[0]} to {rng[1]}, but earlier items in this "
                        f"dimension run {first_range[0]} to {first_range[1]}; items of one "
                        "dimension must share a range so their scores can be combined",
                    )
                )
            item_ranges.append(rng)
        score_range = _dimension_range(dim, item_ranges)
        if did is not None and did not in ranges:
            ranges[did] = score_range
        if score_range is not None:
            _check_bands(dim.get("bands"), (*base, "bands"), score_range, findings)
    return ranges


def _dimension_range(
    dim: dict[Any, Any], item_ranges: list[tuple[int, int] | None]
) -> tuple[float, float] | None:
    # Items whose scale is unknown are already reported; the others still fix the range, so
    # the bands can be checked in the same run.
    known = [r for r in item_ranges if r is not None]
    if len(set(known)) != 1:
        return None
    low, high = known[0]
    if dim.get("scoring", "mean") == "sum":
        n = len(item_ranges)
        return float(low * n), float(high * n)
    if dim.get("scoring", "mean") == "mean":
        return float(low), float(high)
    return None


def _check_bands(
    raw: Any, path: Path, score_range: tuple[float, float], findings: list[Finding]
) -> None:
    """Bands must tile the score range: listed lowest first, each ``min`` equal to the
    previous band's ``max``. A score on a shared edge belongs to the higher band."""
    bands = _seq(raw)
    if not bands:
        return
    parsed = []
    for band in bands:
        band = _map(band)
        low, high = _num(band.get("min")), _num(band.get("max"))
        if low is None or high is None:
            return  # already reported by the structural pass
        parsed.append((_str(band.get("id")) or "?", low, high))
    low_end, high_end = score_range
    span = f"{_fmt(low_end)} to {_fmt(high_end)}"
    ids = _Ids("band")
    for bi, (bid, low, high) in enumerate(parsed):
        ids.add(bid, (*path, bi, "id"), findings, "band ids must be unique within a list")
        if low >= high:
            findings.append(
                Finding((*path, bi, "max"), f"max {_fmt(high)} must be above min {_fmt(low)}")
            )
    for bi in range(1, len(parsed)):
        if parsed[bi][1] < parsed[bi - 1][1]:
            # Edge checks on unsorted bands would only repeat this one mistake several ways.
            findings.append(
                Finding((*path, bi, "min"), "bands must be listed from the lowest to the highest")
            )
            return
    first_id, first_low, _ = parsed[0]
    if abs(first_low - low_end) > EDGE_TOLERANCE:
        where = "above" if first_low > low_end else "below"
        findings.append(
            Finding(
                (*path, 0, "min"),
                f"the lowest band '{first_id}' starts at {_fmt(first_low)}, {where} the lowest "
                f"possible score {_fmt(low_end)}; bands must cover exactly {span}",
            )
        )
    last_id, _, last_high = parsed[-1]
    if abs(last_high - high_end) > EDGE_TOLERANCE:
        where = "above" if last_high > high_end else "below"
        findings.append(
            Finding(
                (*path, len(parsed) - 1, "max"),
                f"the highest band '{last_id}' ends at {_fmt(last_high)}, {where} the highest "
                f"possible score {_fmt(high_end)}; bands must cover exactly {span}",
            )
        )
    for bi in range(1, len(parsed)):
        prev_id, _, prev_high = parsed[bi - 1]
        bid, low, _ = parsed[bi]
        at: Path = (*path, bi, "min")
        if low > prev_high + EDGE_TOLERANCE:
            findings.append(
                Finding(
                    at,
                    f"gap between band '{prev_id}' (ends at {_fmt(prev_high)}) and band '{bid}' "
                    f"(starts at {_fmt(low)}): scores in between fall in no band; "
                    + _shared_edge(prev_id, bid),
                )
            )
        elif low < prev_high - EDGE_TOLERANCE:
            findings.append(
                Finding(
                    at,
                    f"band '{bid}' overlaps band '{prev_id}': it starts at {_fmt(low)} but "
                    f"'{prev_id}' ends at {_fmt(prev_high)}; " + _shared_edge(prev_id, bid),
                )
            )


def _shared_edge(lower: str, upper: str) -> str:
    return (
        f"bands share their edges, so give the max of '{lower}' and the min of '{upper}' "
        "the same value (a score on the edge belongs to the higher band)"
    )


def _check_total(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    ranges: dict[str, tuple[float, float] | None],
    findings: list[Finding],
) -> None:
    total = data.get("total")
    if not isinstance(total, dict) or not _seq(total.get("bands")):
        return
    method = total.get("method", "mean_of_dimensions")
    dims = [_map(d) for d in _seq(data.get("dimensions"))]
    score_range: tuple[float, float] | None = None
    if method == "mean_of_dimensions":
        dim_ranges = [ranges.get(_str(d.get("id")) or "") for d in dims]
        if dim_ranges and all(r is not None for r in dim_ranges):
            known = [r for r in dim_ranges if r is not None]
            score_range = (
                sum(r[0] for r in known) / len(known),
                sum(r[1] for r in known) / len(known),
            )
    elif method == "sum_of_items":
        infos = [
            scales.get(_str(_map(i).get("scale")) or "") for d in dims for i in _seq(d.get("items"))
        ]
        if infos and all(info is not None for info in infos):
            known_infos = [info for info in infos if info is not None]
            score_range = (
                float(sum(i.low for i in known_infos)),
                float(sum(i.high for i in known_infos)),
            )
    if score_range is not None:
        _check_bands(total.get("bands"), ("total", "bands"), score_range, findings)


def _check_other_questions(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    ranges: dict[str, tuple[float, float] | None],
    questions: _Ids,
    findings: list[Finding],
) -> None:
    namespace = "dimension and question ids share one namespace"
    for qi, question in enumerate(_seq(data.get("open_questions"))):
        questions.add(_map(question).get("id"), ("open_questions", qi, "id"), findings, namespace)
    for qi, rating in enumerate(_seq(data.get("partner_ratings"))):
        rating = _map(rating)
        path: Path = ("partner_ratings", qi)
        questions.add(rating.get("id"), (*path, "id"), findings, namespace)
        scale_id = _str(rating.get("scale"))
        if scale_id is not None and scale_id not in scales:
            findings.append(Finding((*path, "scale"), _unknown_scale(scale_id, scales)))
        dim = _str(rating.get("dimension"))
        if dim is not None and dim not in ranges:
            known = ", ".join(sorted(ranges)) or "none"
            findings.append(
                Finding(
                    (*path, "dimension"),
                    f"unknown dimension '{dim}' (declared dimensions: {known})",
                )
            )


def _count_questions(data: dict[Any, Any], findings: list[Finding]) -> None:
    n = sum(len(_seq(_map(d).get("items"))) for d in _seq(data.get("dimensions")))
    n += len(_seq(data.get("open_questions"))) + len(_seq(data.get("partner_ratings")))
    if n > MAX_QUESTIONS:
        findings.append(
            Finding(
                (),
                f"{n} questions (items, open questions and partner "
                f"ratings together); the limit is {MAX_QUESTIONS}",
            )
        )


def semantic_findings(data: Any) -> list[Finding]:
    """Check what the structure cannot express; tolerate any malformed part."""
    if not isinstance(data, dict):
        return []
    findings: list[Finding] = []
    langs = _declared_languages(data, findings)
    _check_texts(data, langs, findings)
    scales = _check_scales(data, findings)
    questions = _Ids("")
    ranges = _check_dimensions(data, scales, questions, findings)
    _check_total(data, scales, ranges, findings)
    _check_other_questions(data, scales, ranges, questions, findings)
    _count_questions(data, findings)
    return findings


def validate(data: Any) -> tuple[QuestionnaireSchema | None, list[Finding]]:
    """Run both passes; return the validated model only when no problem was found."""
    spec, findings = structural_findings(data)
    findings = findings + semantic_findings(data)
    return (spec if not findings else None), findings
