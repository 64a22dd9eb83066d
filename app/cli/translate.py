"""``flask translate``: extract, update, compile and check the interface translations.

English is the source language (every msgid); each other language has a catalogue in
``app/translations/<lang>/LC_MESSAGES/messages.po``, compiled to ``messages.mo``, and both are
committed. The template ``messages.pot`` holds the text extracted from ``app/`` and
``templates/`` (see ``babel.cfg``) plus WTForms' built-in validation messages, because WTForms
ships no Indonesian catalogue and ``app.i18n`` reads those messages from ours.

After the microblog tutorial's ``app/cli.py``, with Babel's Python API instead of shelling out.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from string import Formatter
from typing import BinaryIO

import click
from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po
from babel.util import LOCALTZ
from flask.cli import AppGroup
from wtforms.i18n import messages_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BABEL_CONFIG = PROJECT_ROOT / "babel.cfg"
TRANSLATIONS_DIR = PROJECT_ROOT / "app" / "translations"
TEMPLATE_NAME = "messages.pot"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
PROJECT = "Mitra Sehat"
WIDTH = 100
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
COMMENT_TAGS = ("TRANSLATORS:",)
WTFORMS_TEMPLATE = Path(messages_path()) / "wtforms.pot"
WTFORMS_NOTE = "WTForms' own message: WTForms has no Indonesian catalogue (see app/i18n.py)."
HEADER = (
    "# Interface text of Mitra Sehat. English is the source language.\n"
    "# Run `flask --app wsgi translate update`, translate, then `translate compile`.\n"
)

# A printf conversion as Python's % operator reads it, or a lone % that it would choke on.
# The space flag is left out, so the "% of" in "% of valid answers" reads as a lone %.
_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0+-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<conversion>[diouxXeEfFgGcrsa%])|%"
)

translate_group = AppGroup("translate", help="Extract, update, compile and check translations.")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalogue, said so that the fix is obvious."""

    path: Path
    kind: str
    msgid: str
    locations: tuple[tuple[str, int | None], ...] = ()

    def __str__(self) -> str:
        where = ", ".join(f"{name}:{line}" if line else name for name, line in self.locations)
        text = f"{_relative(self.path)}: {self.kind}"
        text += f": {self.msgid!r}" if self.msgid else ""
        return text + (f" ({where})" if where else "")


# ---------------------------------------------------------------------------- extraction


def extract_template(root: Path = PROJECT_ROOT, config: Path = BABEL_CONFIG) -> Catalog:
    """Collect every translatable string of the sources, plus WTForms' messages."""
    with config.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project=PROJECT, version=_project_version(), header_comment=HEADER,
                       msgid_bugs_address="", fuzzy=False, charset="utf-8")
    found = extract_from_dir(str(root), method_map, options_map, keywords=KEYWORDS,
                             comment_tags=COMMENT_TAGS, strip_comment_tags=True,
                             directory_filter=_searched_directory)
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    _add_wtforms_messages(template)
    return template


def _searched_directory(path: str) -> bool:
    """Skip hidden folders and caches, not Babel's default of every ``_`` folder.

    Babel's default would miss ``templates/_macros/`` and its "Sign out" button.
    """
    name = os.path.basename(path)
    return not (name.startswith(".") or name == "__pycache__" or name.endswith(".egg-info"))


def _project_version() -> str:
    try:
        return metadata.version("mitra-sehat")
    except metadata.PackageNotFoundError:
        return "dev"


def _add_wtforms_messages(template: Catalog) -> None:
    with WTFORMS_TEMPLATE.open("rb") as handle:
        wtforms = read_po(handle)
    for message in wtforms:
        if not message.id or message.id in template:
            continue
        locations = [(f"wtforms/{Path(name).name}", line) for name, line in message.locations]
        template.add(message.id, None, locations, flags=message.flags,
                     auto_comments=[WTFORMS_NOTE])


def msgids(catalog: Iterable[Message]) -> dict[str | tuple[str, ...], Message]:
    """Key every real message by its msgid (a (singular, plural) tuple for plurals)."""
    return {_key(message): message for message in catalog if message.id}


def _key(message: Message) -> str | tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id


# ---------------------------------------------------------------------------- files


def catalogue_paths(directory: Path) -> dict[str, Path]:
    """The ``.po`` file of each translated language, by language code."""
    return {
        path.parent.parent.name: path
        for path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    }


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def write_catalogue(path: Path, catalog: Catalog) -> None:
    """Write a .po or .pot file, without entries no source uses any more."""
    _write_atomically(path, lambda out: write_po(out, catalog, width=WIDTH,
                                                 ignore_obsolete=True, include_previous=False))


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Replace ``path`` in one step, so an interrupted run never leaves half a catalogue."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError) as error:
        raise click.BadParameter(f"{language!r} is not a known language code ({error})") from None


