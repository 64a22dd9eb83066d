"""Two app servers behind nginx on one PostgreSQL and one Redis; one is killed mid-run.

nginx runs ``deploy/nginx.conf`` with TLS (as in test_deploy_tls.py) whose upstream block is
replaced by ``deploy/nginx-two-servers.conf`` pointing at two gunicorns (the repository's
``gunicorn.conf.py``, production mode, one trusted proxy) sharing a fresh PostgreSQL database, a
private ``redis-server`` on its own loopback port and one job-files folder; ``flask jobs
worker`` runs the background jobs. Then:

- the locust respondent flow of ``bench/load.py`` runs through nginx while server A gets
  ``kill -9`` (master and workers) part-way; the invariants hold: responses == used codes, every
  submit confirmed to a respondent is stored, no duplicates, no partial responses, no drafts
  left for used codes;
- server A comes back; server B draws (and caches) the open round's chart; a coordinator
  closes the round on server A, and server B then shows the round closed with its published
  results (the snapshot, computed by the worker), and serves the same chart bytes as server A
  (charts are cached in each worker and in the shared Redis, keyed by the results version).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import urllib3

from bench import _server
from bench.faults import PrivateRedis
from bench.load import Locust
from tests.e2e.test_deploy_tls import (
    HOST,
    Ports,
    app_environment,
    main_config,
    make_certificate,
    render_site,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://127.0.0.1:5432/postgres"
COORDINATOR = ("koordinator@dua.example", "Dua-Server-Satu-Data-2026")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CHART = re.compile(r'(/results/partnerships/\d+/rounds/\d+/charts/[\w-]+\.svg[^"]*)"')


def two_server_site(ports: Ports, app_ports: tuple[int, int], cert: Path, key: Path,
                    logs: Path) -> str:
    """deploy/nginx.conf with its upstream replaced by deploy/nginx-two-servers.conf."""
    site = render_site(ports, cert, key, logs)
    upstream = (ROOT / "deploy" / "nginx-two-servers.conf").read_text(encoding="utf-8")
    for old, new in (("10.0.0.11:8000", f"127.0.0.1:{app_ports[0]}"),
                     ("10.0.0.12:8000", f"127.0.0.1:{app_ports[1]}")):
        assert old in upstream, "deploy/nginx-two-servers.conf changed: update this test"
        upstream = upstream.replace(old, new)
    block = re.compile(r"^upstream mitra_sehat \{.*?\n\}\n", re.DOTALL | re.MULTILINE)
    assert block.search(site), "deploy/nginx.conf has no upstream block"
    return block.sub(lambda _m: block.search(upstream).group(0), site)


def add_coordinator(database_url: str, secret: str) -> int:
    from app import create_app
    from app.auth.passwords import hash_password
    from app.db import new_session
    from app.models import Membership, Partnership, Role, User

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret})
    with app.app_context():
        session = new_session()
        partnership = session.query(Partnership).one()
        user = User(email=COORDINATOR[0], name="Koordinator",
                    password_hash=hash_password(COORDINATOR[1]), language="en")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, partnership_id=partnership.id,
                               role=Role.COORDINATOR))
        session.commit()
        partnership_id = partnership.id
        session.close()
    app.extensions["mitra.engine"].dispose()
    return partnership_id


class Direct:
    """Requests straight to one app server, as nginx would send them (cookies carried over)."""

    def __init__(self, web: requests.Session, https_port: int) -> None:
        self.web = web
        self.https_port = https_port

    def request(self, port: int, method: str, path: str, **kwargs) -> requests.Response:
        origin = f"https://{HOST}:{self.https_port}"
        headers = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": HOST, "X-Forwarded-Port": str(self.https_port),
                   "Host": HOST, "Referer": origin + path,
                   "Cookie": "; ".join(f"{c.name}={c.value}" for c in self.web.cookies)}
        return requests.request(method, f"http://127.0.0.1:{port}{path}", headers=headers,
                                allow_redirects=False, timeout=60, **kwargs)


@pytest.fixture
def private_pg():
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except Exception:  # no PostgreSQL: this set-up needs one
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is needed")
    name = f"two_servers_{os.getpid()}"
    url = _server.create_pg_database(PG_ADMIN, name)
    yield url
    _server.drop_pg_database(PG_ADMIN, name)


def test_two_servers_behind_nginx_survive_a_kill_and_share_caches(
        tmp_path, private_pg, nginx_program, openssl_program):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    logs = tmp_path / "logs"
    logs.mkdir()
    secret = _server.new_secret()
    redis_server = PrivateRedis(_server.free_port(), tmp_path)
    env = app_environment(private_pg)
    env.update({"MITRA_SECRET_KEY": secret, "MITRA_ACCESS_CODE_KEY": _server.CODE_KEY,
                "MITRA_REDIS_URL": redis_server.url,
                "MITRA_JOB_FILES_DIR": str(tmp_path / "job-files")})
    ports = Ports(0, _server.free_port(), _server.free_port())
    app_ports = (_server.free_port(), _server.free_port())
    servers = [_server.Gunicorn(env, port, module="wsgi:app", wait=False) for port in app_ports]
    processes: list[subprocess.Popen] = []
    try:
        seeded = _server.seed(private_pg, secret, 400)
        partnership_id = add_coordinator(private_pg, secret)
        worker_log = (logs / "worker.log").open("wb")
        processes.append(subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "jobs", "worker"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT))
        cert, key = make_certificate(openssl_program, tmp_path)
        site = tmp_path / "mitra-sehat.conf"
        site.write_text(two_server_site(ports, app_ports, cert, key, logs), encoding="utf-8")
        config = tmp_path / "nginx.conf"
        config.write_text(main_config(tmp_path, site, logs), encoding="utf-8")
        nginx_command = [nginx_program, "-e", "stderr", "-p", str(tmp_path), "-c", str(config)]
        checked = subprocess.run([*nginx_command, "-t"], capture_output=True, text=True,
                                 timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        for server in servers:
            server.wait_ready()
        processes.append(subprocess.Popen(nginx_command, stdout=subprocess.DEVNULL,
                                          stderr=(logs / "nginx.out").open("wb")))
        base = f"https://{HOST}:{ports.https}"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(f"{base}/healthz", verify=str(cert), timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)

        # The respondents, through nginx; server A dies part-way.
        load = Locust(base, ["Respondent"], 16, 30, seeded.codes, tmp_path)
        killer = threading.Timer(10, servers[0].kill)
        killer.start()
        run = load.finish()
        killer.join()
        assert servers[0].process.poll() is not None, "server A was not killed"
        invariants = _server.check_invariants(private_pg, secret, seeded,
                                              set(run.results["confirmed"]))
        assert invariants.ok, invariants.line()
        assert invariants.responses >= 5, invariants.line()  # k = 5: enough to publish
        submits = run.stats.get("POST /r/review (submit)", {})
        assert submits.get("count", 0) > 0
        assert invariants.confirmed > 0

        # Server A comes back on its port; the round is closed there and read on B.
        servers[0] = _server.Gunicorn(env, app_ports[0], module="wsgi:app")
        web = requests.Session()
        web.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=False
        web.verify = False
        page = web.get(f"{base}/login", timeout=60).text
        signed_in = web.post(f"{base}/login", timeout=60, headers={"Referer": f"{base}/login"},
                             data={
            "email": COORDINATOR[0], "password": COORDINATOR[1],
            "csrf_token": CSRF.search(page).group(1)})
        assert signed_in.ok and "/login" not in signed_in.url, signed_in.url
        direct = Direct(web, ports.https)
        results = f"/results/partnerships/{partnership_id}/rounds/{seeded.round_id}"
        before = direct.request(app_ports[1], "GET", results)
        assert before.status_code == 200
        assert 'class="badge badge-open"' in before.text
        early = CHART.search(before.text)
        if early:  # drawn and cached by server B (and in Redis) while the round was open
            assert direct.request(app_ports[1], "GET",
                                  early.group(1).replace("&amp;", "&")).status_code == 200
        status = f"/admin/partnerships/{partnership_id}/rounds/{seeded.round_id}/status/closed"
        form = direct.request(app_ports[0], "GET", status)
        assert form.status_code == 200, form.text[-500:]
        closed = direct.request(app_ports[0], "POST", status, data={
            "csrf_token": CSRF.search(form.text).group(1), "reason": ""})
        assert closed.status_code == 302, closed.text[-1000:]

        deadline = time.time() + 120
        on_b = direct.request(app_ports[1], "GET", results)
        while not ('badge-closed' in on_b.text and CHART.search(on_b.text)) \
                and time.time() < deadline:
            time.sleep(1)
            on_b = direct.request(app_ports[1], "GET", results)
        chart = CHART.search(on_b.text)
        assert 'class="badge badge-closed"' in on_b.text and chart, \
            "server B never showed the results published on server A"
        on_a = direct.request(app_ports[0], "GET", results)
        assert CHART.search(on_a.text)
        path = chart.group(1).replace("&amp;", "&")
        chart_b = direct.request(app_ports[1], "GET", path)
        chart_a = direct.request(app_ports[0], "GET", path)
        assert chart_b.status_code == chart_a.status_code == 200
        assert chart_b.content == chart_a.content
        assert chart_b.content.lstrip().startswith(b"<")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for server in servers:
            server.stop()
        redis_server.stop()
