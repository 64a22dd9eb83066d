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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
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
# What a dimension needs answered when the file does not say: half of its items and at least
# two. The same numbers are analysis.scoring's defaults (a test keeps them equal); they are
# not imported from there so that this package never loads pandas at import time.
DEFAULT_MIN_ANSWERED = 0.5
DEFAULT_MIN_ITEMS = 2
# Band edges are compared with this tolerance so that 3.0 written as 3 or 3.0000000001 matches.
EDGE_TOLERANCE = 1e-9

Path = tuple[str | int, ...]


# --------------------------------------------------------------------------- messages

# ``translate(msgid, **params)``: flask_babel.gettext, or anything with the same contract.
Translate = Callable[..., str]


@dataclass(frozen=True)
class Message:
    """An English message and its placeholders, translated only when it is shown.

    The msgid is extracted for the catalogue (it is written inside ``N_(...)``); rendering
    hands it to the reader's ``translate`` with its parameters, so the CLI and the upload
    page give the same problem in Indonesian or English. Parameters may be Messages
    themselves (a described value, a hint) and ``tail`` holds messages appended with ``+``.
    """

    msgid: str
    params: tuple[tuple[str, Any], ...] = ()
    tail: tuple[Message, ...] = ()

    def render(self, translate: Translate | None = None) -> str:
        """Return the text in the reader's language (English without ``translate``)."""
        values = {
            key: value.render(translate) if isinstance(value, Message) else value
            for key, value in self.params
        }
        if translate is None:
            text = self.msgid % values if values else self.msgid
        else:
            text = str(translate(self.msgid, **values))
        return text + "".join(part.render(translate) for part in self.tail)

    def __add__(self, other: Message) -> Message:
        return replace(self, tail=(*self.tail, other))

    def __str__(self) -> str:
        return self.render()


def N_(msgid: str, /, **params: Any) -> Message:
    """Mark ``msgid`` for the catalogue and keep its parameters for when it is shown."""
    return Message(msgid, tuple(params.items()))


_PATTERN_HELP = {
    SLUG_PATTERN: N_(
        "lower-case letters and digits in words joined by '-', e.g. 'kemitraan-sehat'"
    ),
    ID_PATTERN: N_("a lower-case letter, then lower-case letters, digits or '_', e.g. 'kes1'"),
    LANGUAGE_PATTERN: N_("a 2-3 letter lower-case language code such as 'id' or 'en'"),
}


def _plain(text: str) -> Message:
    # Text that is not ours to translate (a YAML parser's own words): shown as it is.
    return Message("%(text)s", (("text", text),))


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file, located by file, line and field path.

    ``message`` is the text in the language it was rendered in (English unless
    :meth:`localized` was used); ``text`` keeps the message id and parameters.
    """

    source: str
    line: int | None
    path: str
    message: str
    text: Message | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, source: str, line: int | None, path: str, text: Message) -> Problem:
        """Build a problem from a translatable message (its English text as ``message``)."""
        return cls(source, line, path, text.render(), text)

    def localized(self, translate: Translate) -> Problem:
        """Return the same problem with ``message`` in the reader's language."""
        if self.text is None:
            return self
        return replace(self, message=self.text.render(translate))

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
    message: Message
    see: Path | None = None
    kind: str = ""
    note: Message | None = None

    def describe(self, see_where: Message | str | None = None) -> Message:
        """Return the full message, naming where ``see`` is (a line or a field path)."""
        out = self.message
        if see_where:
            out = out + N_(" (first defined at %(where)s)", where=see_where)
        if self.note is not None:
            out = out + self.note
        return out


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
    last = Problem.of(
        ordered[0].source, None, "", N_("... and %(rest)s more problems not shown", rest=rest)
    )
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
    min_answered: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = DEFAULT_MIN_ANSWERED
    min_items: Annotated[int, Field(ge=1, le=MAX_QUESTIONS)] = DEFAULT_MIN_ITEMS
    bands: Annotated[list[BandSchema], Field(max_length=10)] = []
    discussion_prompts: Annotated[list[TextSchema], Field(max_length=20)] = []
    items: Annotated[list[ItemSchema], Field(min_length=1, max_length=MAX_QUESTIONS)]


class TotalSchema(_Strict):
    method: Literal[
        "mean_of_dimensions", "mean_of_items", "sum_of_items", "sum_of_dimension_sums"
    ] = "mean_of_dimensions"
    missing: Literal["prorate", "refuse"] = "prorate"
    # Only for the item methods; None means the package default (and is refused elsewhere).
    min_answered: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    min_items: Annotated[int, Field(ge=1, le=MAX_QUESTIONS)] | None = None
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