# ---------------------------------------------------------------------------- update, init


@dataclass(frozen=True)
class UpdateSummary:
    language: str
    path: Path
    untranslated: int
    fuzzy: int


def update_catalogues(directory: Path, template: Catalog) -> list[UpdateSummary]:
    """Write the template, then merge it into every catalogue (new msgids come untranslated)."""
    write_catalogue(directory / TEMPLATE_NAME, template)
    summaries = []
    for language, path in catalogue_paths(directory).items():
        catalog = read_catalogue(path, locale=language)
        catalog.update(template, update_header_comment=True)
        write_catalogue(path, catalog)
        real = list(msgids(catalog).values())
        summaries.append(UpdateSummary(
            language, path,
            untranslated=sum(1 for m in real if not _translated(m)),
            fuzzy=sum(1 for m in real if m.fuzzy),
        ))
    return summaries


def init_catalogue(directory: Path, template: Catalog, language: str) -> Path:
    """Start the catalogue of a new language from the template; refuse to overwrite one."""
    locale = _locale(language)
    path = directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise click.ClickException(f"{_relative(path)} exists already: use `translate update`")
    write_catalogue(directory / TEMPLATE_NAME, template)
    catalog = read_catalogue(directory / TEMPLATE_NAME, locale=language)
    catalog.locale = locale
    catalog.revision_date = datetime.now(LOCALTZ)
    catalog.fuzzy = False
    catalog.last_translator = PROJECT
    catalog.language_team = locale.get_display_name(locale) or language
    if not locale.plural_form.tags:
        # Babel's table lacks languages without plurals (Indonesian): it would ask for two
        # forms. CLDR says one, written the way gettext expects it.
        catalog.mime_headers = [("Plural-Forms", "nplurals=1; plural=0;")]
    write_catalogue(path, catalog)
    return path


# ---------------------------------------------------------------------------- compile


def compile_catalogues(directory: Path) -> list[Path]:
    """Compile every catalogue to .mo; refuse all of them if any placeholder is broken.

    A broken placeholder would make the page raise while formatting the text, so such a
    catalogue is never compiled. Fuzzy entries are left out (English is shown instead).
    """
    broken = [p for path in catalogue_paths(directory).values()
              for p in _placeholder_problems(path, read_catalogue(path))]
    if broken:
        raise click.ClickException(
            "not compiled, placeholders differ:\n" + "\n".join(str(p) for p in broken))
    written = []
    for path in catalogue_paths(directory).values():
        catalog = read_catalogue(path)
        target = path.with_suffix(".mo")
        _write_atomically(target, lambda out, c=catalog: write_mo(out, c, use_fuzzy=False))
        written.append(target)
    return written


# ---------------------------------------------------------------------------- check


def placeholders(text: str) -> Counter[str]:
    """The placeholders of ``text``: ``%(name)d`` by name, ``%s`` in order, a stray ``%``,
    and ``str.format`` fields such as ``{min}``."""
    found: Counter[str] = Counter()
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        conversion = match.group("conversion")
        if conversion is None:
            found["% (a lone percent sign)"] += 1
        elif conversion == "%":
            found["%%"] += 1
        elif match.group("name") is not None:
            found[f"%({match.group('name')}){conversion}"] += 1
        else:
            position += 1
            found[f"%{conversion} (number {position})"] += 1
    return found + _format_fields(text)


