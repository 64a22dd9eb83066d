"""TOTP two-factor sign-in: enrolment, the second step, recovery codes, required mode, reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from app.auth import two_factor as tf
from app.models import Membership, RecoveryCode, Role, User
from tests.app.staff_helpers import (
    app_with,
    audit_actions,
    csrf_from,
    db,
    fresh,
    rows,
    sign_in,
)
from tests.factories import DEFAULT_PASSWORD, make_partnership, make_user

EMAIL = "dua-langkah@example.org"
ADMIN = "admin-2fa@example.org"


@pytest.fixture
def staff(app) -> int:
    with db(app) as session:
        user = make_user(session, EMAIL, language="en")
        make_user(session, ADMIN, is_admin=True, language="en")
        session.commit()
        return user.id


def _secret_from(html: str) -> str:
    match = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', html)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def _codes_from(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", html)


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def _enrol_through_profile(client) -> tuple[str, list[str]]:
    page = client.get("/profile/two-factor")
    assert page.status_code == 200
    secret = _secret_from(page.get_data(as_text=True))
    done = client.post("/profile/two-factor", data={"code": _code(secret)})
    assert done.status_code == 200
    return secret, _codes_from(done.get_data(as_text=True))


def _enrolled(app, email: str = EMAIL) -> str:
    """Turn 2FA on for ``email`` directly; no step used yet, so the current code works."""
    secret = tf.new_secret()
    with app.test_request_context(), db(app) as session:
        user = session.scalar(select(User).where(User.email == email))
        tf.enrol(session, user, secret, _code(secret))
        user.totp_last_step = None
        session.commit()
    return secret


def test_enrolment_shows_a_qr_code_and_stores_the_secret_encrypted(app, client, staff):
    sign_in(client, EMAIL)
    page = client.get("/profile/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = _secret_from(page)
    # The same secret is offered until it is confirmed (it waits in the session, encrypted).
    assert _secret_from(client.get("/profile/two-factor").get_data(as_text=True)) == secret
    with client.session_transaction() as session:
        assert secret not in str(dict(session))

    wrong = client.post("/profile/two-factor", data={"code": "000000" if _code(secret) != "000000"
                                                     else "111111"})
    assert wrong.status_code == 400
    assert not fresh(app, User, staff).two_factor_enabled

    done = client.post("/profile/two-factor", data={"code": _code(secret)})
    assert done.status_code == 200
    codes = _codes_from(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    user = fresh(app, User, staff)
    assert user.two_factor_enabled
    assert secret not in user.totp_secret
    with app.app_context():
        assert tf.decrypt_secret(user.totp_secret) == secret
    stored = rows(app, select(RecoveryCode.code_hash).where(RecoveryCode.user_id == staff))
    assert len(stored) == 10
    assert not any(code in "".join(stored) or code.replace("-", "") in "".join(stored)
                   for code in codes)
    assert "user.two_factor_enable" in audit_actions(app, user_id=staff)
    # Enrolled: the page goes back to the profile, which now offers to turn it off.
    assert client.get("/profile/two-factor").status_code == 302
    assert "Turn off two-factor sign-in" in client.get("/profile").get_data(as_text=True)


def test_the_secret_cannot_be_read_under_another_key(app):
    with app.app_context():
        token = tf.encrypt_secret("JBSWY3DPEHPK3PXP")
    other = app_with({**app.config, "SECRET_KEY": "another-secret-key-" + "y" * 32})
    with other.app_context():
        assert tf.decrypt_secret(token) is None
        assert tf.decrypt_secret("not a token") is None


def test_sign_in_asks_for_the_code_and_the_half_signed_state_opens_nothing(app, client, staff):
    secret = _enrolled(app)
    first = client.post("/login", data={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                        "next": "/profile"})
    assert first.status_code == 302
    assert first.headers["Location"] == "/login/two-factor"
    for path in ("/profile", "/admin/partnerships", "/tokens"):
        response = client.get(path)
        assert response.status_code in {302, 404}, path
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login")
    assert client.post("/logout").status_code == 302  # not signed in: sent to sign in
    assert "user.sign_in" not in audit_actions(app, user_id=staff)

    done = client.post("/login/two-factor", data={"code": _code(secret)})
    assert done.status_code == 302
    assert done.headers["Location"] == "/profile"
    assert client.get("/profile").status_code == 200
    event = audit_actions(app, user_id=staff)
    assert event.count("user.sign_in") == 1


def _english(client) -> None:
    """Read the pages in English (the half-signed session keeps the choice)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_a_code_cannot_be_used_twice(app, staff):
    secret = _enrolled(app)
    code = _code(secret)
    first = app.test_client()
    sign_in(first, EMAIL)
    assert first.post("/login/two-factor", data={"code": code}).status_code == 302
    second = app.test_client()
    sign_in(second, EMAIL)
    _english(second)
    replay = second.post("/login/two-factor", data={"code": code})
    assert replay.status_code == 200
    assert "has been used already" in replay.get_data(as_text=True)
    assert second.get("/profile").status_code == 302
    assert "user.two_factor_failure" in audit_actions(app, user_id=staff)
    # The next time step's code is still accepted (clock drift of one step either side).
    assert second.post("/login/two-factor", data={"code": _code(secret, 1)}).status_code == 302