class MetaPerceptionSchema(_Strict):
    """"How do you think the other partners rate this?" about one item or dimension."""

    id: Ident
    target: Ident
    text: TextSchema
    scale: Ident
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
    meta_perceptions: Annotated[
        list[MetaPerceptionSchema], Field(max_length=MAX_QUESTIONS)
    ] = []


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
        MetaPerceptionSchema,
    ):
        keys.update(model.model_fields)
    return sorted(keys)


_KNOWN_KEYS = _all_keys()
_MAPPING = N_("a mapping (key: value)")
_EXPECTED = {
    "string_type": N_("text"),
    "int_type": N_("a whole number"),
    "float_type": N_("a number"),
    "bool_type": N_("true or false"),
    "list_type": N_("a list"),
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
}


def describe_value(value: Any) -> Message:
    """Name a parsed value the way an author would recognise it in the file."""
    if isinstance(value, bool):
        return N_("true/false value %(value)s", value=str(value).lower())
    if value is None:
        return N_("nothing (null)")
    if isinstance(value, int | float):
        return N_("the number %(value)s", value=value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return N_("text %(value)s", value=repr(shown))
    if isinstance(value, list):
        return N_("a list")
    if isinstance(value, dict):
        return N_("a mapping")
    if isinstance(value, datetime.date):
        return N_("a date (%(value)s)", value=str(value))
    return _plain(f"{type(value).__name__} {value}")


def _fmt(x: float) -> str:
    return f"{x:g}"


def _message(err: dict[str, Any]) -> tuple[Message, str]:
    """Turn a pydantic error into a plain sentence and a kind ("text" when text was expected)."""
    etype, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if etype == "missing":
        return N_("missing required key"), ""
    if etype == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
        if close:
            return N_(
                "unknown key '%(key)s' (did you mean '%(close)s'?)", key=key, close=close[0]
            ), ""
        return N_("unknown key '%(key)s'", key=key), ""
    if etype == "dict_type" and isinstance(value, str):
        return N_(
            "expected one text per language (id: ..., en: ...), got %(value)s",
            value=describe_value(value),
        ), "type"
    if etype in _EXPECTED:
        # "text" marks the one case where quoting the value in YAML is the fix.
        kind = "text" if etype == "string_type" else "type"
        return N_(
            "expected %(expected)s, got %(value)s",
            expected=_EXPECTED[etype],
            value=describe_value(value),
        ), kind
    if etype == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        wanted = _PATTERN_HELP.get(pattern, N_("match %(pattern)s", pattern=pattern))
        return N_("%(value)s is not valid: use %(wanted)s", value=repr(value), wanted=wanted), ""
    if etype == "string_too_long":
        return N_(
            "text is %(length)s characters; the limit is %(limit)s",
            length=len(value),
            limit=ctx["max_length"],
        ), ""
    if etype == "too_short":
        least = ctx["min_length"]
        if least == 1:
            return N_("needs at least 1 entry"), ""
        return N_("needs at least %(least)s entries", least=least), ""
    if etype == "too_long":
        return N_("has more than the allowed %(limit)s entries", limit=ctx["max_length"]), ""
    if etype == "literal_error":
        return N_(
            "expected %(expected)s, got %(value)s",
            expected=str(ctx["expected"]),
            value=describe_value(value),
        ), ""
    if etype == "finite_number":
        return N_("must be a finite number"), ""
    if etype in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        op = {
            "greater_than": ">",
            "greater_than_equal": ">=",
            "less_than": "<",
            "less_than_equal": "<=",
        }[etype]
        bound = next(iter(ctx.values()))
        return N_("must be %(op)s %(bound)s, got %(value)s", op=op, bound=bound, value=value), ""
    return _plain(err["msg"][0].lower() + err["msg"][1:]), ""


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
    for section in ("open_questions", "partner_ratings", "meta_perceptions"):
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
            findings.append(
                Finding(("languages", i), N_("language '%(lang)s' is listed twice", lang=lang))
            )
        else:
            langs.append(lang)
    if FALLBACK_LANGUAGE not in langs:
        findings.append(
            Finding(
                ("languages",),
                N_(
                    "must include '%(lang)s' (Indonesian): it is the fallback language",
                    lang=FALLBACK_LANGUAGE,
                ),
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
                findings.append(Finding(path, N_("missing '%(lang)s' translation", lang=lang)))
            elif isinstance(text, str) and not text.strip():
                findings.append(Finding((*path, lang), N_("'%(lang)s' text is empty", lang=lang)))
        for lang, text in value.items():
            control = _CONTROL.search(text) if isinstance(text, str) else None
            if control:
                code = f"U+{ord(control.group()):04X}"
                findings.append(
                    Finding(
                        (*path, lang),
                        N_(
                            "text contains the control character %(code)s; remove it",
                            code=code,
                        ),
                    )
                )
        for key in value:
            if isinstance(key, str) and key not in langs and lang_re.match(key):
                findings.append(
                    Finding(
                        (*path, key),
                        N_(
                            "language '%(lang)s' is not declared in languages (%(declared)s)",
                            lang=key,
                            declared=", ".join(langs),
                        ),
                    )
                )


_DUPLICATE = {
    "": N_("duplicate id '%(value)s'"),
    "scale": N_("duplicate scale id '%(value)s'"),
    "band": N_("duplicate band id '%(value)s'"),
}


class _Ids:
    """One namespace of ids; remembers where each id was first defined."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.first: dict[str, Path] = {}

    def add(self, value: Any, path: Path, findings: list[Finding], kind: Message) -> None:
        if not isinstance(value, str):
            return
        if value in self.first:
            message = replace(_DUPLICATE[self.what], params=(("value", value),))
            findings.append(
                Finding(path, message, see=self.first[value], note=N_("; %(reason)s", reason=kind))
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
        ids.add(sid, ("scales", si, "id"), findings, N_("scale ids must be unique"))
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
                    findings.append(
                        Finding(path, N_("value %(value)s appears twice in this scale", value=v))
                    )
                    ordered = False
                elif pi and v < ints[pi - 1]:
                    findings.append(
                        Finding(
                            path,
                            N_(
                                "values must increase from the first point to the last: "
                                "%(value)s comes after %(previous)s",
                                value=v,
                                previous=ints[pi - 1],
                            ),
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
    if not info.low <= fav <= info.high:
        findings.append(
            Finding(
                path,
                N_(
                    "favourable_min %(value)s is outside the scale (%(low)s to %(high)s)",
                    value=fav,
                    low=info.low,
                    high=info.high,
                ),
            )
        )
    elif fav not in info.values:
        findings.append(
            Finding(
                path,
                N_(
                    "favourable_min %(value)s is not one of the scale's values (%(values)s)",
                    value=fav,
                    values=", ".join(map(str, info.values)),
                ),
            )
        )
    elif fav == info.low:
        findings.append(
            Finding(
                path,
                N_(
                    "favourable_min %(value)s is the lowest value, so every "
                    "answer would count as favourable",
                    value=fav,
                ),
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
                N_(
                    "item is reverse-coded, but scale '%(scale)s' is not ordered "
                    "(its values do not increase)",
                    scale=scale_id,
                ),
            )
        )
    elif not info.evenly_spaced:
        shown = ", ".join(map(str, info.values))
        findings.append(
            Finding(
                (*path, "reverse"),
                N_(
                    "item is reverse-coded, but the values of scale '%(scale)s' (%(values)s) are "
                    "not evenly spaced, so min + max - value would give answers that are not on "
                    "the scale",
                    scale=scale_id,
                    values=shown,
                ),
            )
        )


def _unknown_scale(scale_id: str, scales: dict[str, _ScaleInfo | None]) -> Message:
    if not scales:
        return N_("unknown scale '%(scale)s' (no scale is declared)", scale=scale_id)
    known = ", ".join(sorted(scales))
    return N_("unknown scale '%(scale)s' (declared scales: %(known)s)", scale=scale_id, known=known)


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
        questions.add(did, (*base, "id"), findings, _NAMESPACE)
        item_ranges: list[tuple[int, int] | None] = []
        first_range: tuple[int, int] | None = None
        for ii, item in enumerate(_seq(dim.get("items"))):
            item = _map(item)
            path: Path = (*base, "items", ii)
            questions.add(item.get("id"), (*path, "id"), findings, _NAMESPACE)
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
                        N_(
                            "scale '%(scale)s' runs %(low)s to %(high)s, but earlier items in "
                            "this dimension run %(first_low)s to %(first_high)s; items of one "
                            "dimension must share a range so their scores can be combined",
                            scale=scale_id,
                            low=rng[0],
                            high=rng[1],
                            first_low=first_range[0],
                            first_high=first_range[1],
                        ),
                    )
                )
            item_ranges.append(rng)
        score_range = _dimension_range(dim, item_ranges)
        n_items = len(_seq(dim.get("items")))
        min_items = _int(dim.get("min_items"))
        if min_items is not None and n_items and min_items > n_items:
            findings.append(
                Finding(
                    (*base, "min_items"),
                    N_(
                        "min_items %(min_items)s is more than the dimension's %(n)s items, so "
                        "no respondent could ever be scored on it",
                        min_items=min_items,
                        n=n_items,
                    ),
                )
            )
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
    """Bands must cover the score range without overlapping, listed lowest first.

    Two styles are accepted, as instruments publish them: shared edges (1-3, 3-4, 4-5: a score
    on the edge belongs to the higher band) and inclusive ranges with gaps (35-84, 85-126,
    127-175: a score between two bands goes to the nearer edge, the higher band on a tie,
    i.e. 84.5 is rounded half up to 85). The rule itself is :func:`analysis.scoring.band_index`.
    """
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
    ids = _Ids("band")
    for bi, (bid, low, high) in enumerate(parsed):
        ids.add(bid, (*path, bi, "id"), findings, N_("band ids must be unique within a list"))
        if low > high:
            findings.append(
                Finding(
                    (*path, bi, "max"),
                    N_(
                        "max %(high)s must be above min %(low)s or equal to it",
                        high=_fmt(high),
                        low=_fmt(low),
                    ),
                )
            )
    for bi in range(1, len(parsed)):
        if parsed[bi][1] < parsed[bi - 1][1]:
            # Edge checks on unsorted bands would only repeat this one mistake several ways.
            findings.append(
                Finding(
                    (*path, bi, "min"), N_("bands must be listed from the lowest to the highest")
                )
            )
            return
    first_id, first_low, _ = parsed[0]
    ends = {"low": _fmt(low_end), "high": _fmt(high_end)}
    if abs(first_low - low_end) > EDGE_TOLERANCE:
        values = {"band": first_id, "edge": _fmt(first_low), **ends}
        message = (
            N_(
                "the lowest band '%(band)s' starts at %(edge)s, above the lowest possible "
                "score %(low)s; bands must cover exactly %(low)s to %(high)s",
                **values,
            )
            if first_low > low_end
            else N_(
                "the lowest band '%(band)s' starts at %(edge)s, below the lowest possible "
                "score %(low)s; bands must cover exactly %(low)s to %(high)s",
                **values,
            )
        )
        findings.append(Finding((*path, 0, "min"), message))
    last_id, _, last_high = parsed[-1]
    if abs(last_high - high_end) > EDGE_TOLERANCE:
        values = {"band": last_id, "edge": _fmt(last_high), **ends}
        message = (
            N_(
                "the highest band '%(band)s' ends at %(edge)s, above the highest possible "
                "score %(high)s; bands must cover exactly %(low)s to %(high)s",
                **values,
            )
            if last_high > high_end
            else N_(
                "the highest band '%(band)s' ends at %(edge)s, below the highest possible "
                "score %(high)s; bands must cover exactly %(low)s to %(high)s",
                **values,
            )
        )
        findings.append(Finding((*path, len(parsed) - 1, "max"), message))
    for bi in range(1, len(parsed)):
        prev_id, prev_low, prev_high = parsed[bi - 1]
        bid, low, high = parsed[bi]
        at: Path = (*path, bi, "min")
        if low < prev_high - EDGE_TOLERANCE:
            findings.append(
                Finding(
                    at,
                    N_(
                        "band '%(band)s' overlaps band '%(previous)s': scores from %(low)s to "
                        "%(high)s would fall in both; ",
                        band=bid,
                        previous=prev_id,
                        low=_fmt(low),
                        high=_fmt(min(prev_high, high)),
                    )
                    + _BAND_STYLES,
                )
            )
        elif low > prev_high + EDGE_TOLERANCE:
            step = _resolution(prev_high, low)
            if low - prev_high > step + EDGE_TOLERANCE:
                middle = (prev_high + low) / 2
                findings.append(
                    Finding(
                        at,
                        N_(
                            "gap between band '%(previous)s' (ends at %(end)s) and band "
                            "'%(band)s' (starts at %(start)s) is wider than one step (%(step)s) "
                            "of the edges as written: scores below %(middle)s would go to "
                            "'%(previous)s' and from %(middle)s to '%(band)s' by guesswork; ",
                            previous=prev_id,
                            end=_fmt(prev_high),
                            band=bid,
                            start=_fmt(low),
                            step=_fmt(step),
                            middle=_fmt(middle),
                        )
                        + _BAND_STYLES,
                    )
                )
        elif abs(low - prev_high) <= EDGE_TOLERANCE and prev_high - prev_low <= EDGE_TOLERANCE:
            findings.append(
                Finding(
                    (*path, bi - 1, "max"),
                    N_(
                        "band '%(previous)s' holds only %(value)s, which belongs to band "
                        "'%(band)s' (a shared edge goes to the higher band), so '%(previous)s' "
                        "is empty; ",
                        previous=prev_id,
                        value=_fmt(prev_high),
                        band=bid,
                    )
                    + _BAND_STYLES,
                )
            )


def _resolution(*edges: float) -> float:
    """The step of the finest edge as written: 1 for 84 and 85, 0.1 for 3.9 and 4.0."""
    decimals = 0
    for edge in edges:
        text = repr(float(edge))
        if "e" in text or "E" in text:
            return EDGE_TOLERANCE
        decimals = max(decimals, len(text.split(".")[1].rstrip("0")))
    return float(10.0**-decimals)


_BAND_STYLES = N_(
    "write bands either with shared edges (1-3, 3-4, 4-5: a score on an edge belongs to the "
    "higher band) or as published with gaps (35-84, 85-126: a score in between goes to the "
    "nearer edge, 84.5 to the higher band; a gap is one step of the edges' resolution)"
)


ITEM_METHODS = ("mean_of_items", "sum_of_items")


def _check_total(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    ranges: dict[str, tuple[float, float] | None],
    findings: list[Finding],
) -> None:
    total = data.get("total")
    if not isinstance(total, dict):
        return
    method = total.get("method", "mean_of_dimensions")
    if method not in ITEM_METHODS:
        # No key is accepted and then ignored: these two only steer the item methods.
        for key in ("min_answered", "min_items"):
            if key in total:
                findings.append(
                    Finding(
                        ("total", key),
                        N_(
                            "%(key)s applies to the item methods (mean_of_items, sum_of_items) "
                            "only; with method %(method)s each dimension's own rule decides, "
                            "so remove it or set it on the dimensions",
                            key=key,
                            method=str(method),
                        ),
                    )
                )
    dims = [_map(d) for d in _seq(data.get("dimensions"))]
    infos = [
        scales.get(_str(_map(i).get("scale")) or "") for d in dims for i in _seq(d.get("items"))
    ]
    known_infos = [info for info in infos if info is not None]
    complete = bool(infos) and len(known_infos) == len(infos)
    if method == "mean_of_items" and complete:
        spans = {(i.low, i.high) for i in known_infos}
        if len(spans) > 1:
            shown = ", ".join(f"{a} to {b}" for a, b in sorted(spans))
            findings.append(
                Finding(
                    ("total", "method"),
                    N_(
                        "mean_of_items averages items on different scales (%(ranges)s); use "
                        "sum_of_items or mean_of_dimensions, or put all items on one range",
                        ranges=shown,
                    ),
                )
            )
            return
    if not _seq(total.get("bands")):
        return
    score_range: tuple[float, float] | None = None
    if method == "mean_of_dimensions":
        dim_ranges = [ranges.get(_str(d.get("id")) or "") for d in dims]
        if dim_ranges and all(r is not None for r in dim_ranges):
            known = [r for r in dim_ranges if r is not None]
            score_range = (
                sum(r[0] for r in known) / len(known),
                sum(r[1] for r in known) / len(known),
            )
    elif complete and method in ("sum_of_items", "sum_of_dimension_sums"):
        score_range = (
            float(sum(i.low for i in known_infos)),
            float(sum(i.high for i in known_infos)),
        )
    elif complete and method == "mean_of_items":
        score_range = (float(known_infos[0].low), float(known_infos[0].high))
    if score_range is not None:
        _check_bands(total.get("bands"), ("total", "bands"), score_range, findings)


_NAMESPACE = N_("dimension and question ids share one namespace")


def _check_other_questions(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    ranges: dict[str, tuple[float, float] | None],
    questions: _Ids,
    findings: list[Finding],
) -> None:
    namespace = _NAMESPACE
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
            findings.append(
                Finding(
                    (*path, "dimension"),
                    N_(
                        "unknown dimension '%(dimension)s' (declared dimensions: %(known)s)",
                        dimension=dim,
                        known=", ".join(sorted(ranges)) or "-",
                    ),
                )
            )


def _check_meta_perceptions(
    data: dict[Any, Any],
    scales: dict[str, _ScaleInfo | None],
    ranges: dict[str, tuple[float, float] | None],
    questions: _Ids,
    findings: list[Finding],
) -> None:
    """A meta-perception names a scored item or a mean-scored dimension, on the same range.

    The prediction is compared with what the other partners answered on the target, so both
    must live on one scale: the item's own range, or the dimension's item range (a summed
    dimension lives on n times that range and is refused). One question per target.
    """
    item_ranges: dict[str, tuple[int, int] | None] = {}
    summed: set[str] = set()
    for dim in _seq(data.get("dimensions")):
        dim = _map(dim)
        if dim.get("scoring") == "sum" and _str(dim.get("id")) is not None:
            summed.add(str(dim.get("id")))
        for item in _seq(dim.get("items")):
            item = _map(item)
            item_id, info = _str(item.get("id")), scales.get(_str(item.get("scale")) or "")
            if item_id is not None:
                item_ranges[item_id] = None if info is None else (info.low, info.high)
    targets: dict[str, Path] = {}
    for qi, meta in enumerate(_seq(data.get("meta_perceptions"))):
        meta = _map(meta)
        path: Path = ("meta_perceptions", qi)
        questions.add(meta.get("id"), (*path, "id"), findings, _NAMESPACE)
        scale_id, target = _str(meta.get("scale")), _str(meta.get("target"))
        info = None
        if scale_id is not None:
            if scale_id not in scales:
                findings.append(Finding((*path, "scale"), _unknown_scale(scale_id, scales)))
            else:
                info = scales[scale_id]
        if target is None:
            continue
        if target in targets:
            findings.append(
                Finding(
                    (*path, "target"),
                    N_(
                        "'%(target)s' already has a meta-perception question; ask once per "
                        "item or dimension",
                        target=target,
                    ),
                    see=(*targets[target], "target"),
                )
            )
            continue
        targets[target] = path
        wanted: tuple[float, float] | None
        if target in item_ranges:
            found = item_ranges[target]
            wanted = None if found is None else (float(found[0]), float(found[1]))
        elif target in ranges:
            if target in summed:
                findings.append(
                    Finding(
                        (*path, "target"),
                        N_(
                            "dimension '%(target)s' is summed (scoring: sum), so its score is "
                            "not on the scale a respondent predicts on; target a mean-scored "
                            "dimension or one of its items",
                            target=target,
                        ),
                    )
                )
                continue
            wanted = ranges[target]
        else:
            findings.append(
                Finding(
                    (*path, "target"),
                    N_(
                        "unknown target '%(target)s': name a scored item or a dimension "
                        "(dimensions: %(known)s)",
                        target=target,
                        known=", ".join(sorted(ranges)) or "-",
                    ),
                )
            )
            continue
        if info is not None and wanted is not None and (info.low, info.high) != wanted:
            findings.append(
                Finding(
                    (*path, "scale"),
                    N_(
                        "scale '%(scale)s' runs %(low)s to %(high)s, but '%(target)s' is "
                        "rated %(t_low)s to %(t_high)s; the prediction must use the "
                        "target's range so the two can be compared",
                        scale=scale_id,
                        low=info.low,
                        high=info.high,
                        target=target,
                        t_low=_fmt(wanted[0]),
                        t_high=_fmt(wanted[1]),
                    ),
                )
            )


def _count_questions(data: dict[Any, Any], findings: list[Finding]) -> None:
    n = sum(len(_seq(_map(d).get("items"))) for d in _seq(data.get("dimensions")))
    n += len(_seq(data.get("open_questions"))) + len(_seq(data.get("partner_ratings")))
    n += len(_seq(data.get("meta_perceptions")))
    if n > MAX_QUESTIONS:
        findings.append(
            Finding(
                (),
                N_(
                    "%(n)s questions (items, open questions, partner ratings and "
                    "meta-perceptions together); the limit is %(limit)s",
                    n=n,
                    limit=MAX_QUESTIONS,
                ),
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
    _check_meta_perceptions(data, scales, ranges, questions, findings)
    _count_questions(data, findings)
    return findings


def validate(data: Any) -> tuple[QuestionnaireSchema | None, list[Finding]]:
    """Run both passes; return the validated model only when no problem was found."""
    spec, findings = structural_findings(data)
    findings = findings + semantic_findings(data)
    return (spec if not findings else None), findings