def _format_fields(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        return Counter({"{ or } (unbalanced)": 1})
    position = 0
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field:
            position += 1
            field = f"number {position}"
        found["{" + field + (f"!{conversion}" if conversion else "")
              + (f":{spec}" if spec else "") + "}"] += 1
    return found


def placeholder_mismatch(message: Message) -> bool:
    """True when a translation's placeholders differ from its msgid's.

    A plural translation may drop ``%(num)d`` (as English "one code" does) but must keep every
    other placeholder and add none.
    """
    if isinstance(message.id, (list, tuple)):
        singular, plural = (placeholders(text) for text in message.id)
        allowed = singular | plural
        required = Counter({k: v for k, v in plural.items() if k != "%(num)d"})
        forms = [form for form in message.string if form]
        return any(
            not set(placeholders(form)) <= set(allowed)
            or any(placeholders(form)[k] < v for k, v in required.items())
            for form in forms
        )
    if not message.string:
        return False
    return placeholders(message.string) != placeholders(message.id)


def _translated(message: Message) -> bool:
    if isinstance(message.string, (list, tuple)):
        return bool(message.string) and all(message.string)
    return bool(message.string)


def _singular(message: Message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def _placeholder_problems(path: Path, catalog: Catalog) -> list[Problem]:
    return [Problem(path, "placeholders differ", _singular(m), tuple(m.locations))
            for m in msgids(catalog).values() if placeholder_mismatch(m)]


def catalogue_problems(path: Path, catalog: Catalog) -> list[Problem]:
    """Untranslated, fuzzy and placeholder problems of one catalogue."""
    problems = []
    if catalog.fuzzy:
        problems.append(Problem(path, "the catalogue header is marked fuzzy", ""))
    for message in msgids(catalog).values():
        where = tuple(message.locations)
        if not _translated(message):
            problems.append(Problem(path, "not translated", _singular(message), where))
        if message.fuzzy:
            problems.append(Problem(path, "fuzzy (check it, then remove the fuzzy flag)",
                                    _singular(message), where))
    return problems + _placeholder_problems(path, catalog)


def source_problems(path: Path, catalog: Catalog, template: Catalog) -> list[Problem]:
    """Msgids the sources have and the catalogue lacks, and the other way round."""
    wanted, present = msgids(template), msgids(catalog)
    missing = [Problem(path, "in the sources, not in the catalogue (run `translate update`)",
                       _singular(message), tuple(message.locations))
               for key, message in wanted.items() if key not in present]
    unused = [Problem(path, "in the catalogue, no longer in the sources (run `translate update`)",
                      _singular(message))
              for key, message in present.items() if key not in wanted]
    return missing + unused


def compiled_problems(path: Path, catalog: Catalog) -> list[Problem]:
    """Differences between a .po file and its compiled .mo (forgotten `translate compile`)."""
    compiled = path.with_suffix(".mo")
    if not compiled.exists():
        return [Problem(compiled, "missing (run `translate compile`)", "")]
    with compiled.open("rb") as handle:
        in_mo = {key: _strings(m) for key, m in msgids(read_mo(handle)).items()}
    in_po = {key: _strings(m) for key, m in msgids(catalog).items()
             if _translated(m) and not m.fuzzy}
    differing = (in_po.keys() ^ in_mo.keys()) | {
        key for key in in_po.keys() & in_mo.keys() if in_po[key] != in_mo[key]}
    return [Problem(compiled, "differs from the .po file (run `translate compile`)",
                    key[0] if isinstance(key, tuple) else key)
            for key in sorted(differing, key=str)]


def _strings(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (list, tuple)) else (string,)


def check_translations(directory: Path, template: Catalog | None = None) -> list[Problem]:
    """Everything that keeps a user from seeing a page fully in their language."""
    template = extract_template() if template is None else template
    paths = catalogue_paths(directory)
    if not paths:
        return [Problem(directory, "no catalogue found (run `translate init LANG`)", "")]
    problems = []
    for language, path in paths.items():
        catalog = read_catalogue(path, locale=language)
        problems += source_problems(path, catalog, template)
        problems += catalogue_problems(path, catalog)
        problems += compiled_problems(path, catalog)
    return problems


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- commands

_directory_option = click.option(
    "--directory", "-d", type=click.Path(file_okay=False, path_type=Path),
    default=TRANSLATIONS_DIR, show_default="app/translations",
    help="Folder of the catalogues.")


@translate_group.command("update")
@_directory_option
def update(directory: Path) -> None:
    """Extract the text into messages.pot and merge it into every catalogue."""
    template = extract_template()
    summaries = update_catalogues(directory, template)
    click.echo(f"{_relative(directory / TEMPLATE_NAME)}: {len(msgids(template))} messages")
    for summary in summaries:
        click.echo(f"{_relative(summary.path)}: {summary.untranslated} to translate, "
                   f"{summary.fuzzy} fuzzy to check")
    if any(s.untranslated or s.fuzzy for s in summaries):
        click.echo("Translate them in the .po file, then run `flask --app wsgi translate "
                   "compile`.")


@translate_group.command("compile")
@_directory_option
def compile_(directory: Path) -> None:
    """Compile every catalogue to the .mo file the app reads."""
    for path in compile_catalogues(directory):
        click.echo(f"compiled {_relative(path)}")


@translate_group.command("init")
@click.argument("language")
@_directory_option
def init(language: str, directory: Path) -> None:
    """Start the catalogue of a new LANGUAGE (for example: id)."""
    if language == SOURCE_LANGUAGE:
        raise click.ClickException(f"{language} is the source language: it needs no catalogue")
    path = init_catalogue(directory, extract_template(), language)
    click.echo(f"created {_relative(path)}: translate it, then run `translate compile`")


@translate_group.command("check")
@_directory_option
def check(directory: Path) -> None:
    """Fail, listing each one, on untranslated, fuzzy, stale or mis-formatted entries."""
    problems = check_translations(directory)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} translation problem(s)")
    for language, path in catalogue_paths(directory).items():
        click.echo(f"{_relative(path)}: complete ({language})")
