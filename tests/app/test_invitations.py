"""Invitations by email (issue 11): invite, mail or copy the link, accept, revoke, renew, expire."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import AuditEvent, Invitation, InvitationStatus, Membership, Role, User
from app.models._types import utcnow
from app.services import invitations as service
from app.services.audit_log import describe
from tests.app.staff_helpers import (
    EMAILS,
    World,
    app_with,
    audit_actions,
    build_world,
    db,
    fresh,
    rows,
    sign_in,
    signed_in_client,
)
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "Danau-Toba-Samosir-2024"
INVITED = "rina.wati@yayasan.example"


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


def _invite(client, world: World, email: str = INVITED, role: str = "facilitator",
            partner_id: str = "", partnership: int | None = None):
    return client.post(f"/partnerships/{partnership or world.partnership}/invitations/new",
                       data={"email": email, "role": role, "partner_id": partner_id})


def _link_from(html: str) -> str:
    match = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', html)
    assert match, "no invitation link on the page"
    return match.group(1).replace("&amp;", "&")


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _invitation(app: Flask, email: str = INVITED) -> Invitation:
    found = rows(app, select(Invitation).where(Invitation.email == email))
    assert len(found) == 1
    return found[0]


def _english(app: Flask):
    """A fresh browser that chose English (pages default to Indonesian)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def _accept_new(client, link: str, password: str = NEW_PASSWORD, name: str = "Rina Wati",
                language: str = "en"):
    return client.post("/invite", data={"token": _token(link), "name": name,
                                        "password": password, "confirm": password,
                                        "language": language})


# ------------------------------------------------------------------------------ copy the link


def test_coordinator_invites_and_sees_the_link_once_when_no_mail_server(app, world):
    coordinator = signed_in_client(app, "coordinator")
    response = _invite(coordinator, world, email="  Rina.Wati@Yayasan.example ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = _link_from(html)
    assert urlsplit(link).path == "/invite"  # the secret is in the query: never in a log line
    invitation = _invitation(app)
    assert invitation.email == INVITED
    assert invitation.role is Role.FACILITATOR
    assert invitation.token_hash == service.hash_token(_token(link))
    assert _token(link) not in invitation.token_hash
    assert invitation.mailed_at is None
    assert abs((invitation.expires_at - invitation.created_at) - timedelta(hours=72)) \
        < timedelta(seconds=5)
    assert audit_actions(app, partnership_id=world.partnership)[-1] == "invitation.create"
    members = coordinator.get(f"/admin/partnerships/{world.partnership}/members")
    page = members.get_data(as_text=True)
    assert INVITED in page
    assert "Waiting to be accepted" in page
    assert _token(link) not in page  # shown once, never again


def test_accepting_creates_the_account_with_the_role_and_signs_in(app, world):
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world, role="observer",
                              partner_id=str(world.partners[2])).get_data(as_text=True))
    visitor = _english(app)
    page = visitor.get(_path(link))
    assert page.status_code == 200
    assert 'name="password"' in page.get_data(as_text=True)

    weak = _accept_new(visitor, link, password="short")
    assert weak.status_code == 400
    assert "at least 10 characters" in weak.get_data(as_text=True)
    assert rows(app, select(User).where(User.email == INVITED)) == []

    done = _accept_new(visitor, link)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/results/partnerships/{world.partnership}")
    user = rows(app, select(User).where(User.email == INVITED))[0]
    assert user.name == "Rina Wati" and user.language == "en" and not user.is_admin
    membership = rows(app, select(Membership).where(Membership.user_id == user.id))[0]
    assert (membership.partnership_id, membership.role, membership.partner_id) == \
        (world.partnership, Role.OBSERVER, world.partners[2])
    assert visitor.get(f"/results/partnerships/{world.partnership}").status_code == 200
    invitation = _invitation(app)
    assert invitation.accepted_by_id == user.id
    assert invitation.status(utcnow()) is InvitationStatus.ACCEPTED
    assert "invitation.accept" in audit_actions(app, partnership_id=world.partnership)

    again = app.test_client().get(_path(link))
    assert again.status_code == 410  # single use
    assert sign_in(app.test_client(), INVITED, NEW_PASSWORD).status_code == 302


