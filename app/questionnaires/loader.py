"""Read a questionnaire YAML file safely and report every problem with its line.

The file may come from a browser upload, so it is treated as hostile: size-capped, decoded as
strict UTF-8, and scanned as YAML *events* before any tree is built, so that anchors/aliases
("billion laughs"), tags (``!!python/object/apply:os.system``), several documents and deep
nesting are refused without ever being expanded. Only then is the node tree composed with the
SafeLoader and turned into plain data by hand, keeping each field's line number and noting
where YAML 1.1 read an unquoted scalar as something other than text (``no`` -> false).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from app.questionnaires import schema
from app.questionnaires.model import Questionnaire, build
from app.questionnaires.schema import (
    MAX_FILE_BYTES,
    N_,
    Finding,
    Message,
    Path,
    Problem,
    QuestionnaireError,
    format_path,
)

# Our deepest legitimate nesting is 6 (dimensions > items > item > text); a generous bound
# keeps PyYAML's recursive composer far from Python's recursion limit.
MAX_DEPTH = 20

_TAG = "tag:yaml.org,2002:"
_TYPE_NAMES = {
    _TAG + "bool": N_("true/false"),
    _TAG + "int": N_("a number"),
    _TAG + "float": N_("a number"),
    _TAG + "null": N_("null (nothing)"),
    _TAG + "timestamp": N_("a date"),
}


def load_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """Load and validate one questionnaire file; raise QuestionnaireError listing all problems."""
    file_path = FilePath(path)
    source = file_path.name
    with file_path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            size = os.fstat(handle.fileno()).st_size
            raise QuestionnaireError([_too_big(source, size)])
    return parse_questionnaire(raw, source)


def parse_questionnaire(text: str | bytes, source: str = "<upload>") -> Questionnaire:
    """Parse and validate questionnaire YAML (or JSON) given as text or raw bytes.

    ``source`` names the file in problem messages (use the uploaded file's name).
    """
    document = read_document(text, source)
    spec, findings = schema.validate(document.data)
    problems = document.problems + [document.locate(f, source) for f in findings]
    if problems or spec is None:
        raise QuestionnaireError(schema.cap_problems(problems))
    return build(spec)


@dataclass
class Document:
    """Plain data read from YAML, with the line of every field and YAML's coercions."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    coerced: dict[Path, tuple[str, Message]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """Return the line of a field, or of its nearest ancestor present in the file."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def locate(self, finding: Finding, source: str) -> Problem:
        see_where = (
            None if finding.see is None else N_("line %(line)s", line=self.line_of(finding.see))
        )
        message = finding.describe(see_where)
        if finding.kind == "text" and finding.path in self.coerced:
            raw, read_as = self.coerced[finding.path]
            message = message + N_(
                " (YAML reads the unquoted value `%(raw)s` as %(read_as)s; put it in quotes: "
                '"%(raw)s")',
                raw=raw,
                read_as=read_as,
            )
        return Problem.of(source, self.line_of(finding.path), format_path(finding.path), message)


def read_document(text: str | bytes, source: str) -> Document:
    """Decode, screen and parse YAML into a Document; raise only if nothing can be read."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise QuestionnaireError([_too_big(source, len(text))])
        text = _decode(text, source)
    else:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise QuestionnaireError([_too_big(source, size)])
    hostile = _screen_events(text, source)
    if hostile:
        raise QuestionnaireError(schema.cap_problems(hostile))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:  # screened already; kept for safety
        raise QuestionnaireError([_yaml_problem(exc, text, source)]) from exc
    if root is None:
        raise QuestionnaireError([Problem.of(source, 1, "", N_("the file is empty"))])
    document = Document(data=None)
    document.data = _Converter(document, source).convert(root, ())
    return document


def _too_big(source: str, size: int) -> Problem:
    kib = f"{size / 1024:.0f}"
    return Problem.of(
        source,
        None,
        "",
        N_(
            "file is %(size)s KiB; the limit is %(limit)s KiB",
            size=kib,
            limit=MAX_FILE_BYTES // 1024,
        ),
    )


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = f"{raw[exc.start]:#04x}"
        message = N_(
            "not valid UTF-8 text (byte %(position)s: %(byte)s); save the file as UTF-8",
            position=exc.start,
            byte=byte,
        )
        raise QuestionnaireError([Problem.of(source, line, "", message)]) from None


def _yaml_problem(exc: yaml.YAMLError, text: str, source: str) -> Problem:
    if isinstance(exc, ReaderError):
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        shown = f"U+{code:04X}"
        return Problem.of(
            source, line, "", N_("character %(code)s is not allowed in a YAML file", code=shown)
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        # PyYAML's own words (exc.problem, exc.context) have no translation; ours do.
        message = N_("YAML syntax error: %(problem)s", problem=exc.problem or "")
        if exc.context:
            if exc.context_mark is not None and exc.context_mark.line + 1 != line:
                message = message + N_(
                    " (%(context)s that starts at line %(line)s)",
                    context=exc.context,
                    line=exc.context_mark.line + 1,
                )
            else:
                message = message + N_(" (%(context)s)", context=exc.context)
        return Problem.of(source, line, "", message)
    return Problem.of(source, None, "", N_("YAML error: %(error)s", error=str(exc)))


def _screen_events(text: str, source: str) -> list[Problem]:
    """Refuse what a questionnaire never needs and an attacker would use, before composing.

    Reports one problem per line and kind, so an alias bomb gives a short list, not thousands.
    """
    found: dict[tuple[int, str], Message] = {}
    depth = documents = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, AliasEvent):
                found.setdefault(
                    (line, "alias"),
                    N_(
                        "aliases (*%(anchor)s) are not allowed; write the value out",
                        anchor=event.anchor,
                    ),
                )
            elif isinstance(event, NodeEvent):
                if event.anchor is not None:
                    found.setdefault(
                        (line, "anchor"),
                        N_("anchors (&%(anchor)s) are not allowed", anchor=event.anchor),
                    )
                tag = getattr(event, "tag", None)
                if tag is not None:
                    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
                    found.setdefault(
                        (line, "tag"),
                        N_(
                            "YAML tags (%(tag)s) are not allowed; to make a value text, put it "
                            "in quotes",
                            tag=shown,
                        ),
                    )
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    found[(line, "document")] = N_("only one YAML document is allowed per file")
                    break
            elif isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    found[(line, "depth")] = N_(
                        "nested more than %(depth)s levels deep", depth=MAX_DEPTH
                    )
                    break
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        return [_yaml_problem(exc, text, source)]
    return [Problem.of(source, line, "", message) for (line, _), message in found.items()]


class _Converter:
    """Turn a composed node tree into plain Python data, recording lines and coercions."""

    def __init__(self, document: Document, source: str) -> None:
        self.document = document
        self.source = source
        self.constructor = SafeConstructor()

    def convert(self, node: Node, path: Path) -> Any:
        self.document.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.convert(child, (*path, i)) for i, child in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self._problem(key_line, path, N_("a key must be plain text, not a list or mapping"))
                continue
            key = key_node.value
            if key_node.tag == _TAG + "merge":
                self._problem(
                    key_line, path, N_("merge keys (<<) are not supported; write the keys out")
                )
                continue
            if key_node.tag != _TAG + "str" and key_node.style is None:
                read_as = _TYPE_NAMES.get(key_node.tag, N_("something other than text"))
                self._problem(
                    key_line,
                    (*path, key),
                    N_(
                        "the key `%(key)s` is read by YAML as %(read_as)s, not as text; put it "
                        'in quotes: "%(key)s"',
                        key=key,
                        read_as=read_as,
                    ),
                )
            if key in result:
                first = self.document.lines[(*path, key)]
                self._problem(
                    key_line,
                    (*path, key),
                    N_(
                        "key '%(key)s' appears twice in this mapping (first at line %(first)s); "
                        "YAML would silently keep only the last one",
                        key=key,
                        first=first,
                    ),
                )
                continue
            # The key's line, not the value's: for block values that is where the field starts.
            self.document.lines[(*path, key)] = key_line
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag == _TAG + "str" or tag not in _TYPE_NAMES:
            return node.value
        try:
            value = self.constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            # Looks like a date or number but is not one (2024-13-45): it can only be text.
            return node.value
        if node.style is None:
            self.document.coerced[path] = (node.value, _describe_coerced(value, tag))
        return value

    def _problem(self, line: int, path: Path, message: Message) -> None:
        self.document.problems.append(Problem.of(self.source, line, format_path(path), message))


def _describe_coerced(value: Any, tag: str) -> Message:
    if tag == _TAG + "bool":
        return N_("the true/false value %(value)s", value=str(value).lower())
    if tag == _TAG + "null":
        return N_("null (nothing)")
    if tag == _TAG + "timestamp":
        return N_("the date %(value)s", value=str(value))
    return N_("the number %(value)s", value=value)
