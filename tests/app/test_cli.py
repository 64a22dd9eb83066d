"""The command-line interface: questionnaires, users and the demo."""

from __future__ import annotations

import re
import shutil

from sqlalchemy import func, select

from app.auth.passwords import verify_password
from app.models import (
    Membership,
    Partnership,
    QuestionnaireVersion,
    Response,
    Role,
    Round,
    User,
)
from tests.factories import BUNDLED, ROOT

FIVE_MISTAKES = ROOT / "tests" / "data" / "questionnaires" / "five-mistakes.yaml"


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def test_validate_bundled_questionnaires(runner):
    result = runner.invoke(args=["questionnaire", "validate"])
    assert result.exit_code == 0, result.output
    assert "kemitraan-sehat.v1.yaml: ok" in result.output
    assert "pendampingan.v1.yaml: ok" in result.output


def test_validate_reports_all_five_mistakes_with_lines(runner):
    result = runner.invoke(args=["questionnaire", "validate", str(FIVE_MISTAKES)])
    assert result.exit_code != 0
    problem_lines = [line for line in result.output.splitlines()
                     if re.match(r"^five-mistakes\.yaml:\d+: ", line)]
    assert len(problem_lines) >= 5, result.output
    assert len({line.split(":")[1] for line in problem_lines}) >= 5, "five distinct lines"


def test_import_then_list(runner, db_session):
    result = runner.invoke(args=["questionnaire", "import"])
    assert result.exit_code == 0, result.output
    assert "kemitraan-sehat v1: imported" in result.output
    assert "kemitraan-sehat v2: imported" in result.output  # v1 plus meta-perceptions
    assert _count(db_session, QuestionnaireVersion) == 3

    again = runner.invoke(args=["questionnaire", "import"])
    assert again.exit_code == 0
    assert "already present, unchanged" in again.output
    assert _count(db_session, QuestionnaireVersion) == 3

    listed = runner.invoke(args=["questionnaire", "list"])
    assert "kemitraan-sehat\tv1" in listed.output
    assert "pendampingan\tv1" in listed.output


def test_import_refuses_changed_content_under_the_same_version(runner, db_session, tmp_path):
    assert runner.invoke(args=["questionnaire", "import"]).exit_code == 0
    changed = tmp_path / "kemitraan-sehat.v1.yaml"
    text = (BUNDLED / "kemitraan-sehat.v1.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("kesetaraan", "kesetaraan", 1) + "\n", encoding="utf-8")
    # Same content (only whitespace differs): accepted as unchanged.
    assert runner.invoke(args=["questionnaire", "import", str(changed)]).exit_code == 0
    original = db_session.scalar(select(QuestionnaireVersion.content_hash).where(
        QuestionnaireVersion.slug == "kemitraan-sehat"))

    edited = text.replace("        reverse: true", "        reverse: false", 1)
    assert edited != text
    changed.write_text(edited, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "import", str(changed)])
    assert result.exit_code != 0
    assert "different content" in result.output
    db_session.expire_all()
    stored = db_session.scalar(select(QuestionnaireVersion.content_hash).where(
        QuestionnaireVersion.slug == "kemitraan-sehat"))
    assert stored == original


def test_import_is_all_or_nothing(runner, db_session, tmp_path):
    good = tmp_path / "good.yaml"
    shutil.copy(BUNDLED / "pendampingan.v1.yaml", good)
    result = runner.invoke(args=["questionnaire", "import", str(good), str(FIVE_MISTAKES)])
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    assert _count(db_session, QuestionnaireVersion) == 0


def test_user_create_with_role(runner, db_session):
    partnership = Partnership(name="P", description="", min_group_size=5)
    db_session.add(partnership)
    db_session.commit()
    result = runner.invoke(args=["user", "create", "--email", "Ana@Example.org",
                                 "--role", "facilitator", "--partnership", str(partnership.id)])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    user = db_session.scalar(select(User).where(User.email == "ana@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, password)
    membership = db_session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role is Role.FACILITATOR


def test_user_create_refuses_weak_password_and_duplicates(runner, db_session):
    weak = runner.invoke(args=["user", "create", "--email", "a@b.org", "--password", "password1"])
    assert weak.exit_code != 0 and "password refused" in weak.output
    ok = runner.invoke(args=["user", "create", "--email", "a@b.org", "--password",
                             "a long enough passphrase"])
    assert ok.exit_code == 0
    dup = runner.invoke(args=["user", "create", "--email", "a@b.org", "--password",
                              "a long enough passphrase"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    assert _count(db_session, User) == 1


def test_user_create_role_needs_partnership(runner):
    result = runner.invoke(args=["user", "create", "--email", "x@y.org", "--role", "observer"])
    assert result.exit_code != 0
    assert "go together" in result.output


def test_demo_seed_creates_two_rounds_and_prints_logins(runner, db_session):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    logins = re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)$", result.output, flags=re.M)
    assert {role for role, _, _ in logins} == {"admin", "coordinator", "facilitator", "observer"}
    for _, email, password in logins:
        user = db_session.scalar(select(User).where(User.email == email))
        assert verify_password(user.password_hash, password)
    assert _count(db_session, Round) == 2
    responses = db_session.execute(
        select(Response.round_id, Response.partner_id, func.count()).group_by(
            Response.round_id, Response.partner_id)).all()
    assert len(responses) == 10  # five partners x two rounds
    assert sum(n for _, _, n in responses) > 80


def test_demo_seed_twice(runner, db_session):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    refused = runner.invoke(args=["demo", "seed"])
    assert refused.exit_code != 0 and "already exists" in refused.output
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "new passwords" in again.output
    email, password = re.findall(r"^\s+coordinator\s+(\S+)\s+(\S+)$", again.output, re.M)[0]
    user = db_session.scalar(select(User).where(User.email == email))
    assert verify_password(user.password_hash, password)
    assert _count(db_session, Partnership) == 1


def test_demo_answers_differ_between_partners_and_improve_between_rounds(runner, db_session):
    from analysis.scoring import dimension_scores
    from app.questionnaires import load_questionnaire
    from app.services.answers import answers_frame

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    rounds = list(db_session.scalars(select(Round).order_by(Round.opens_on)))
    questionnaire = load_questionnaire(BUNDLED / "kemitraan-sehat.v1.yaml")
    answers = answers_frame(db_session, [r.id for r in rounds])
    scores = dimension_scores(answers, questionnaire.items_frame())
    by_round = scores.groupby("round_id")["score"].mean()
    assert by_round[rounds[1].id] > by_round[rounds[0].id] + 0.15
    by_partner = scores.groupby("partner_id")["score"].mean()
    assert by_partner.max() - by_partner.min() > 0.5