def test_the_password_must_be_typed_twice_the_same(app, world):
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world).get_data(as_text=True))
    response = app.test_client().post("/invite", data={
        "token": _token(link), "name": "Rina", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD + "x", "language": "id"})
    assert response.status_code == 400
    assert rows(app, select(User).where(User.email == INVITED)) == []


def test_an_expired_link_is_refused_and_a_new_link_works(app, world):
    coordinator = signed_in_client(app, "coordinator")
    old = _link_from(_invite(coordinator, world).get_data(as_text=True))
    with db(app) as session:
        invitation = session.scalar(select(Invitation))
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        invitation_id = invitation.id
    expired = _english(app).get(_path(old))
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    members = coordinator.get(f"/admin/partnerships/{world.partnership}/members")
    assert 'data-status="expired"' in members.get_data(as_text=True)

    renewed = coordinator.post(
        f"/partnerships/{world.partnership}/invitations/{invitation_id}/renew")
    assert renewed.status_code == 200
    new = _link_from(renewed.get_data(as_text=True))
    assert new != old
    assert app.test_client().get(_path(old)).status_code == 404  # the old token is gone
    assert app.test_client().get(_path(new)).status_code == 200
    assert "invitation.renew" in audit_actions(app, partnership_id=world.partnership)


def test_a_revoked_link_no_longer_works(app, world):
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world).get_data(as_text=True))
    invitation = _invitation(app)
    response = coordinator.post(
        f"/partnerships/{world.partnership}/invitations/{invitation.id}/revoke")
    assert response.status_code == 302
    refused = _english(app).get(_path(link))
    assert refused.status_code == 410
    assert "revoked" in refused.get_data(as_text=True)
    assert _accept_new(app.test_client(), link).status_code == 410
    assert rows(app, select(User).where(User.email == INVITED)) == []
    assert fresh(app, Invitation, invitation.id).revoked_at is not None
    assert "invitation.revoke" in audit_actions(app, partnership_id=world.partnership)
    again = coordinator.post(
        f"/partnerships/{world.partnership}/invitations/{invitation.id}/revoke")
    assert again.status_code == 302  # told it cannot be revoked twice, nothing breaks


def test_unknown_and_missing_tokens_get_a_clear_page(app, world):
    assert app.test_client().get("/invite").status_code == 404
    assert app.test_client().get("/invite?token=" + "x" * 43).status_code == 404
    assert app.test_client().get("/invite?token=" + "x" * 5000).status_code == 404
    assert app.test_client().post("/invite", data={"token": "nope"}).status_code == 404


# ------------------------------------------------------------------------------ existing accounts


def test_an_existing_account_signs_in_then_accepts(app, world):
    with db(app) as session:
        make_user(session, INVITED, language="en")
        session.commit()
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world, role="coordinator").get_data(as_text=True))

    visitor = _english(app)
    page = visitor.get(_path(link)).get_data(as_text=True)
    assert "There is already an account" in page
    assert 'name="password"' not in page
    assert _accept_new(visitor, link).status_code == 200  # no second account, same page
    assert len(rows(app, select(User).where(User.email == INVITED))) == 1

    login = re.search(r'href="(/login\?next=[^"]+)"', page)
    assert login is not None
    signed = visitor.post(login.group(1).replace("&amp;", "&"),
                          data={"email": INVITED, "password": DEFAULT_PASSWORD,
                                "next": "/invite?token=" + _token(link)})
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/invite?token=" + _token(link)
    join = visitor.get(signed.headers["Location"])
    assert "Accept and join" in join.get_data(as_text=True)
    accepted = visitor.post("/invite", data={"token": _token(link)})
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/admin/partnerships/{world.partnership}")
    user = rows(app, select(User).where(User.email == INVITED))[0]
    membership = rows(app, select(Membership).where(Membership.user_id == user.id))[0]
    assert membership.role is Role.COORDINATOR
    event = rows(app, select(AuditEvent).where(AuditEvent.action == "invitation.accept"))[0]
    assert event.details["new_account"] is False


