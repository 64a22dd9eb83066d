"""The deployment in miniature: Chromium -> nginx with TLS -> gunicorn -> the app.

nginx runs ``deploy/nginx.conf`` itself (only ports, paths and the host name replaced) with a
certificate made here, in front of gunicorn started with the real ``gunicorn.conf.py`` and the
app in production mode behind one trusted proxy (``MITRA_TRUSTED_PROXY_HOPS=1``) on a SQLite
file. A facilitator signs in and out, and a respondent opens a scanned code link, answers every
page and submits, all through HTTPS. Before the proxy settings existed, every form post here
was refused (400: the strict CSRF referrer check over HTTPS met ``Referrer-Policy:
no-referrer``), and HSTS was never sent.

It also checks what an operator's logs keep: nothing of respondents' routes, and no client
address or time of day anywhere.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from app.config import Config
from app.models import AccessCode, OpenAnswer, Response, Role, RoundStatus
from app.services.access_codes import issue_codes
from tests.app.respond_helpers import writing
from tests.app.staff_helpers import csrf_from, import_test_questionnaire
from tests.e2e.e2e_helpers import (
    LAPTOP,
    PHONE,
    enter_code,
    navigate_by,
    path_of,
    press_button,
    sign_in,
    submit,
)
from tests.factories import add_member, make_partnership, make_round, make_user

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx.conf"
HOST = "localhost"  # a name, so that Chromium sends it in SNI as a real visitor would
SECRET_KEY = "deploy-test-session-key-" + "s" * 40
ACCESS_CODE_KEY = "deploy-test-access-code-key-" + "c" * 40
FACILITATOR = ("fasilitator@kupang.example", "Teluk-Kupang-Senja-2025")
OPEN_TEXT = "Kunjungan lapangan bersama setiap bulan."
STARTUP_SECONDS = 90


# ----------------------------------------------------------------------------- the data


@dataclass
class Arranged:
    round_id: int
    codes: list[str]


def arrange_database(url: str) -> Arranged:
    """A SQLite file with an open round, two codes for one partner and a facilitator."""
    from app import create_app
    from app.db import Base

    app = create_app({
        "TESTING": True, "ENV_NAME": "testing", "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY, "ACCESS_CODE_KEY": ACCESS_CODE_KEY,
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
    })
    engine = app.extensions["mitra.engine"]
    Base.metadata.create_all(engine)
    with writing(app) as session:
        version = import_test_questionnaire(session)
        partnership = make_partnership(session, "Kemitraan Gizi Kota Kupang", k=3)
        round_ = make_round(session, partnership, status=RoundStatus.OPEN, version=version)
        round_.opens_on, round_.closes_on = date(2020, 1, 1), date(2099, 12, 31)
        facilitator = make_user(session, FACILITATOR[0], password=FACILITATOR[1],
                                language="en")
        add_member(session, facilitator, partnership, Role.FACILITATOR)
        codes = issue_codes(session, round_.id, partnership.partners[0].id, 2)
        session.flush()
        arranged = Arranged(round_.id, codes)
    engine.dispose()
    return arranged


def stored(url: str, round_id: int) -> tuple[int, list[int], int]:
    """Responses of the round, the uses of its codes, and its open answers."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            responses = session.scalar(select(func.count()).select_from(Response)
                                       .where(Response.round_id == round_id))
            uses = list(session.scalars(select(AccessCode.uses)
                                        .where(AccessCode.round_id == round_id)
                                        .order_by(AccessCode.id)))
            open_answers = session.scalar(select(func.count()).select_from(OpenAnswer)
                                          .where(OpenAnswer.round_id == round_id))
    finally:
        engine.dispose()
    return responses, uses, open_answers


# ----------------------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(openssl: str, directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, valid for two days."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@dataclass
class Ports:
    app: int
    https: int
    http: int


