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
    Finding,
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
    _TAG + "bool": "true/false",
    _TAG + "int": "a number",
    _TAG + "float": "a number",
    _TAG + "null": "null (nothing)",
    _TAG + "timestamp": "a date",
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
    coerced: dict[Path, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """Return the line of a field, or of its nearest ancestor present in the file."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def locate(self, finding: Finding, source: str) -> Problem:
        see_where = None if finding.see is None else f"line {self.line_of(finding.see)}"
        message = finding.describe(see_where)
        if finding.kind == "text" and finding.path in self.coerced:
            raw, read_as = self.coerced[finding.path]
            message += (
                f' (YAML reads the unquoted value `{raw}` as {read_as}; put it in quotes: "{raw}")'
            )
        return Problem(source, self.line_of(finding.path), format_path(finding.path), message)


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
        raise QuestionnaireError([Problem(source, 1, "", "the file is empty")])
    document = Document(data=None)
    document.data = _Converter(document, source).convert(root, ())
    return document


def _too_big(source: str, size: int) -> Problem:
    return Problem(
        source,
        None,
        "",
        f"file is {size / 1024:.0f} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB",
    )


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = (
            f"not valid UTF-8 text (byte {exc.start}: {raw[exc.start]:#04x}); "
            "save the file as UTF-8"
        )
        raise QuestionnaireError([Problem(source, line, "", message)]) from None


def _yaml_problem(exc: yaml.YAMLError, text: str, source: str) -> Problem:
    if isinstance(exc, ReaderError):
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(source, line, "", f"character U+{code:04X} is not allowed in a YAML file")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        message = "YAML syntax error: " + (exc.problem or "")
        if exc.context:
            message += f" ({exc.context}"
            if exc.context_mark is not None and exc.context_mark.line + 1 != line:
                message += f" that starts at line {exc.context_mark.line + 1}"
            message += ")"
        return Problem(source, line, "", message)
    return Problem(source, None, "", f"YAML error: {exc}")


def _screen_events(text: str, source: str) -> list[Problem]:
    """Refuse what a questionnaire never needs and an attacker would use, before composing.

    Reports one problem per line and kind, so an alias bomb gives a short list, not thousands.
    """
    found: dict[tuple[int, str], str] = {}
    depth = documents = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, AliasEvent):
                found.setdefault(
                    (line, "alias"),
                    f"aliases (*{event.anchor}) are not allowed; write the value out",
                )
            elif isinstance(event, NodeEvent):
                if event.anchor is not None:
                    found.setdefault((line, "anchor"), f"anchors (&{event.anchor}) are not allowed")
                tag = getattr(event, "tag", None)
                if tag is not None:
                    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
                    found.setdefault(
                        (line, "tag"),
                        f"YAML tags ({shown}) are not allowed; to make a value "
                        "text, put it in quotes",
                    )
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    found[(line, "document")] = "only one YAML document is allowed per file"
                    break
            elif isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    found[(line, "depth")] = f"nested more than {MAX_DEPTH} levels deep"
                    break
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        return [_yaml_problem(exc, text, source)]
    return [Problem(source, line, "", message) for (line, _), message in found.items()]


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
                self._problem(key_line, path, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value
            if key_node.tag == _TAG + "merge":
                self._problem(
                    key_line, path, "merge keys (<<) are not supported; write the keys out"
                )
                continue
            if key_node.tag != _TAG + "str" and key_node.style is None:
                read_as = _TYPE_NAMES.get(key_node.tag, "something other than text")
                self._problem(
                    key_line,
                    (*path, key),
                    f"the key `{key}` is read by YAML as {read_as}, not as text; "
                    f'put it in quotes: "{key}"',
                )
            if key in result:
                first = self.document.lines[(*path, key)]
                self._problem(
                    key_line,
                    (*path, key),
                    f"key '{key}' appears twice in this mapping (first at line "
                    f"{first}); YAML would silently keep only the last one",
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

    def _problem(self, line: int, path: Path, message: str) -> None:
        self.document.problems.append(Problem(self.source, line, format_path(path), message))


def _describe_coerced(value: Any, tag: str) -> str:
    if tag == _TAG + "bool":
        return f"the true/false value {str(value).lower()}"
    if tag == _TAG + "null":
        return "null (nothing)"
    if tag == _TAG + "timestamp":
        return f"the date {value}"
    return f"the number {value}"