def test_someone_signed_in_as_another_account_cannot_accept(app, world):
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world).get_data(as_text=True))
    plain = signed_in_client(app, "plain")
    page = plain.get(_path(link))
    assert page.status_code == 200
    assert EMAILS["plain"] in page.get_data(as_text=True)
    refused = plain.post("/invite", data={"token": _token(link)})
    assert refused.status_code == 409
    assert rows(app, select(Membership).where(Membership.user_id == world.plain)) == []
    assert _invitation(app).accepted_at is None


# ------------------------------------------------------------------------------ who may invite


def test_only_coordinators_of_the_partnership_and_admins_may_invite(app, world):
    assert _invite(signed_in_client(app, "facilitator"), world).status_code == 403
    assert _invite(signed_in_client(app, "outsider"), world).status_code == 404
    assert _invite(signed_in_client(app, "admin"), world).status_code == 200
    with db(app) as session, app.test_request_context():
        from app.models import Partnership

        facilitator = session.get(User, world.facilitator)
        with pytest.raises(service.InvitationError):
            service.invite(session, facilitator, session.get(Partnership, world.partnership),
                           email="x@example.org", role=Role.OBSERVER)


def test_no_one_is_invited_as_administrator(app, world):
    coordinator = signed_in_client(app, "coordinator")
    response = _invite(coordinator, world, role="admin")
    assert response.status_code == 400
    assert rows(app, select(Invitation)) == []
    with db(app) as session, app.test_request_context():
        from app.models import Partnership

        actor = session.get(User, world.admin)
        with pytest.raises(service.InvitationError):
            service.invite(session, actor, session.get(Partnership, world.partnership),
                           email="x@example.org", role="admin")


@pytest.mark.parametrize(("email", "role", "partner", "message"), [
    ("not-an-address", "facilitator", None, "valid email address"),
    ("a@example.org, b@example.org", "facilitator", None, "valid email address"),
    ("a@example.org\r\nBcc: b@example.org", "facilitator", None, "valid email address"),
    (EMAILS["facilitator"], "observer", None, "already has a role"),
    ("c@example.org", "observer", "other", "partner of this partnership"),
])
def test_bad_invitations_are_refused_with_a_reason(app, world, email, role, partner, message):
    coordinator = signed_in_client(app, "coordinator")
    partner_id = ""
    if partner == "other":
        partner_id = str(world.other_partners[0])
    response = _invite(coordinator, world, email=email, role=role, partner_id=partner_id)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text or "Not a valid choice" in text
    assert rows(app, select(Invitation)) == []


def test_a_second_open_invitation_to_the_same_address_is_refused(app, world):
    coordinator = signed_in_client(app, "coordinator")
    assert _invite(coordinator, world).status_code == 200
    again = _invite(coordinator, world, email=INVITED.upper())
    assert again.status_code == 400
    assert "has not been used yet" in again.get_data(as_text=True)
    assert len(rows(app, select(Invitation))) == 1


def test_a_partner_is_kept_for_observers_only(app, world):
    coordinator = signed_in_client(app, "coordinator")
    _invite(coordinator, world, role="facilitator", partner_id=str(world.partners[0]))
    assert _invitation(app).partner_id is None


def test_sending_is_rate_limited_per_person(app_config, world):
    limited = app_with(app_config, RATELIMIT_ENABLED=True, INVITATION_RATE_LIMIT="2 per hour")
    coordinator = signed_in_client(limited, "coordinator")
    assert _invite(coordinator, world, email="a@example.org").status_code == 200
    assert _invite(coordinator, world, email="b@example.org").status_code == 200
    third = _invite(coordinator, world, email="c@example.org")
    assert third.status_code == 429
    assert "many invitations" in third.get_data(as_text=True)
    assert len(rows(limited, select(Invitation))) == 2
    # someone else's budget is their own
    assert _invite(signed_in_client(limited, "admin"), world,
                   email="c@example.org").status_code == 200


