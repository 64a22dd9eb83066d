"""Behind a TLS proxy: trusted hops, scheme, HSTS, referrers, CSRF, OPTIONS, server names.

The browser test through a real nginx is ``tests/e2e/test_deploy_tls.py``; these check each
rule on its own through the test client.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, request, url_for
from werkzeug.routing import AnyConverter, IntegerConverter

from app import create_app
from app.config import Config
from app.security import ERROR_ONLY_ENDPOINTS, HSTS, trusted_proxy_hops
from tests.app.staff_helpers import EMAILS, app_with, build_world, csrf_from
from tests.factories import DEFAULT_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
FORWARDED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "mitra.example.org",
    "X-Forwarded-Port": "443",
}


def with_probe(app: Flask) -> Flask:
    """Add a view that shows what the app believes about the request."""

    def probe():
        return {"remote_addr": request.remote_addr, "scheme": request.scheme,
                "host": request.host, "secure": request.is_secure,
                "qr": url_for("respond.with_code", code="KXP7W9QT", _external=True)}

    probe.access_rule = ("public",)
    app.add_url_rule("/_probe", "probe", probe)
    return app


def seen(app: Flask, headers: dict[str, str] | None = None, *, qr: bool = False) -> dict:
    answer = app.test_client().get("/_probe", headers=headers or {}).get_json()
    if not qr:
        del answer["qr"]
    return answer


# ----------------------------------------------------------------------------- trusted hops


def test_without_trusted_proxies_forwarded_headers_are_ignored(app_config):
    app = with_probe(app_with(app_config))
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    assert seen(app, FORWARDED) == {"remote_addr": "127.0.0.1", "scheme": "http",
                                    "host": "localhost", "secure": False}


def test_one_trusted_proxy_gives_client_address_scheme_and_host(app_config):
    app = with_probe(app_with(app_config, TRUSTED_PROXY_HOPS=1))
    # Only the last address is the proxy's own word; the one before it the client could forge.
    assert seen(app, FORWARDED) == {"remote_addr": "203.0.113.9", "scheme": "https",
                                    "host": "mitra.example.org", "secure": True}
    port = seen(app, {**FORWARDED, "X-Forwarded-Port": "8443"})
    assert port["host"] == "mitra.example.org:8443"
    # The links printed as QR codes on code sheets follow: HTTPS, the public name.
    assert seen(app, FORWARDED, qr=True)["qr"] == "https://mitra.example.org/r/KXP7W9QT"


def test_two_trusted_proxies_read_one_value_further_back(app_config):
    app = with_probe(app_with(app_config, TRUSTED_PROXY_HOPS=2))
    headers = {**FORWARDED, "X-Forwarded-Proto": "https, http",
               "X-Forwarded-Host": "mitra.example.org, internal:8000",
               "X-Forwarded-Port": "443, 8000"}
    assert seen(app, headers) == {"remote_addr": "198.51.100.7", "scheme": "https",
                                  "host": "mitra.example.org", "secure": True}
    # Fewer values than trusted hops: the headers cannot be trusted, so they are ignored.
    assert seen(app, FORWARDED)["scheme"] == "http"


@pytest.mark.parametrize("hops", [-1, "1", 1.5, True, None])
def test_a_hop_count_that_is_not_a_whole_number_is_refused(hops, app_config):
    with pytest.raises(ValueError, match=r"TRUSTED_PROXY_HOPS .* 0 or more"):
        trusted_proxy_hops(hops)
    with pytest.raises(ValueError, match="TRUSTED_PROXY_HOPS"):
        create_app({**app_config, "TRUSTED_PROXY_HOPS": hops})


def test_the_hop_count_comes_from_the_environment(app_config, monkeypatch):
    monkeypatch.setenv("MITRA_TRUSTED_PROXY_HOPS", "1")
    app = with_probe(create_app(app_config))
    assert app.config["TRUSTED_PROXY_HOPS"] == 1
    assert seen(app, FORWARDED)["secure"] is True
    monkeypatch.setenv("MITRA_TRUSTED_PROXY_HOPS", "-2")
    with pytest.raises(ValueError, match="MITRA_TRUSTED_PROXY_HOPS"):
        create_app(app_config)


# ----------------------------------------------------------------------------- headers


def test_hsts_only_over_https(app_config):
    app = app_with(app_config, TRUSTED_PROXY_HOPS=1)
    client = app.test_client()
    assert client.get("/").headers.get("Strict-Transport-Security") is None
    proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["Strict-Transport-Security"] == HSTS
    direct = client.get("/", base_url="https://localhost")
    assert direct.headers["Strict-Transport-Security"] == HSTS
    untrusted = app_with(app_config).test_client().get("/", headers=FORWARDED)
    assert untrusted.headers.get("Strict-Transport-Security") is None


def test_referrers_stay_on_the_site(client):
    response = client.get("/login")
    assert response.headers["Referrer-Policy"] == "same-origin"
    # A <meta name="referrer"> would override the header for the page: it must agree.
    metas = re.findall(r'<meta name="referrer" content="([^"]+)">', response.get_data(True))
    assert metas == ["same-origin"]


# ----------------------------------------------------------------------------- CSRF over HTTPS


@pytest.fixture
def https_client(app_config):
    """A browser behind nginx: CSRF on, every request arriving as HTTPS through one proxy."""
    app = app_with(app_config, WTF_CSRF_ENABLED=True, TRUSTED_PROXY_HOPS=1)
    build_world(app)
    client = app.test_client()
    client.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https",
                                "HTTP_X_FORWARDED_HOST": "mitra.example.org",
                                "HTTP_X_FORWARDED_PORT": "443",
                                "HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    return client


def _login_form(client) -> dict[str, str]:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return {"csrf_token": token, "email": EMAILS["coordinator"], "password": DEFAULT_PASSWORD}


def test_csrf_accepts_a_same_origin_post_over_https(https_client):
    form = _login_form(https_client)
    response = https_client.post("/login", data=form,
                                 headers={"Referer": "https://mitra.example.org/login"})
    assert response.status_code == 302


@pytest.mark.parametrize("referer", [
    None,
    "https://evil.example/login",
    "http://mitra.example.org/login",  # the site's name without TLS
    "https://mitra.example.org:8443/login",
    "https://mitra.example.org.evil.example/login",
])
def test_csrf_refuses_a_post_from_another_origin_over_https(https_client, referer):
    form = _login_form(https_client)
    headers = {"Origin": "https://evil.example"}
    if referer is not None:
        headers["Referer"] = referer
    response = https_client.post("/login", data=form, headers=headers)
    assert response.status_code == 400


# ----------------------------------------------------------------------------- OPTIONS


def _sample_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def _served(app: Flask, rule) -> set[str]:
    return {method for other in app.url_map.iter_rules() if other.rule == rule.rule
            and other.endpoint not in ERROR_ONLY_ENDPOINTS for method in other.methods}


def test_options_lists_only_the_methods_a_route_serves(app, client):
    answer = client.options("/api/v1/partnerships")
    assert answer.status_code == 200
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/login").headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.options("/logout").headers["Allow"] == "OPTIONS, POST"
    # Two rules at one URL: both count.
    assert client.options("/profile/tokens").headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    unknown = client.options("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.get_json()["error"]


def test_every_route_answers_options_as_it_serves(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ERROR_ONLY_ENDPOINTS:
            continue
        url = _sample_url(rule)
        served = _served(app, rule)
        answer = client.options(url)
        assert answer.status_code == 200, url
        assert set(answer.headers["Allow"].split(", ")) == served, url
        for method in {"POST", "PUT", "PATCH", "DELETE"} - served:
            assert client.open(url, method=method).status_code == 405, (method, url)
        checked += 1
    assert checked > 40


# ----------------------------------------------------------------------------- gunicorn, nginx


def test_gunicorn_names_no_server_and_trusts_no_forwarded_header_itself():
    from gunicorn.http.wsgi import Response

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # loading twice wraps once
    assert settings["forwarded_allow_ips"] == ""
    assert settings["secure_scheme_headers"] == {}
    assert settings["forwarder_headers"] == ""
    request_ = SimpleNamespace(version=(1, 1), method="GET", should_close=lambda: False)
    response = Response(request_, sock=None, cfg=SimpleNamespace())
    response.status, response.status_code, response.response_length = "200 OK", 200, 0
    lines = response.default_headers()
    assert lines[0] == "HTTP/1.1 200 OK\r\n"
    assert not [line for line in lines if line.lower().startswith("server:")], lines
    assert any(line.startswith("Date:") for line in lines)


def test_nginx_example_matches_the_app_and_keeps_respondents_out_of_its_logs():
    text = NGINX_SITE.read_text(encoding="utf-8")
    size = re.search(r"client_max_body_size (\d+)m;", text)
    assert size and int(size.group(1)) * 1024 * 1024 == Config.MAX_CONTENT_LENGTH
    assert len(re.findall(r"^\s*server_tokens off;", text, re.M)) == len(
        re.findall(r"^server \{", text, re.M))
    log_format = re.search(r"log_format mitra_anonymous ([^;]+);", text)
    assert log_format
    for variable in ("$remote_addr", "$proxy_add_x_forwarded_for", "$time_local",
                     "$time_iso8601", "$msec", "$http_user_agent", "$http_referer",
                     "$request ", "$request_uri", "$args", "$query_string"):
        assert variable not in log_format.group(1), variable
    respondent = re.search(r"location ~\*? (\^\S+) \{(.*?)\}", text, re.S)
    assert respondent, "no location for respondents' routes"
    # The same paths gunicorn keeps out of its log: respondents, room phones, shared summary.
    pattern = re.compile(respondent.group(1), re.I)
    for path in ("/r", "/r/KXP7W9QT", "/l/token", "/j", "/j/ACD347", "/summary/s",
                 "/summary/s/round", "/R/KXP7W9QT"):
        assert pattern.match(path), path
    for path in ("/results/partnerships/1", "/summary/partnerships/1/rounds/2", "/login"):
        assert not pattern.match(path), path
    respondent = re.search(r"location ~\*? \^\S+ \{(.*?)\}", text, re.S)
    assert "access_log off;" in respondent.group(1)
    assert "error_log /dev/null;" in respondent.group(1)
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                   "X-Forwarded-Port"):
        assert f"proxy_set_header {header} " in text, header
