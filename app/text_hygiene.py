"""What text may enter the system, and how stored text is made safe to hand to other programs.

One boundary for every way text comes in (web forms, respondent answers, uploaded
questionnaires, CSV imports): NUL and other control characters are *refused* with a message
that says where they are, because PostgreSQL cannot store NUL at all and the others are never
typed by a person (ESC starts terminal escape sequences in a log or a CLI listing). Tab, line
feed and carriage return are ordinary text.

Bidirectional overrides and zero-width characters are a different case: they occur in real
text (a zero-width joiner in a name; a right-to-left mark pasted from a chat app), so they are
accepted and stored as typed, but *neutralised* wherever text leaves the system for another
program (CSV and XLSX exports), where they could make a cell read differently from what it
holds ("Trojan Source"-style reordering, invisible duplicates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 controls except tab, LF, CR; DEL; C1 controls. NUL is among them.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Bidi embeddings, overrides and isolates; bidi marks; zero-width characters; BOM / word joiner.
_INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\u2061-\u2064\ufeff]"
)


@dataclass(frozen=True)
class ForbiddenCharacter:
    """Where the first refused character of a text is, for an error message."""

    position: int  # 1-based character position in the text
    codepoint: int

    @property
    def name(self) -> str:
        """``U+0000`` style name, readable in any language and any terminal."""
        return f"U+{self.codepoint:04X}"


def find_forbidden(text: str) -> ForbiddenCharacter | None:
    """Return the first control character that text may not contain, or None."""
    match = _FORBIDDEN.search(text)
    if match is None:
        return None
    return ForbiddenCharacter(position=match.start() + 1, codepoint=ord(match.group()))


def is_clean(text: str) -> bool:
    """True when ``text`` holds no refused control character."""
    return _FORBIDDEN.search(text) is None


def neutralise_invisible(text: str) -> str:
    """Make bidi controls and zero-width characters visible as ``<U+202E>`` for export.

    Visible rather than removed: a coordinator reading an export should see that the
    respondent's text held something unusual, and two different stored strings must not
    become one exported string.
    """
    if not _INVISIBLE.search(text):
        return text
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def visible(text: str, limit: int = 60) -> str:
    """Show text that may hold controls or invisibles safely in a message (``a<U+0000>b``).

    For echoing a *name* the client sent (a form field, a query parameter) in an error
    message: the reader must see what was wrong, and a log or terminal must not interpret it.
    """
    shown = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text[:limit])
    shown = _FORBIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", shown)
    return shown + ("…" if len(text) > limit else "")


def strip_forbidden(text: str) -> str:
    """Remove refused controls; only for text that is not the user's (e.g. log messages)."""
    return _FORBIDDEN.sub("", text)