def test_a_recovery_code_works_once(app, client, staff):
    sign_in(client, EMAIL)
    _, codes = _enrol_through_profile(client)
    client.post("/logout")

    sign_in(client, EMAIL)
    used = client.post("/login/two-factor", data={"code": codes[3].upper()})
    assert used.status_code == 302
    assert client.get("/profile").status_code == 200
    assert "9 unused recovery codes left" in client.get("/profile").get_data(as_text=True)
    client.post("/logout")

    sign_in(client, EMAIL)
    again = client.post("/login/two-factor", data={"code": codes[3]})
    assert again.status_code == 200
    assert client.get("/profile").status_code == 302
    events = rows(app, select(User).where(User.id == staff))  # still enrolled
    assert events[0].two_factor_enabled


def test_the_second_step_expires(app, client, staff):
    secret = _enrolled(app)
    sign_in(client, EMAIL)
    with client.session_transaction() as session:
        pending = dict(session["two_factor_pending"])
        pending["at"] -= 10 * 60
        session["two_factor_pending"] = pending
        session["lang"] = "en"
    late = client.post("/login/two-factor", data={"code": _code(secret)})
    assert late.status_code == 400
    assert "not finished in time" in late.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


def test_the_second_step_without_a_password_is_a_sign_in_page(app, client, staff):
    page = client.get("/login/two-factor")
    assert page.status_code == 200
    assert 'name="password"' in page.get_data(as_text=True)
    assert client.post("/login/two-factor", data={"code": "123456"}).status_code == 400


def test_second_step_failures_are_throttled(app_config, staff):
    application = app_with(app_config, RATELIMIT_ENABLED=True)
    secret = _enrolled(application)
    client = application.test_client()
    sign_in(client, EMAIL)
    _english(client)
    wrong = "000000" if _code(secret) != "000000" else "111111"
    for _ in range(3):
        assert client.post("/login/two-factor", data={"code": wrong}).status_code == 200
    refused = client.post("/login/two-factor", data={"code": _code(secret)})
    assert refused.status_code == 429
    assert "Please wait" in refused.get_data(as_text=True)
    assert client.get("/profile").status_code == 302


@pytest.fixture
def required_app(app_config):
    application = app_with(app_config, TWO_FACTOR_REQUIRED=True)
    with db(application) as session:
        make_user(session, ADMIN, is_admin=True, language="en")
        coordinator = make_user(session, "koordinator-2fa@example.org", language="en")
        facilitator = make_user(session, "fasilitator-2fa@example.org", language="en")
        partnership = make_partnership(session, "Kemitraan 2FA")
        session.add_all([
            Membership(user_id=coordinator.id, partnership_id=partnership.id,
                       role=Role.COORDINATOR),
            Membership(user_id=facilitator.id, partnership_id=partnership.id,
                       role=Role.FACILITATOR)])
        session.commit()
    return application


@pytest.mark.parametrize("email", [ADMIN, "koordinator-2fa@example.org"])
def test_required_mode_sends_admins_and_coordinators_to_enrolment_first(required_app, email):
    client = required_app.test_client()
    response = sign_in(client, email)
    assert response.headers["Location"] == "/login/two-factor/setup"
    assert client.get("/profile").status_code == 302
    assert client.get("/").status_code in {200, 302}
    assert 'action="/logout"' not in client.get("/").get_data(as_text=True)
    page = client.get("/login/two-factor/setup")
    assert page.status_code == 200
    secret = _secret_from(page.get_data(as_text=True))
    done = client.post("/login/two-factor/setup", data={"code": _code(secret)})
    assert done.status_code == 200
    assert len(_codes_from(done.get_data(as_text=True))) == 10
    assert client.get("/profile").status_code == 200
    # From now on the code is asked for at every sign-in.
    again = required_app.test_client()
    assert sign_in(again, email).headers["Location"] == "/login/two-factor"


def test_required_mode_leaves_other_staff_alone(required_app):
    client = required_app.test_client()
    response = sign_in(client, "fasilitator-2fa@example.org")
    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200