def test_two_factor_required_sends_an_invited_coordinator_to_enrolment(app_config, world):
    strict = app_with(app_config, TWO_FACTOR_REQUIRED=True)
    with db(strict) as session:
        from app.auth import two_factor as tf

        admin = session.get(User, world.admin)
        admin.totp_enabled_at = utcnow()
        with strict.app_context():
            admin.totp_secret = tf.encrypt_secret(tf.new_secret())
        session.commit()
    with db(strict) as session, strict.test_request_context():
        from app.models import Partnership

        _, plain = service.invite(session, session.get(User, world.admin),
                                  session.get(Partnership, world.partnership),
                                  email=INVITED, role=Role.COORDINATOR)
        session.commit()
    visitor = strict.test_client()
    response = _accept_new(visitor, f"http://localhost/invite?token={plain}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/two-factor/setup")
    assert visitor.get(f"/admin/partnerships/{world.partnership}").status_code == 302


def test_invitation_events_have_labels_in_the_audit_log(app, world):
    coordinator = signed_in_client(app, "coordinator")
    link = _link_from(_invite(coordinator, world).get_data(as_text=True))
    _accept_new(app.test_client(), link)
    from flask_babel import force_locale

    with db(app) as session, app.test_request_context(), force_locale("en"):
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("invitation.%"))).all()
        described = [describe(event, None) for event in events]
    assert [entry.action for entry in described] == ["Invitation sent", "Invitation accepted"]
    assert all(not label.startswith(("email", "new_account", "expires_at"))
               for entry in described for label, _ in entry.details)


# ------------------------------------------------------------------------------ mail


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greet, EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        server: FakeSMTP = self.server  # type: ignore[assignment]
        self._send("220 fake.example ESMTP")
        envelope: dict = {"rcpt": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self._send("250 fake.example")
            elif verb == "MAIL":
                envelope["from"] = command
                self._send("250 OK")
            elif verb == "RCPT":
                if server.refuse:
                    self._send("550 No such user here")
                    continue
                envelope["rcpt"].append(command)
                self._send("250 OK")
            elif verb == "DATA":
                self._send("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (chunk := self.rfile.readline()) not in {b".\r\n", b""}:
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                server.messages.append((envelope, message_from_bytes(data,
                                                                     policy=policy.default)))
                envelope = {"rcpt": []}
                self._send("250 OK queued")
            elif verb == "QUIT":
                self._send("221 Bye")
                return
            else:
                self._send("250 OK")

    def _send(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")


class FakeSMTP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list = []
        self.refuse = False


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _mail_app(app_config, smtp: FakeSMTP, **extra) -> Flask:
    return app_with(app_config, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.server_address[1],
                    MAIL_USE_TLS=False, MAIL_FROM="Mitra Sehat <noreply@mitra.example>",
                    **extra)


def test_with_a_mail_server_the_link_is_mailed_in_both_languages_and_not_shown(
        app_config, world, smtp):
    mailing = _mail_app(app_config, smtp)
    coordinator = signed_in_client(mailing, "coordinator")
    response = _invite(coordinator, world, role="observer", partner_id=str(world.partners[1]))
    assert response.status_code == 302
    members = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "has been sent to " + INVITED in members
    assert "sent by email" in members
    assert 'id="invitation-link"' not in members
    assert len(smtp.messages) == 1
    envelope, message = smtp.messages[0]
    assert INVITED in envelope["rcpt"][0]
    assert "noreply@mitra.example" in envelope["from"]
    assert message["To"] == INVITED
    subject_id, subject_en = message["Subject"].split(" / ")
    assert "Kemitraan A" in subject_id and subject_en == "Invitation to Kemitraan A on Mitra Sehat"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    indonesian, english = body.split("-" * 60)
    # Indonesian first (role and date in Indonesian), then English
    assert "Pengamat" in indonesian and "Observer" not in indonesian
    assert "Observer" in english and "Yayasan Sehat" in english
    assert "To accept, open this link:" in english
    links = re.findall(r"http://localhost/invite\?token=[\w-]+", body)
    assert len(links) == 2 and links[0] == links[1]
    link = links[0]
    assert service.hash_token(_token(link)) == _invitation(mailing).token_hash
    assert _invitation(mailing).mailed_at is not None
    visitor = mailing.test_client()
    assert _accept_new(visitor, link).status_code == 302


def test_a_mail_the_server_refuses_saves_nothing(app_config, world, smtp):
    smtp.refuse = True
    mailing = _mail_app(app_config, smtp)
    coordinator = signed_in_client(mailing, "coordinator")
    response = _invite(coordinator, world)
    assert response.status_code == 302
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not be sent" in page
    assert rows(mailing, select(Invitation)) == []
    assert "invitation.create" not in audit_actions(mailing)


def test_tls_and_login_are_used_when_configured(app_config, world, monkeypatch):
    calls: list = []

    class RecordingSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port, timeout))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context):
            calls.append(("starttls", context.check_hostname))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, message):
            calls.append(("send", message["To"]))

    import app.mail as mail

    monkeypatch.setattr(mail.smtplib, "SMTP", RecordingSMTP)
    mailing = app_with(app_config, MAIL_SERVER="smtp.mitra.example", MAIL_PORT=2525,
                       MAIL_USE_TLS=True, MAIL_USERNAME="mitra", MAIL_PASSWORD="rahasia",
                       MAIL_FROM="noreply@mitra.example", MAIL_TIMEOUT=7)
    response = _invite(signed_in_client(mailing, "coordinator"), world)
    assert response.status_code == 302
    assert calls == [("connect", "smtp.mitra.example", 2525, 7.0), ("starttls", True),
                     ("login", "mitra", "rahasia"), ("send", INVITED)]


