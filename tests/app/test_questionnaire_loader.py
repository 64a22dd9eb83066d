"""Questionnaire loader: good files load, every kind of mistake is reported with its line.

Bad files under tests/data/questionnaires/ mark each expected problem with a trailing
``# expect: <path>: <message fragment>`` comment on the line where it must be reported, so the
expected line numbers live beside the mistakes and cannot drift from them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.questionnaires import (
    MAX_FILE_BYTES,
    Band,
    Problem,
    Questionnaire,
    QuestionnaireError,
    Text,
    band_for,
    load_questionnaire,
    parse_questionnaire,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "questionnaires"
EXPECT = re.compile(r"# expect: (.*?)(?= # expect: |$)")
BAD_FILES = sorted(p.name for p in DATA.glob("*.yaml") if "# expect:" in p.read_text("utf-8"))
GOOD_FILES = sorted(p.name for p in DATA.glob("*.yaml") if p.name not in BAD_FILES)


def expectations(path: Path) -> list[tuple[int, str]]:
    """Return (line, fragment) for every ``# expect:`` marker in a file."""
    found = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        for fragment in EXPECT.findall(line):
            found.append((number, fragment.strip()))
    return found


def rendered(problem: Problem) -> str:
    return f"{problem.path}: {problem.message}" if problem.path else problem.message


def problems_of(path: Path) -> tuple[Problem, ...]:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    return caught.value.problems


def problems_in(text: str | bytes, source: str = "upload.yaml") -> tuple[Problem, ...]:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, source)
    return caught.value.problems


def minimal_dict() -> dict:
    return load_questionnaire(DATA / "minimal.yaml").to_dict()


# --------------------------------------------------------------------------- bad files


def test_the_marked_bad_files_exist() -> None:
    # Guards the parametrisation below against silently running on nothing.
    assert {
        "five-mistakes.yaml",
        "alias-bomb.yaml",
        "python-tag.yaml",
        "bands.yaml",
        "yaml-traps.yaml",
        "syntax-error.yaml",
    } <= set(BAD_FILES)


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_reports_exactly_the_marked_problems(name: str) -> None:
    path = DATA / name
    expected = expectations(path)
    problems = problems_of(path)
    unmatched = list(problems)
    for line, fragment in expected:
        match = next((p for p in unmatched if p.line == line and fragment in rendered(p)), None)
        assert match is not None, (
            f"no problem on line {line} containing {fragment!r}; got:\n"
            + "\n".join(str(p) for p in problems)
        )
        unmatched.remove(match)
    assert not unmatched, "unexpected problems:\n" + "\n".join(str(p) for p in unmatched)
    assert all(p.source == name for p in problems)


def test_five_mistakes_are_all_reported_each_with_its_own_line() -> None:
    problems = problems_of(DATA / "five-mistakes.yaml")
    assert len(problems) == 5
    assert [p.line for p in problems] == [18, 24, 30, 32, 37]
    assert str(problems[4]) == (
        "five-mistakes.yaml:37: dimensions[1].items[1].scale: unknown scale 'setuju7' "
        "(declared scales: setuju5)"
    )


def test_error_message_lists_every_problem_one_per_line() -> None:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(DATA / "five-mistakes.yaml")
    lines = str(caught.value).splitlines()
    assert lines == [str(p) for p in caught.value.problems]
    assert isinstance(caught.value, ValueError)


def test_problem_without_line_or_path_renders_cleanly() -> None:
    assert str(Problem("a.yaml", None, "", "too big")) == "a.yaml: too big"
    assert str(Problem("a.yaml", 3, "slug", "bad")) == "a.yaml:3: slug: bad"


# --------------------------------------------------------------------------- hostile input


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    text = f'slug: !!python/object/apply:os.system ["touch {target}"]\n'
    problems = problems_in(text)
    assert [p.line for p in problems] == [1]
    assert "tags" in problems[0].message
    assert not target.exists()


def test_alias_bomb_is_refused_quickly() -> None:
    import time

    start = time.perf_counter()
    problems = problems_of(DATA / "alias-bomb.yaml")
    assert time.perf_counter() - start < 2
    assert all("not allowed" in p.message for p in problems)