def test_turning_off_needs_the_password_and_a_code(app, client, staff):
    sign_in(client, EMAIL)
    secret, _ = _enrol_through_profile(client)
    wrong_password = client.post("/profile/two-factor/disable", data={
        "off-password": "not my password at all", "off-code": _code(secret, 1)})
    assert wrong_password.status_code == 400
    wrong_code = client.post("/profile/two-factor/disable", data={
        "off-password": DEFAULT_PASSWORD, "off-code": "12345x"})
    assert wrong_code.status_code == 400
    assert fresh(app, User, staff).two_factor_enabled
    done = client.post("/profile/two-factor/disable", data={
        "off-password": DEFAULT_PASSWORD, "off-code": _code(secret, 1)})
    assert done.status_code == 302
    user = fresh(app, User, staff)
    assert not user.two_factor_enabled and user.totp_secret is None
    assert rows(app, select(RecoveryCode).where(RecoveryCode.user_id == staff)) == []
    assert "user.two_factor_disable" in audit_actions(app, user_id=staff)


def test_new_recovery_codes_replace_the_old_ones(app, client, staff):
    sign_in(client, EMAIL)
    secret, old = _enrol_through_profile(client)
    response = client.post("/profile/two-factor/recovery-codes",
                           data={"rc-code": _code(secret, 1)})
    assert response.status_code == 200
    new = _codes_from(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    sign_in(client, EMAIL)
    assert client.post("/login/two-factor", data={"code": old[0]}).status_code == 200
    assert client.post("/login/two-factor", data={"code": new[0]}).status_code == 302


def test_an_administrator_can_reset_another_users_two_factor(app, staff):
    secret = _enrolled(app)
    member = app.test_client()
    sign_in(member, EMAIL)
    assert member.post("/login/two-factor", data={"code": _code(secret)}).status_code == 302
    with db(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == ADMIN))
    epoch = fresh(app, User, staff).session_epoch

    not_admin = app.test_client()
    with db(app) as session:
        other = make_user(session, "biasa@example.org")
        session.commit()
        assert other.id
    sign_in(not_admin, "biasa@example.org")
    assert not_admin.post(f"/admin/users/{staff}/two-factor/reset").status_code == 403

    admin = app.test_client()
    sign_in(admin, ADMIN)
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{staff}/two-factor/reset"' in listing
    response = admin.post(f"/admin/users/{staff}/two-factor/reset")
    assert response.status_code == 302
    user = fresh(app, User, staff)
    assert not user.two_factor_enabled
    assert user.session_epoch == epoch + 1
    assert member.get("/profile").status_code == 302  # their signed-in browser is signed out
    assert "user.two_factor_reset" in audit_actions(app, user_id=admin_id)
    # Their own reset is refused: the profile page is the way, with password and code.
    assert admin.post(f"/admin/users/{admin_id}/two-factor/reset").status_code == 302
    assert "user.two_factor_reset" not in audit_actions(app, object_id=str(admin_id))
    assert admin.post("/admin/users/999999/two-factor/reset").status_code == 404
    # Signed in with the password alone again.
    assert sign_in(app.test_client(), EMAIL).headers["Location"] == "/"


def test_the_whole_flow_with_csrf_protection(app_config, staff):
    application = app_with(app_config, WTF_CSRF_ENABLED=True)
    secret = _enrolled(application)
    client = application.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    first = client.post("/login", data={"email": EMAIL, "password": DEFAULT_PASSWORD,
                                        "csrf_token": token})
    assert first.status_code == 302
    assert client.post("/login/two-factor", data={"code": _code(secret)}).status_code == 400
    token = csrf_from(client.get("/login/two-factor").get_data(as_text=True))
    assert client.post("/login/two-factor", data={"code": _code(secret),
                                                  "csrf_token": token}).status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    assert client.post("/profile/two-factor/disable", data={
        "off-password": DEFAULT_PASSWORD, "off-code": _code(secret, 1)}).status_code == 400
    token = csrf_from(page)
    assert client.post("/profile/two-factor/disable", data={
        "csrf_token": token, "off-password": DEFAULT_PASSWORD,
        "off-code": _code(secret, 1)}).status_code == 302


@pytest.mark.parametrize("code", ["", " ", "1" * 33, "abc\x00def", "١٢٣٤٥٦", "123 456 ",
                                  "aaaaa-bbbbb-ccccc"])
def test_odd_codes_never_give_a_server_error(app, client, staff, code):
    _enrolled(app)
    sign_in(client, EMAIL)
    response = client.post("/login/two-factor", data={"code": code})
    assert response.status_code in {200, 400}
    assert client.get("/profile").status_code == 302
