"""Translations: the committed catalogue covers the sources, and pages come in both languages.

The first test is the guard for later work: a new user-visible string in ``app/`` or
``templates/`` fails it (with its msgid and location) until it is translated with
``flask translate update``, an edit of the .po file and ``flask translate compile``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Message

from app.cli.translate import (
    TEMPLATE_NAME,
    TRANSLATIONS_DIR,
    catalogue_paths,
    catalogue_problems,
    compiled_problems,
    extract_template,
    msgids,
    placeholder_mismatch,
    placeholders,
    read_catalogue,
    write_catalogue,
)
from app.extensions import babel
from tests.app.respond_helpers import arrange, enter_code
from tests.app.staff_helpers import build_world, signed_in_client

HOW_TO_FIX = (
    "run `flask --app wsgi translate update`, translate the new entries in "
    "app/translations/id/LC_MESSAGES/messages.po, then `flask --app wsgi translate compile`"
)


@pytest.fixture
def app_config(app_config):
    """Use the committed catalogues even if the suite's default configuration turns them off."""
    return {**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS_DIR)}


@pytest.fixture
def app(app):
    """The test app, with no catalogue loaded before or kept after the test.

    Flask-Babel caches catalogues per locale on the ``Babel`` object, which every app of the
    process shares, so one built with other translation directories would otherwise leak in.
    """
    with app.app_context():
        cache = babel.domain_instance.cache
    cache.clear()
    yield app
    cache.clear()


@pytest.fixture(scope="module")
def template():
    """The msgids the sources have now (extracting takes a moment, so once per module)."""
    return extract_template()


@pytest.fixture(scope="module")
def catalogues():
    found = catalogue_paths(TRANSLATIONS_DIR)
    assert "id" in found, "the Indonesian catalogue is missing"
    return {language: (path, read_catalogue(path, locale=language))
            for language, path in found.items()}