def test_oversized_upload_is_refused_without_parsing() -> None:
    text = "slug: x\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    (problem,) = problems_in(text)
    assert problem.line is None
    assert "the limit is 256 KiB" in problem.message
    (problem,) = problems_in(text.encode())
    assert "the limit is 256 KiB" in problem.message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a" * (10 * 1024 * 1024))
    (problem,) = problems_of(path)
    assert str(problem) == "big.yaml: file is 10240 KiB; the limit is 256 KiB"


def test_a_file_at_the_size_limit_is_read() -> None:
    text = (DATA / "minimal.yaml").read_text("utf-8")
    text += "#" * (MAX_FILE_BYTES - len(text.encode()) - 1) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES
    assert parse_questionnaire(text, "limit.yaml").slug == "contoh-minimal"


def test_invalid_utf8_is_reported_with_its_line() -> None:
    raw = (DATA / "minimal.yaml").read_bytes().replace(b"Contoh minimal", b"Contoh \xff minimal")
    (problem,) = problems_in(raw, "latin.yaml")
    assert problem.line == 5
    assert "not valid UTF-8" in problem.message


def test_utf8_byte_order_mark_is_accepted() -> None:
    raw = b"\xef\xbb\xbf" + (DATA / "minimal.yaml").read_bytes()
    assert parse_questionnaire(raw).slug == "contoh-minimal"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- a\n- b\n", 1, "expected a mapping (key: value), got a list"),
        ("slug: a\n---\nslug: b\n", 2, "only one YAML document is allowed per file"),
        ("x: " + "[" * 50 + "]" * 50 + "\n", 1, "nested more than 20 levels deep"),
        ("slug: a\x00b\n", 1, "character U+0000 is not allowed"),
        ("slug: a\n\tversion: 1\n", 2, "YAML syntax error"),
        ("<<: {slug: a}\n", 1, "merge keys (<<) are not supported"),
    ],
)
def test_malformed_documents(text: str, line: int, fragment: str) -> None:
    problems = problems_in(text)
    assert any(p.line == line and fragment in rendered(p) for p in problems), problems


# --------------------------------------------------------------------------- limits


def test_more_than_200_questions_is_refused() -> None:
    data = minimal_dict()
    item = data["dimensions"][0]["items"][0]
    data["dimensions"][0]["items"] = [{**item, "id": f"q{i}"} for i in range(150)]
    data["open_questions"] = [{"id": f"o{i}", "text": {"id": "Saran?"}} for i in range(51)]
    # A JSON round trip unshares the repeated text dicts, which safe_dump would anchor.
    data = json.loads(json.dumps(data))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    problems = problems_in(text)
    assert [p.message for p in problems] == [
        "201 questions (items, open questions, partner ratings and meta-perceptions together); "
        "the limit is 200"
    ]
    data["open_questions"].pop()
    assert len(parse_questionnaire(yaml.safe_dump(data)).items) == 150


def test_text_longer_than_2000_characters_is_refused_at_its_line() -> None:
    text = (
        (DATA / "minimal.yaml")
        .read_text("utf-8")
        .replace("Setiap mitra mendapat kesempatan yang sama untuk berkontribusi.", "x" * 2001)
    )
    (problem,) = problems_in(text)
    assert problem.line == 17
    assert problem.path == "dimensions[0].items[0].text.id"
    assert problem.message == "text is 2001 characters; the limit is 2000"


def test_problems_are_capped_with_a_count_of_the_rest() -> None:
    lines = ["slug: banyak", "version: 1", "languages: [id]", "title: {id: Banyak}"]
    lines += [f"k{i}: 1" for i in range(150)]
    problems = problems_in("\n".join(lines) + "\n")
    assert len(problems) == 101
    assert problems[-1].message == "... and 52 more problems not shown"


# --------------------------------------------------------------------------- good files


@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_file_loads(name: str) -> None:
    questionnaire = load_questionnaire(DATA / name)
    assert Questionnaire.from_dict(questionnaire.to_dict()) == questionnaire


def test_minimal_file_fills_in_defaults() -> None:
    q = load_questionnaire(DATA / "minimal.yaml")
    dim = q.dimension("kesetaraan")
    assert (dim.scoring, dim.min_answered, dim.bands, dim.description) == ("mean", 0.5, (), None)
    item = q.item("kes1")
    assert (item.dimension, item.reverse, item.required) == ("kesetaraan", False, True)
    assert q.total is None and q.open_questions == () and q.partner_ratings == ()


