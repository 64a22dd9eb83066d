"""Questionnaire versions: list, bilingual preview, upload that stores only valid files."""

from __future__ import annotations

import io
import re

import pytest

from app.models import AuditEvent, QuestionnaireVersion
from tests.app.staff_helpers import (
    BILINGUAL_YAML,
    audit_actions,
    build_world,
    count,
    signed_in_client,
)
from tests.factories import ROOT

DATA = ROOT / "tests" / "data" / "questionnaires"

# Four mistakes at known places (line numbers counted in the text below).
FOUR_MISTAKES = BILINGUAL_YAML.replace(
    "        scale: setuju4\n        reverse: true",
    "        scale: setuju5\n        reverse: maybe",
).replace(
    "title: {id: Transparansi, en: Transparency}",
    "title: {id: Transparansi}\n    colour: red",
)
EXPECTED_PROBLEMS = [  # (line, field path, words of the message)
    (22, "dimensions[0].items[1].scale", "setuju5"),
    (23, "dimensions[0].items[1].reverse", "true or false"),
    (25, "dimensions[1].title", "missing &#39;en&#39; translation"),
    (26, "dimensions[1].colour", "unknown key"),
]


@pytest.fixture
def world(app):
    return build_world(app)


def _upload(client, content: bytes | str, filename: str = "baru.yaml"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return client.post("/admin/questionnaires/upload",
                       data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def _version_2(text: str = BILINGUAL_YAML) -> str:
    return text.replace("version: 1", "version: 2", 1)


# ---------------------------------------------------------------------- list and preview


@pytest.mark.parametrize("who", ["admin", "coordinator", "facilitator", "observer", "plain"])
def test_any_staff_member_lists_and_previews(app, world, who):
    client = signed_in_client(app, who)
    listing = client.get("/admin/questionnaires")
    assert listing.status_code == 200
    assert "uji-staf" in listing.get_data(as_text=True)
    assert client.get(f"/admin/questionnaires/{world.version}").status_code == 200


def test_anonymous_users_cannot_see_questionnaires(client, world):
    assert client.get("/admin/questionnaires").status_code == 302
    assert client.get(f"/admin/questionnaires/{world.version}").status_code == 302


def test_unknown_version_is_404(app, world):
    assert signed_in_client(app, "coordinator").get("/admin/questionnaires/999").status_code == 404


def test_preview_shows_both_languages_with_staff_notes(app, world):
    html = signed_in_client(app, "facilitator").get(
        f"/admin/questionnaires/{world.version}").get_data(as_text=True)
    for text in ("Semua mitra didengar.", "All partners are heard.",  # items
                 "Sangat tidak setuju", "Strongly disagree", "Tidak tahu",  # scale labels
                 "Kesetaraan", "Equality",  # dimensions
                 "Apa saran Anda?", "What do you suggest?",  # open question
                 "Mitra ini menepati komitmennya.",  # partner rating
                 "badge-reverse"):
        assert text in html, text
    # Exactly one item is reverse-coded: the badge sits next to kes2 only.
    assert html.count('class="badge badge-reverse"') == 1
    reverse_at = html.index('class="badge badge-reverse"')
    assert html.rindex("kes2", 0, reverse_at) > html.rindex("kes1", 0, reverse_at)


def test_preview_can_show_one_language(app, world):
    html = signed_in_client(app, "coordinator").get(
        f"/admin/questionnaires/{world.version}?lang=en").get_data(as_text=True)
    assert "All partners are heard." in html
    assert "Semua mitra didengar." not in html


# -------------------------------------------------------------------------------- upload


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 200), ("facilitator", 403), ("observer", 403),
    ("plain", 403)])
def test_only_admins_and_coordinators_upload(app, world, who, status):
    client = signed_in_client(app, who)
    assert client.get("/admin/questionnaires/upload").status_code == status
    before = count(app, QuestionnaireVersion)
    response = _upload(client, _version_2())
    assert response.status_code == (302 if status == 200 else status)
    assert count(app, QuestionnaireVersion) == before + (1 if status == 200 else 0)


def test_a_valid_upload_is_imported_and_audited(app, world):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, _version_2(), "kuesioner-baru.yml")
    assert response.status_code == 302
    assert count(app, QuestionnaireVersion) == 2
    assert re.match(r"^/admin/questionnaires/\d+$", response.headers["Location"])
    assert audit_actions(app, action="questionnaire.import") == ["questionnaire.import"]


def test_an_upload_with_mistakes_lists_each_with_line_and_field_and_stores_nothing(app, world):
    client = signed_in_client(app, "coordinator")
    versions, events = count(app, QuestionnaireVersion), count(app, AuditEvent)
    response = _upload(client, _version_2(FOUR_MISTAKES))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    table = html[html.index('class="panel problems"'):]
    found_rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td><code>([^<]*)</code></td>"
                            r"<td>([^<]*)</td></tr>", table)
    assert len(found_rows) == len(EXPECTED_PROBLEMS)
    for (line, path, words), (row_line, row_path, row_message) in zip(
            EXPECTED_PROBLEMS, found_rows, strict=True):
        assert (int(row_line), row_path) == (line, path)
        assert words in row_message
    assert count(app, QuestionnaireVersion) == versions
    assert count(app, AuditEvent) == events


def test_a_changed_file_under_an_existing_version_is_refused(app, world):
    client = signed_in_client(app, "coordinator")
    changed = BILINGUAL_YAML.replace("All partners are heard.", "Every partner is heard.")
    response = _upload(client, changed)
    assert response.status_code == 409
    assert "already imported with different content" in response.get_data(as_text=True)
    assert count(app, QuestionnaireVersion) == 1


def test_the_same_file_again_changes_nothing(app, world):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, BILINGUAL_YAML)
    assert response.status_code == 302
    assert count(app, QuestionnaireVersion) == 1
    assert audit_actions(app, action="questionnaire.import") == []


@pytest.mark.parametrize(("content", "filename", "status"), [
    (BILINGUAL_YAML, "kuesioner.txt", 400),
    (b"", "kosong.yaml", 400),
    (b"# " + b"x" * (256 * 1024 + 10), "besar.yaml", 413),
], ids=["wrong-type", "empty", "too-large"])
def test_files_we_do_not_read_are_refused(app, world, content, filename, status):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, content, filename)
    assert response.status_code == status
    assert count(app, QuestionnaireVersion) == 1


@pytest.mark.parametrize("name", ["alias-bomb.yaml", "python-tag.yaml", "syntax-error.yaml"])
def test_hostile_or_broken_files_store_nothing(app, world, name):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, (DATA / name).read_bytes(), name)
    assert response.status_code == 422
    assert 'class="panel problems"' in response.get_data(as_text=True)
    assert count(app, QuestionnaireVersion) == 1


def test_invalid_utf8_is_reported(app, world):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, _version_2().encode("utf-8") + b"\xff\xfe")
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)


def test_the_file_name_is_only_a_label(app, world):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, _version_2(FOUR_MISTAKES), "../../etc/<b>x</b>.yaml")
    html = response.get_data(as_text=True)
    assert "<b>x</b>" not in html
    assert "../" not in html
    assert "b_.yaml was not imported" in html