def _describe(messages) -> str:
    lines = []
    for message in messages:
        where = ", ".join(f"{name}:{line}" for name, line in message.locations) or "?"
        lines.append(f"  {message.id!r} ({where})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the catalogue


def test_every_source_string_is_in_the_committed_catalogues(template, catalogues):
    wanted = msgids(template)
    for path, catalog in catalogues.values():
        present = msgids(catalog)
        new = [message for key, message in wanted.items() if key not in present]
        assert not new, (
            f"{len(new)} user-visible string(s) are not in {path.name} yet:\n"
            f"{_describe(new)}\nTo fix: {HOW_TO_FIX}.")


def test_the_catalogues_hold_no_string_the_sources_dropped(template, catalogues):
    wanted = msgids(template)
    for path, catalog in catalogues.values():
        gone = [key for key in msgids(catalog) if key not in wanted]
        assert not gone, (f"{path}: no longer in the sources: {gone}. "
                          "Run `flask --app wsgi translate update` to drop them.")


def test_the_committed_template_matches_the_sources(template):
    committed = read_catalogue(TRANSLATIONS_DIR / TEMPLATE_NAME)
    assert msgids(committed).keys() == msgids(template).keys(), (
        "app/translations/messages.pot is stale: run `flask --app wsgi translate update`")


def test_no_entry_is_untranslated(catalogues):
    for path, catalog in catalogues.values():
        empty = [m for m in msgids(catalog).values()
                 if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
        assert not empty, f"{path}: translate these:\n{_describe(empty)}"


def test_no_entry_is_fuzzy(catalogues):
    for path, catalog in catalogues.values():
        assert not catalog.fuzzy, f"{path}: the header is marked fuzzy"
        fuzzy = [m for m in msgids(catalog).values() if m.fuzzy]
        assert not fuzzy, f"{path}: check these and remove the fuzzy flag:\n{_describe(fuzzy)}"


def test_placeholders_match_in_every_entry(catalogues):
    for path, catalog in catalogues.values():
        broken = [m for m in msgids(catalog).values() if placeholder_mismatch(m)]
        assert not broken, f"{path}: placeholders differ:\n{_describe(broken)}"


def test_the_compiled_catalogue_matches_its_source(catalogues):
    for path, catalog in catalogues.values():
        problems = compiled_problems(path, catalog)
        assert not problems, "\n".join(str(p) for p in problems)


# --------------------------------------------------------------------------- the checks


def test_placeholders_are_read_by_name_position_and_stray_percent():
    assert placeholders("%(n)d of %(total)d, %(n)d again") == {"%(n)d": 2, "%(total)d": 1}
    assert placeholders("%s and %d") == {"%s (number 1)": 1, "%d (number 2)": 1}
    assert placeholders("50%% done") == {"%%": 1}
    assert placeholders("naik 50%.") == {"% (a lone percent sign)": 1}
    assert placeholders("% of valid answers") == {"% (a lone percent sign)": 1}
    assert placeholders("{min} to {max}, {}") == {"{min}": 1, "{max}": 1, "{number 1}": 1}
    assert placeholders("no placeholder") == {}


@pytest.mark.parametrize(("msgid", "msgstr", "mismatch"), [
    ("Page %(n)d", "Halaman %(n)d", False),
    ("Page %(n)d", "Halaman %(m)d", True),  # renamed: formatting would raise KeyError
    ("Page %(n)d", "Halaman", True),  # dropped
    ("Page %(n)d", "Halaman %(n)s", True),  # other conversion
    ("Rate", "Tingkat 50%", True),  # a lone % breaks Jinja's formatting
    ("%s of %s", "%s dari %s", False),
    ("% of valid answers", "% dari jawaban yang sah", False),
    ("On a {min} to {max} scale.", "Pada skala {min} sampai {max}.", False),
    ("On a {min} to {max} scale.", "Pada skala {min} sampai {maks}.", True),
    ("", "", False),
])
def test_placeholder_mismatches_are_found(msgid, msgstr, mismatch):
    assert placeholder_mismatch(Message(msgid, msgstr)) is mismatch


def test_a_plural_translation_may_drop_num_but_no_other_placeholder():
    ids = ("%(used)d of %(num)d code used", "%(used)d of %(num)d codes used")
    assert not placeholder_mismatch(Message(ids, ("%(used)d dari %(num)d kode terpakai",)))
    assert not placeholder_mismatch(Message(ids, ("%(used)d kode terpakai",)))
    assert placeholder_mismatch(Message(ids, ("%(num)d kode",)))
    assert placeholder_mismatch(Message(ids, ("%(used)d dari %(max)d kode",)))


def test_catalogue_problems_name_each_kind_of_problem():
    path = catalogue_paths(TRANSLATIONS_DIR)["id"]
    catalog = read_catalogue(path, locale="id")
    entries = list(msgids(catalog).values())
    entries[0].string = ""
    entries[1].flags.add("fuzzy")
    broken = next(m for m in entries[2:] if isinstance(m.id, str) and "%(" in m.id)
    broken.string = "tanpa tempat"
    kinds = {(p.kind.split(" (")[0], p.msgid) for p in catalogue_problems(path, catalog)}
    assert ("not translated", entries[0].id) in kinds
    assert ("fuzzy", entries[1].id) in kinds
    assert ("placeholders differ", broken.id) in kinds


@pytest.fixture
def catalogue_copy(tmp_path) -> Path:
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy)
    return copy


def test_translate_check_passes_on_the_committed_catalogues(runner):
    result = runner.invoke(args=["translate", "check"])
    assert result.exit_code == 0, result.output


def test_translate_check_fails_on_a_missing_translation(runner, catalogue_copy):
    po = catalogue_copy / "id" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    entry = 'msgid "The current password is not right."\nmsgstr "Kata sandi saat ini salah."'
    assert entry in text
    po.write_text(text.replace(entry, entry.split("\n")[0] + '\nmsgstr ""'), encoding="utf-8")
    result = runner.invoke(args=["translate", "check", "--directory", str(catalogue_copy)])
    assert result.exit_code != 0
    assert "not translated: 'The current password is not right.'" in result.output
    assert "app/services/users.py" in result.output


def test_translate_update_adds_new_strings_untranslated_and_keeps_the_rest(
        runner, catalogue_copy):
    po = catalogue_copy / "id" / "LC_MESSAGES" / "messages.po"
    catalog = read_catalogue(po)
    del catalog["Too many attempts"]  # as if the string had just been added to the sources
    write_catalogue(po, catalog)
    result = runner.invoke(args=["translate", "update", "--directory", str(catalogue_copy)])
    assert result.exit_code == 0, result.output
    assert "to translate" in result.output and "translate compile" in result.output
    updated = read_catalogue(po)
    assert updated["Too many attempts"].string == ""
    assert updated["Too large"].string == "Terlalu besar"
    assert (catalogue_copy / TEMPLATE_NAME).exists()


def test_translate_compile_refuses_a_broken_placeholder(runner, catalogue_copy):
    po = catalogue_copy / "id" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "Halaman %(n)d"', 'msgstr "Halaman %(nomor)d"'),
                  encoding="utf-8")
    mo = po.with_suffix(".mo")
    before = mo.read_bytes()
    result = runner.invoke(args=["translate", "compile", "--directory", str(catalogue_copy)])
    assert result.exit_code != 0
    assert "Page %(n)d" in result.output
    assert mo.read_bytes() == before