def test_sum_scoring_file_gives_ranges_bands_and_frames() -> None:
    q = load_questionnaire(DATA / "sum-scoring.yaml")
    assert q.version == 3
    assert q.score_range("pertemuan") == (0.0, 6.0)
    assert q.score_range("kesetaraan") == (1.0, 5.0)
    assert q.total_range() == (1.0, 11.0)
    assert q.total is not None and q.total.band_for(6.0).id == "tinggi"
    assert q.open_question("saran").max_length == 500
    assert q.partner_rating("mitra_komitmen").dimension == "kesetaraan"

    items = q.items_frame()
    assert list(items.columns) == [
        "item_id",
        "dimension",
        "scale",
        "reverse",
        "scale_min",
        "scale_max",
        "favourable_min",
    ]
    assert items["item_id"].tolist() == ["per1", "per2", "kes1"]
    assert items["reverse"].tolist() == [False, False, True]
    assert items["scale_min"].tolist() == [0, 0, 1]
    assert items["scale_max"].tolist() == [3, 3, 5]
    assert items["favourable_min"].tolist() == [2.0, 2.0, 4.0]

    dims = q.dimensions_frame()
    assert dims.to_dict("records") == [
        {
            "dimension": "pertemuan",
            "scoring": "sum",
            "min_answered": 1.0,
            "min_items": 2,
            "n_items": 2,
            "score_min": 0.0,
            "score_max": 6.0,
        },
        {
            "dimension": "kesetaraan",
            "scoring": "mean",
            "min_answered": 0.5,
            "min_items": 2,
            "n_items": 1,
            "score_min": 1.0,
            "score_max": 5.0,
        },
    ]


def test_items_frame_marks_a_missing_favourable_min_as_nan() -> None:
    items = load_questionnaire(DATA / "minimal.yaml").items_frame()
    assert math.isnan(items.loc[0, "favourable_min"])


def test_lookups_name_what_is_missing() -> None:
    q = load_questionnaire(DATA / "minimal.yaml")
    with pytest.raises(KeyError, match="no item with id 'nope'"):
        q.item("nope")
    with pytest.raises(KeyError, match="no scale with id 'nope'"):
        q.scale("nope")
    assert q.scale("setuju3").label(2).get("id") == "Ragu-ragu"


def test_control_characters_in_texts_are_refused() -> None:
    data = minimal_dict()
    data["title"] = {"id": "Judul\x85baru"}
    with pytest.raises(
        QuestionnaireError,
        match=r"title\.id: text contains the control "
        r"character U\+0085",
    ):
        Questionnaire.from_dict(data)
    data["title"] = {"id": "Judul\n\tbaru"}
    assert Questionnaire.from_dict(data).title["id"] == "Judul\n\tbaru"


def test_a_value_that_only_looks_like_a_date_stays_text() -> None:
    text = (DATA / "minimal.yaml").read_text("utf-8")
    q = parse_questionnaire(text.replace("{id: Contoh minimal}", "{id: 2024-13-45}"))
    assert q.title["id"] == "2024-13-45"


def test_folded_text_loses_its_trailing_newline() -> None:
    text = (
        (DATA / "minimal.yaml")
        .read_text("utf-8")
        .replace("title: {id: Contoh minimal}", "title:\n  id: >\n    Contoh\n    minimal\n")
    )
    assert parse_questionnaire(text).title["id"] == "Contoh minimal"


# --------------------------------------------------------------------------- bands


BANDS = (
    Band("masalah", Text.of({"id": "Masalah"}), 1.0, 3.0),
    Band("perlu_perhatian", Text.of({"id": "Perlu perhatian"}), 3.0, 4.0),
    Band("kekuatan", Text.of({"id": "Kekuatan"}), 4.0, 5.0),
)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (1.0, "masalah"),
        (2.999, "masalah"),
        (3.0, "perlu_perhatian"),
        (3.9999, "perlu_perhatian"),
        (4.0, "kekuatan"),
        (3.9999999999999996, "kekuatan"),
        (5.0, "kekuatan"),
        (0.99, None),
        (5.01, None),
        (math.nan, None),
    ],
)
def test_a_score_on_a_shared_edge_belongs_to_the_higher_band(score: float, band: str) -> None:
    found = band_for(BANDS, score)
    assert (found.id if found else None) == band