def render_site(ports: Ports, cert: Path, key: Path, logs: Path) -> str:
    """deploy/nginx.conf with this machine's ports and paths; everything else as shipped."""
    text = SITE.read_text(encoding="utf-8")
    replacements = [
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl default_server;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{ports.http};"),
        ("listen 443 ssl default_server;", f"listen 127.0.0.1:{ports.https} ssl default_server;"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports.https} ssl http2;"),
        ("server_name mitra.example.org;", f"server_name {HOST};"),
        ("/etc/letsencrypt/live/mitra.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/mitra.example.org/privkey.pem", str(key)),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{ports.app};"),
        ("/srv/mitra-sehat/app/static/", f"{ROOT / 'app' / 'static'}/"),
        ("/var/log/nginx/mitra-sehat.access.log", str(logs / "access.log")),
        ("/var/log/nginx/mitra-sehat.error.log", str(logs / "error.log")),
    ]
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"deploy/nginx.conf no longer contains {old!r}: update this test")
        text = text.replace(old, new)
    return text


def main_config(directory: Path, site: Path, logs: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf provides around a site file, in ``directory``.

    Like Debian's, it logs every request in the "combined" format at the http level (client
    address, time, user agent): the site must override that everywhere.
    """
    mime = Path("/etc/nginx/mime.types")
    types = (f"include {mime};" if mime.exists() else
             "types { text/html html; text/css css; image/svg+xml svg; "
             "application/javascript js; }")
    # A master running as root would hand workers to "nobody", who cannot write to pytest's
    # private temporary directories.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""
daemon off;
master_process on;
worker_processes 1;
{user}
pid {directory / "nginx.pid"};
error_log {logs / "main-error.log"} warn;
events {{ worker_connections 128; }}
http {{
    {types}
    default_type application/octet-stream;
    sendfile on;
    gzip on;
    access_log {logs / "debian-default.log"} combined;
{temp}
    include {site};
}}
"""