@pytest.mark.parametrize(("settings", "message"), [
    ({"MAIL_SERVER": "smtp.example.org"}, "MITRA_MAIL_FROM is not"),
    ({"MAIL_FROM": "noreply@example.org"}, "MITRA_MAIL_SERVER is not"),
    ({"MAIL_SERVER": "s.example", "MAIL_FROM": "not an address"}, "must be an email address"),
    ({"MAIL_SERVER": "s.example", "MAIL_FROM": "a@example.org", "MAIL_USERNAME": "u"},
     "go together"),
    ({"MAIL_SERVER": "s.example", "MAIL_FROM": "a@example.org", "MAIL_PORT": 70000},
     "port number"),
    ({"INVITATION_TTL_HOURS": 0}, "INVITATION_TTL_HOURS"),
])
def test_inconsistent_mail_settings_are_refused_at_start(app_config, settings, message):
    from app import create_app

    with pytest.raises(ValueError, match=message):
        create_app({**app_config, **settings})


def test_mail_settings_come_from_the_environment(app_config, monkeypatch):
    from app import create_app

    monkeypatch.setenv("MITRA_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MITRA_MAIL_PORT", "465")
    monkeypatch.setenv("MITRA_MAIL_USE_TLS", "false")
    monkeypatch.setenv("MITRA_MAIL_FROM", "noreply@example.org")
    monkeypatch.setenv("MITRA_INVITATION_TTL_HOURS", "24")
    application = create_app(app_config)
    from app.mail import mail_settings

    settings = mail_settings(application.config)
    assert settings is not None
    assert (settings.server, settings.port, settings.use_tls, settings.sender) == \
        ("smtp.example.org", 465, False, "noreply@example.org")
    assert application.config["INVITATION_TTL_HOURS"] == 24


def test_the_ttl_setting_is_honoured(app_config, world):
    short = app_with(app_config, INVITATION_TTL_HOURS=1)
    _invite(signed_in_client(short, "coordinator"), world)
    invitation = _invitation(short)
    assert abs((invitation.expires_at - invitation.created_at) - timedelta(hours=1)) \
        < timedelta(seconds=5)