def test_translate_init_starts_a_language_once(runner, catalogue_copy):
    result = runner.invoke(args=["translate", "init", "ms", "--directory", str(catalogue_copy)])
    assert result.exit_code == 0, result.output
    created = read_catalogue(catalogue_copy / "ms" / "LC_MESSAGES" / "messages.po")
    assert created.num_plurals == 1  # Malay, like Indonesian, has no plural forms
    assert "Too large" in created
    again = runner.invoke(args=["translate", "init", "ms", "--directory", str(catalogue_copy)])
    assert again.exit_code != 0 and "exists already" in again.output


# --------------------------------------------------------------------------- pages


def _english(client) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/"})
    assert response.status_code == 302


def test_front_page_is_indonesian_by_default_and_english_on_request(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Seberapa sehat kemitraan kita?" in html
    assert "Masukkan kode akses yang Anda terima dari organisasi Anda." in html
    assert "How healthy is our partnership?" not in html
    _english(client)
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "How healthy is our partnership?" in html
    assert "Seberapa sehat kemitraan kita?" not in html


def test_sign_in_page_and_its_form_messages_follow_the_language(client):
    html = client.get("/login").get_data(as_text=True)
    assert "Masuk untuk staf" in html and "Kata sandi" in html and "Staff sign in" not in html
    empty = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "Kolom ini wajib diisi." in empty  # WTForms' own message, from our catalogue
    assert "This field is required." not in empty
    _english(client)
    html = client.get("/login").get_data(as_text=True)
    assert "Staff sign in" in html and "Password" in html and "Masuk untuk staf" not in html
    empty = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "This field is required." in empty


def test_respondent_pages_follow_the_chosen_language(app, client):
    fieldwork = arrange(app, codes=1)
    assert enter_code(client, fieldwork.codes[0]).status_code == 303
    assert client.post("/r/language", data={"language": "id"}).status_code == 303
    html = client.get("/r/about").get_data(as_text=True)
    assert "Apa yang disimpan" in html and "Siapa melihat apa" in html
    assert "sedikitnya 5 tanggapan" in html  # the partnership's k, in the Indonesian sentence
    assert "What is stored" not in html
    assert client.post("/r/language", data={"language": "en"}).status_code == 303
    html = client.get("/r/about").get_data(as_text=True)
    assert "What is stored" in html and "at least 5 responses" in html
    assert "Apa yang disimpan" not in html


def _indonesian_coordinator(app, world) -> None:
    """build_world's staff read English; these tests start from the Indonesian profile."""
    from app.models import User
    from tests.app.staff_helpers import db

    with db(app) as session:
        session.get(User, world.coordinator).language = "id"
        session.commit()


def test_staff_pages_show_dates_in_the_users_language(app):
    world = build_world(app)
    _indonesian_coordinator(app, world)
    client = signed_in_client(app, "coordinator")
    page = f"/admin/partnerships/{world.partnership}"
    html = client.get(page).get_data(as_text=True)
    assert "1 Jan 2026" in html and "31 Des 2026" in html  # make_round's dates
    assert "2026-01-01" not in html
    assert "Keluar</button>" in html  # the sign-out button lives in templates/_macros/
    _english(client)
    html = client.get(page).get_data(as_text=True)
    assert "Jan 1, 2026" in html and "Dec 31, 2026" in html
    assert "Sign out</button>" in html


def test_counts_use_the_singular_and_plural_of_each_language(app):
    world = build_world(app)
    _indonesian_coordinator(app, world)
    client = signed_in_client(app, "coordinator")
    base = f"/fieldwork/partnerships/{world.partnership}/rounds/{world.open_round}"
    for batch, count in (("0123456789abcdef", 1), ("fedcba9876543210", 2)):
        sheet = client.post(f"{base}/codes", data={
            "partner_id": world.partners[0], "count": count, "language": "id", "batch": batch})
        assert sheet.status_code == 200
    html = client.get(base).get_data(as_text=True)
    assert "1 kode sekali pakai" in html and "2 kode sekali pakai" in html
    _english(client)
    html = client.get(base).get_data(as_text=True)
    assert "1 single-use code<" in html and "2 single-use codes<" in html