class Process:
    """A server started for this test, stopped (by its own pid) at the end."""

    def __init__(self, args: list[str], log: Path, **kwargs) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT,
                                      **kwargs)

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def check_running(self, name: str) -> None:
        if self.popen.poll() is not None:
            raise AssertionError(f"{name} exited with {self.popen.returncode}:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._out.close()


def wait_until(ready, process: Process, name: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        process.check_running(name)
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{name} did not start in {STARTUP_SECONDS} s:\n{process.output()}")


def plain_get(port: int, path: str, host: str = HOST) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def tls_get(port: int, path: str) -> http.client.HTTPResponse:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    # server_hostname for SNI comes from the host given to HTTPSConnection: set it explicitly.
    connection.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                                          server_hostname=HOST)
    connection.request("GET", path, headers={"Host": f"{HOST}:{port}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def gunicorn_args(port: int, directory: Path) -> list[str]:
    args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}"]
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        # Newer gunicorn opens a control socket under ~/.gunicorn, shared by every instance.
        args += ["--control-socket", str(directory / "gunicorn.ctl")]
    return [*args, "wsgi:app"]


def app_environment(database_url: str) -> dict[str, str]:
    """The environment of a production app behind one nginx; nothing inherited from MITRA_*."""
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith("MITRA_") and name != "FORWARDED_ALLOW_IPS"}
    environ.update({
        "MITRA_ENV_NAME": "production",
        "MITRA_SECRET_KEY": SECRET_KEY,
        "MITRA_ACCESS_CODE_KEY": ACCESS_CODE_KEY,
        "MITRA_DATABASE_URL": database_url,
        "MITRA_TRUSTED_PROXY_HOPS": "1",
        "PYTHONUNBUFFERED": "1",
    })
    if isinstance(getattr(Config, "TWO_FACTOR_REQUIRED", None), bool):
        # Two-factor sign-in has its own tests; the facilitator here does not need it anyway.
        environ["MITRA_TWO_FACTOR_REQUIRED"] = "false"
    return environ


@dataclass
class Deployment:
    base: str
    ports: Ports
    database_url: str
    arranged: Arranged
    logs: Path
    gunicorn: Process
    nginx: Process


@pytest.fixture
def deployment(tmp_path, nginx_program, openssl_program) -> Iterator[Deployment]:
    logs = tmp_path / "logs"
    logs.mkdir()
    database_url = f"sqlite:///{tmp_path / 'mitra.db'}"
    arranged = arrange_database(database_url)
    ports = Ports(free_port(), free_port(), free_port())
    cert, key = make_certificate(openssl_program, tmp_path)
    site = tmp_path / "mitra-sehat.conf"
    site.write_text(render_site(ports, cert, key, logs), encoding="utf-8")
    config = tmp_path / "nginx.conf"
    config.write_text(main_config(tmp_path, site, logs), encoding="utf-8")
    nginx_command = [nginx_program, "-e", "stderr", "-p", str(tmp_path), "-c", str(config)]
    checked = subprocess.run([*nginx_command, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    gunicorn = Process(gunicorn_args(ports.app, tmp_path), logs / "gunicorn.log", cwd=ROOT,
                       env=app_environment(database_url))
    nginx = None
    try:
        wait_until(lambda: plain_get(ports.app, "/healthz", "127.0.0.1").status == 200,
                   gunicorn, "gunicorn")
        nginx = Process(nginx_command, logs / "nginx.out")
        wait_until(lambda: tls_get(ports.https, "/healthz").status == 200, nginx, "nginx")
        yield Deployment(f"https://{HOST}:{ports.https}", ports, database_url, arranged, logs,
                         gunicorn, nginx)
    finally:
        if nginx is not None:
            nginx.stop(signal.SIGQUIT)  # graceful: finishes writing its logs
        gunicorn.stop(signal.SIGINT)  # quick shutdown: nothing is left to finish


# ----------------------------------------------------------------------------- the visitors


def staff_context(browser: Browser) -> BrowserContext:
    """A laptop that accepts the test's self-signed certificate."""
    return browser.new_context(viewport=LAPTOP, ignore_https_errors=True)


def respondent_context(browser: Browser) -> BrowserContext:
    """A phone that accepts the test's self-signed certificate."""
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                               ignore_https_errors=True)


def staff_signs_in_and_out(browser: Browser, base: str) -> None:
    with staff_context(browser) as context:
        page = context.new_page()
        signed_in = sign_in(page, base, *FACILITATOR)
        assert signed_in.status == 200 and path_of(page) == "/", (
            f"sign-in through nginx ended at {page.url} with {signed_in.status}")
        expect(page.locator("form.signout-form")).to_have_count(1)
        headers = signed_in.all_headers()
        assert headers.get("strict-transport-security", "").startswith("max-age="), (
            "no HSTS over HTTPS")
        server = headers.get("server", "")
        assert "gunicorn" not in server.lower() and not re.search(r"\d", server), server
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert cookies["session"]["httpOnly"], cookies
        for cookie in cookies.values():
            assert cookie["secure"], cookie
        refused_cross_site_posts(context, base)
        signed_out = navigate_by(page, page.locator("form.signout-form button").click)
        assert signed_out.ok, signed_out.status
        expect(page.locator("form.signout-form")).to_have_count(0)


def refused_cross_site_posts(context: BrowserContext, base: str) -> None:
    """Posts with the visitor's cookie and a valid token: refused unless from this origin."""
    page = context.request.get(f"{base}/profile")
    assert page.ok, page.status
    form = {"csrf_token": csrf_from(page.text()), "name": "Fasilitator Kupang",
            "language": "en"}
    port = base.rsplit(":", 1)[1]
    for headers in ({"Referer": "https://evil.example/", "Origin": "https://evil.example"},
                    {"Referer": f"http://{HOST}:{port}/profile"},  # the site, but not over TLS
                    {}):
        answer = context.request.post(f"{base}/profile", form=form, headers=headers,
                                      max_redirects=0)
        assert answer.status == 400, (headers, answer.status)
    same_site = context.request.post(f"{base}/profile", form=form, max_redirects=0,
                                     headers={"Referer": f"{base}/profile"})
    assert same_site.status == 302, same_site.status
    options = context.request.fetch(f"{base}/api/v1/partnerships", method="OPTIONS")
    assert options.headers.get("allow") == "GET, HEAD, OPTIONS", options.headers


def answer_every_page(page: Page) -> None:
    """Choose the third option of every question and fill every text box, page by page."""
    for _ in range(20):
        if path_of(page) == "/r/review":
            return
        assert path_of(page).startswith("/r/page/"), page.url
        for name in sorted({radio.get_attribute("name") for radio in
                            page.locator("main form input[type=radio]").all()}):
            page.locator(f"main form input[type=radio][name='{name}'][value='3']").check()
        for box in page.locator("main form textarea").all():
            box.fill(OPEN_TEXT)
        press_button(page, "next")
    raise AssertionError(f"never reached the review page, stuck at {page.url}")


def respondent_answers(browser: Browser, base: str, code: str) -> None:
    """A scanned code link on a phone, every page answered, submitted."""
    with respondent_context(browser) as context:
        page = context.new_page()
        opened = page.goto(f"{base}/r/{code}")
        assert opened is not None and opened.ok, opened and opened.status
        assert path_of(page) == "/r/language", page.url
        submit(page)
        assert path_of(page) == "/r/about", page.url
        navigate_by(page, page.locator('main a[href="/r/page/1"]').first.click)
        answer_every_page(page)
        expect(page.locator(".answers dd.missing")).to_have_count(0)
        done = submit(page, page.locator("main form.submit-form button[type=submit]"))
        assert done.ok and path_of(page) == "/r/thanks", (done.status, page.url)


def second_code_typed(browser: Browser, base: str, code: str) -> None:
    """The other code typed on the front page: code entry posts through HTTPS too."""
    with respondent_context(browser) as context:
        page = context.new_page()
        page.goto(f"{base}/")
        entered = enter_code(page, code)
        assert entered.ok and path_of(page) == "/r/language", (entered.status, page.url)


# ----------------------------------------------------------------------------- the test


def test_staff_and_a_respondent_through_nginx_with_tls(browser, deployment):
    base, ports = deployment.base, deployment.ports
    codes = deployment.arranged.codes

    staff_signs_in_and_out(browser, base)
    respondent_answers(browser, base, codes[0])
    second_code_typed(browser, base, codes[1])
    responses, uses, open_answers = stored(deployment.database_url, deployment.arranged.round_id)
    assert (responses, sorted(uses), open_answers) == (1, [0, 1], 1)

    # Plain HTTP only redirects to HTTPS; gunicorn itself names no server.
    redirected = plain_get(ports.http, f"/r/{codes[1]}")
    assert redirected.status == 301
    assert (redirected.getheader("Location") or "").startswith(f"https://{HOST}/r/")
    direct = plain_get(ports.app, "/healthz", "127.0.0.1")
    assert direct.getheader("Server") is None, direct.getheader("Server")
    # Over plain HTTP, with no proxy in between, the app sends no HSTS.
    assert direct.getheader("Strict-Transport-Security") is None

    deployment.nginx.stop(signal.SIGQUIT)
    logs = deployment.logs
    access = (logs / "access.log").read_text(encoding="utf-8")
    assert '"POST /login" 302' in access, access
    assert '"GET /healthz" 200' in access, access
    everything = {name: (logs / name).read_text(encoding="utf-8", errors="replace")
                  for name in ("access.log", "error.log", "main-error.log",
                               "debian-default.log")}
    assert everything["debian-default.log"] == "", "a request fell through to the http-level log"
    for name, text in everything.items():
        for code in codes:
            assert code not in text, f"a respondent's code is in nginx's {name}"
        assert not re.search(r"\"[A-Z]+ /[rl](/|\")", text), f"a respondent route in {name}"
        assert "127.0.0.1" not in text, f"a client address in {name}"
    assert not re.search(r"\d{1,2}:\d{2}:\d{2}", access), "a time of day in the access log"
    gunicorn_log = deployment.gunicorn.output()
    for code in codes:
        assert code not in gunicorn_log
    assert not re.search(r"\"[A-Z]+ /[rl](/|\")", gunicorn_log), gunicorn_log