def test_no_bands_means_no_band() -> None:
    assert band_for((), 3.0) is None


# --------------------------------------------------------------------------- domain objects


def test_text_order_of_languages_does_not_matter() -> None:
    a = Text.of({"en": "Equality", "id": "Kesetaraan"})
    b = Text.of({"id": "Kesetaraan", "en": "Equality"})
    assert a == b and hash(a) == hash(b)
    assert list(a) == ["id", "en"]
    assert a.get("en") == "Equality"
    assert a.get("fr") == "Kesetaraan"
    assert a.get("fr", fallback="en") == "Equality"
    with pytest.raises(KeyError):
        Text.of({"en": "Equality"}).get("fr")


def test_text_rejects_bad_construction() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Text(())
    with pytest.raises(TypeError):
        Text((("id", 3),))  # type: ignore[arg-type]


def test_domain_objects_are_immutable() -> None:
    q = load_questionnaire(DATA / "minimal.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.slug = "other"  # type: ignore[misc]
    assert isinstance(q.dimensions, tuple) and isinstance(q.dimensions[0].items, tuple)


def test_from_dict_reports_problems_by_path() -> None:
    data = minimal_dict()
    del data["dimensions"][0]["items"][0]["scale"]
    data["languages"] = ["id", "en"]
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(data, source="snapshot")
    problems = caught.value.problems
    assert all(p.line is None and p.source == "snapshot" for p in problems)
    assert "snapshot: dimensions[0].items[0].scale: missing required key" in [
        str(p) for p in problems
    ]
    assert "snapshot: title: missing 'en' translation" in [str(p) for p in problems]


def test_duplicate_reference_from_dict_names_the_first_path() -> None:
    data = minimal_dict()
    data["open_questions"] = [{"id": "kes1", "text": {"id": "Saran?"}}]
    with pytest.raises(QuestionnaireError, match=r"first defined at dimensions\[0\]\.items\[0\]"):
        Questionnaire.from_dict(data)


def test_content_hash_follows_content_not_formatting() -> None:
    text = (DATA / "minimal.yaml").read_text("utf-8")
    q = parse_questionnaire(text)
    reordered = text.replace(
        "slug: contoh-minimal\nversion: 1\n", "version: 1\nslug: contoh-minimal\n"
    )
    assert reordered != text
    assert parse_questionnaire(reordered).content_hash() == q.content_hash()
    changed = parse_questionnaire(text.replace("Ragu-ragu", "Netral"))
    assert changed.content_hash() != q.content_hash()
    assert len(q.content_hash()) == 64


def test_to_dict_is_json_able_with_a_fixed_key_order() -> None:
    q = load_questionnaire(DATA / "sum-scoring.yaml")
    data = q.to_dict()
    assert list(data) == [
        "slug",
        "version",
        "languages",
        "title",
        "description",
        "scales",
        "dimensions",
        "total",
        "open_questions",
        "partner_ratings",
    ]
    assert list(data["dimensions"][0]) == [
        "id",
        "title",
        "description",
        "scoring",
        "min_answered",
        "bands",
        "discussion_prompts",
        "items",
    ]
    assert Questionnaire.from_dict(json.loads(json.dumps(data))) == q


# --------------------------------------------------------------------------- properties

_IDS = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
# Any printable text, plus newline and tab; other control characters are refused by design.
_TEXT = (
    st.text(
        st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


def _bands(draw: st.DrawFn, low: float, high: float, band_ids: list[str], lang_text):
    """Draw bands that tile [low, high] exactly, with cut points strictly inside."""
    n = draw(st.integers(1, 4))
    cuts = draw(st.lists(st.integers(1, 99), min_size=n - 1, max_size=n - 1, unique=True))
    edges = [low, *[low + (high - low) * c / 100 for c in sorted(cuts)], high]
    return [
        {"id": band_ids[i], "label": draw(lang_text), "min": edges[i], "max": edges[i + 1]}
        for i in range(n)
    ]


@st.composite
def questionnaire_dicts(draw: st.DrawFn) -> dict:
    """Random valid questionnaires in canonical dict form (every key present)."""
    langs = draw(st.sampled_from([["id"], ["id", "en"], ["id", "en", "jv"]]))
    lang_text = st.fixed_dictionaries({lang: _TEXT for lang in langs})
    scale_ids = draw(st.lists(_IDS, min_size=1, max_size=3, unique=True))
    scales = []
    for sid in scale_ids:
        start, n, step = draw(st.integers(-2, 2)), draw(st.integers(2, 7)), draw(st.integers(1, 3))
        values = [start + i * step for i in range(n)]
        scales.append(
            {
                "id": sid,
                "points": [{"value": v, "label": draw(lang_text)} for v in values],
                "dont_know": draw(st.none() | st.fixed_dictionaries({"label": lang_text})),
                "favourable_min": draw(st.none() | st.sampled_from(values[1:])),
            }
        )
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    n_open, n_rating = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    names = iter(
        draw(
            st.lists(
                _IDS,
                min_size=len(sizes) + sum(sizes) + n_open + n_rating,
                max_size=len(sizes) + sum(sizes) + n_open + n_rating,
                unique=True,
            )
        )
    )
    band_ids = ["masalah", "perlu_perhatian", "kekuatan", "unggul"]
    dimensions, dim_ranges, item_ranges = [], [], []
    for size in sizes:
        scale = draw(st.sampled_from(scales))
        low, high = scale["points"][0]["value"], scale["points"][-1]["value"]
        scoring = draw(st.sampled_from(["mean", "sum"]))
        factor = size if scoring == "sum" else 1
        dim_ranges.append((float(low * factor), float(high * factor)))
        item_ranges += [(low, high)] * size
        dimensions.append(
            {
                "id": next(names),
                "title": draw(lang_text),
                "description": draw(st.none() | lang_text),
                "scoring": scoring,
                "min_answered": draw(st.floats(0.01, 1.0)),
                "bands": (
                    _bands(draw, low * factor, high * factor, band_ids, lang_text)
                    if draw(st.booleans())
                    else []
                ),
                "discussion_prompts": draw(st.lists(lang_text, max_size=2)),
                "items": [
                    {
                        "id": next(names),
                        "text": draw(lang_text),
                        "scale": scale["id"],
                        "reverse": draw(st.booleans()),
                        "required": draw(st.booleans()),
                    }
                    for _ in range(size)
                ],
            }
        )
    total = None
    if draw(st.booleans()):
        method = draw(st.sampled_from(["mean_of_dimensions", "sum_of_items"]))
        if method == "mean_of_dimensions":
            low = sum(r[0] for r in dim_ranges) / len(dim_ranges)
            high = sum(r[1] for r in dim_ranges) / len(dim_ranges)
        else:
            low = float(sum(r[0] for r in item_ranges))
            high = float(sum(r[1] for r in item_ranges))
        total = {"method": method, "bands": _bands(draw, low, high, band_ids, lang_text)}
    return {
        "slug": draw(st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)),
        "version": draw(st.integers(1, 1000)),
        "languages": langs,
        "title": draw(lang_text),
        "description": draw(st.none() | lang_text),
        "scales": scales,
        "dimensions": dimensions,
        "total": total,
        "open_questions": [
            {
                "id": next(names),
                "text": draw(lang_text),
                "required": draw(st.booleans()),
                "max_length": draw(st.integers(1, 2000)),
            }
            for _ in range(n_open)
        ],
        "partner_ratings": [
            {
                "id": next(names),
                "text": draw(lang_text),
                "scale": draw(st.sampled_from(scale_ids)),
                "dimension": draw(st.none() | st.sampled_from([d["id"] for d in dimensions])),
                "required": draw(st.booleans()),
            }
            for _ in range(n_rating)
        ],
    }


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(questionnaire_dicts())
def test_from_dict_of_to_dict_round_trips(data: dict) -> None:
    q = Questionnaire.from_dict(data)
    assert q.to_dict() == data
    assert Questionnaire.from_dict(q.to_dict()) == q
    assert Questionnaire.from_dict(json.loads(q.canonical_json())).content_hash() == (
        q.content_hash()
    )


@PROPERTY_SETTINGS
@given(questionnaire_dicts())
def test_yaml_dump_of_to_dict_parses_back_equal(data: dict) -> None:
    q = Questionnaire.from_dict(data)
    text = yaml.safe_dump(q.to_dict(), allow_unicode=True, sort_keys=False)
    assert parse_questionnaire(text, "dumped.yaml") == q


@PROPERTY_SETTINGS
@given(questionnaire_dicts(), st.data())
def test_moving_one_band_edge_is_reported_at_that_band(data: dict, extra: st.DataObject) -> None:
    banded = [i for i, d in enumerate(data["dimensions"]) if len(d["bands"]) >= 2]
    if not banded:
        return
    di = extra.draw(st.sampled_from(banded))
    bands = data["dimensions"][di]["bands"]
    bi = extra.draw(st.integers(1, len(bands) - 1))
    # A quarter of the narrower neighbour: a gap or an overlap, never a reordering.
    width = min(bands[bi]["max"] - bands[bi]["min"], bands[bi - 1]["max"] - bands[bi - 1]["min"])
    shift = extra.draw(st.sampled_from([-1, 1])) * width / 4
    bands[bi]["min"] += shift
    from app.questionnaires.schema import EDGE_TOLERANCE, _resolution

    gap = bands[bi]["min"] - bands[bi - 1]["max"]
    if shift > 0 and gap <= _resolution(bands[bi - 1]["max"], bands[bi]["min"]) + EDGE_TOLERANCE:
        # One step of the edges as written (1.08 -> 1.09): a published gapped band, accepted.
        Questionnaire.from_dict(data)
        return
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == f"dimensions[{di}].bands[{bi}].min"
    assert ("gap" if shift > 0 else "overlaps") in problem.message


def test_package_imports_only_yaml_pydantic_and_the_standard_library() -> None:
    """The loader must work without Flask; pandas is imported only inside the frame methods."""
    import ast
    import sys

    allowed = set(sys.stdlib_module_names) | {"yaml", "pydantic", "app"}
    package = Path(__file__).resolve().parents[2] / "app" / "questionnaires"
    for module in sorted(package.glob("*.py")):
        tree = ast.parse(module.read_text("utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"


# --------------------------------------------------------------------------- gapped bands


def _with_total_bands(bands: list[dict]) -> dict:
    bundled = Path(__file__).resolve().parents[2] / "questionnaires" / "kemitraan-sehat.v1.yaml"
    data = load_questionnaire(bundled).to_dict()
    low, high = Questionnaire.from_dict(data).total_range()
    assert (low, high) == (1.0, 5.0)
    data["total"] = {"method": "mean_of_dimensions", "bands": bands}
    return data


def _band(bid: str, low: float, high: float) -> dict:
    return {"id": bid, "label": {"id": bid, "en": bid}, "min": low, "max": high}


def test_published_bands_with_one_step_gaps_are_accepted_in_both_styles() -> None:
    wilder = [_band("concern", 1.0, 2.9), _band("borderline", 3.0, 3.9), _band("strength", 4, 5)]
    shared = [_band("concern", 1, 3), _band("borderline", 3, 4), _band("strength", 4, 5)]
    for bands, at_295 in ((wilder, "borderline"), (shared, "concern")):
        q = Questionnaire.from_dict(_with_total_bands(bands))
        assert q.total is not None
        assert q.total.band_for(2.95).id == at_295  # a gap rounds half up; an inside stays
        assert q.total.band_for(3.949).id == "borderline"
        if bands is wilder:
            assert q.total.band_for(3.95).id == "strength"


def test_a_gap_wider_than_one_step_says_which_value_falls_where() -> None:
    bands = [_band("low", 1, 2), _band("high", 4, 5)]
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(_with_total_bands(bands))
    (problem,) = caught.value.problems
    assert problem.path == "total.bands[1].min"
    assert problem.message.startswith(
        "gap between band 'low' (ends at 2) and band 'high' (starts at 4) is wider than one "
        "step (1) of the edges as written: scores below 3 would go to 'low' and from 3 to "
        "'high' by guesswork; write bands either with shared edges"
    )


def test_an_overlap_says_which_scores_fall_in_both() -> None:
    bands = [_band("low", 1, 3.5), _band("high", 3, 5)]
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(_with_total_bands(bands))
    (problem,) = caught.value.problems
    assert problem.message.startswith(
        "band 'high' overlaps band 'low': scores from 3 to 3.5 would fall in both; "
    )


def test_a_one_value_band_on_a_shared_edge_is_empty() -> None:
    bands = [_band("low", 1, 3), _band("edge", 3, 3), _band("high", 3, 5)]
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(_with_total_bands(bands))
    assert any("band 'edge' holds only 3" in p.message for p in caught.value.problems)


def test_mean_of_items_over_different_scales_is_refused() -> None:
    data = load_questionnaire(DATA / "sum-scoring.yaml").to_dict()
    data["total"] = {"method": "mean_of_items", "bands": []}
    with pytest.raises(QuestionnaireError) as caught:
        Questionnaire.from_dict(data)
    assert [p.path for p in caught.value.problems] == ["total.method"]
    assert "averages items on different scales" in caught.value.problems[0].message


# --------------------------------------------------------------------------- languages


def _fake_translate(msgid: str, **params: object) -> str:
    return ("[id] " + msgid) % params if params else "[id] " + msgid


@pytest.mark.parametrize("name", BAD_FILES)
def test_every_problem_carries_a_message_id_and_its_parameters(name: str) -> None:
    for problem in problems_of(DATA / name):
        assert problem.text is not None, str(problem)
        assert problem.message == problem.text.render()
        local = problem.localized(_fake_translate)
        # Same place, same shape, the words in the reader's language.
        assert (local.source, local.line, local.path) == (problem.source, problem.line,
                                                         problem.path)
        assert local.message.startswith("[id] ")
        where = f"{problem.source}:{problem.line}" if problem.line else problem.source
        assert str(local).startswith(f"{where}: ")


def test_cli_renders_problems_in_the_chosen_language(runner, monkeypatch) -> None:
    import flask_babel

    import app.cli.questionnaire as cli

    seen = []

    def translate(msgid: str, **params: object) -> str:
        seen.append(str(flask_babel.get_locale()))
        return _fake_translate(msgid, **params)

    monkeypatch.setattr(cli, "gettext", translate)
    path = str(DATA / "five-mistakes.yaml")
    result = runner.invoke(args=["questionnaire", "validate", "--language", "en", path])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("five-mistakes")]
    assert lines and all(re.match(r"^five-mistakes\.yaml:\d+: \S+: \[id\] ", line)
                         for line in lines if line.count(":") >= 3 and "problem(s)" not in line)
    assert set(seen) == {"en"}
    seen.clear()
    monkeypatch.setenv("LANGUAGE", "")
    monkeypatch.setenv("LC_ALL", "")
    monkeypatch.setenv("LC_MESSAGES", "")
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner.invoke(args=["questionnaire", "validate", path])
    assert set(seen) == {"id"}  # nothing usable in the environment: Indonesian
    seen.clear()
    monkeypatch.setenv("LANG", "en_AU.UTF-8")
    runner.invoke(args=["questionnaire", "validate", path])
    assert set(seen) == {"en"}
    bad = runner.invoke(args=["questionnaire", "validate", "--language", "fr", path])
    assert bad.exit_code == 2 and "--language" in bad.output


def test_upload_service_renders_problems_in_the_request_language(app, monkeypatch) -> None:
    import flask_babel

    import app.services.questionnaire_uploads as uploads

    seen = []

    def translate(msgid: str, **params: object) -> str:
        seen.append(str(flask_babel.get_locale()))
        return _fake_translate(msgid, **params)

    monkeypatch.setattr(uploads, "gettext", translate)
    text = (DATA / "five-mistakes.yaml").read_bytes()
    with (
        app.test_request_context(),
        flask_babel.force_locale("id"),
        pytest.raises(QuestionnaireError) as caught,
    ):
        uploads.import_upload(None, None, text, "five-mistakes.yaml")  # type: ignore[arg-type]
    assert len(caught.value.problems) == 5
    assert all(p.message.startswith("[id] ") for p in caught.value.problems)
    assert set(seen) == {"id"}


def test_band_lines_say_where_gapped_values_fall(runner) -> None:
    path = Path(__file__).resolve().parents[2] / "questionnaires" / "library"
    result = runner.invoke(args=["questionnaire", "validate", "--bands",
                                 str(path / "daftar-periksa-kemitraan.v1.yaml")])
    assert result.exit_code == 0, result.output
    assert ("  total bands: perlu_dibenahi 35 to below 84.5; berkembang 84.5 to below 126.5; "
            "kuat 126.5 to 175") in result.output
