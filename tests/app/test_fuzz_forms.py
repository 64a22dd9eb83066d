"""Hypothesis over every form: hostile input never gives a server error or breaks the data.

Every route that accepts POST is found in ``app.url_map`` (so a new form is fuzzed without
touching this file) and posted to as the visitor who may use it: the site admin for admin
routes, a coordinator for partnership and other staff routes, an anonymous visitor for sign-in
and the language switch, and a respondent holding a valid code for the questionnaire. Field
names come from the page itself (its ``name=`` attributes); values are generated text with NUL,
control, bidi and zero-width characters, very long strings, out-of-range numbers, repeated,
missing and extra fields, and generated files for file inputs.

The budget is bounded and reproducible (``derandomize``): ``MITRA_FUZZ_EXAMPLES`` examples per
route (default 12) keep the file to about a minute on SQLite; raise it for longer local runs.
"""

from __future__ import annotations

import io
import os
import re
import traceback
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.models import AccessCode, Answer, Membership, Partner, Response, Round, User
from tests.app.area_url_values import area_url_values
from tests.app.staff_helpers import World, build_world, db

EXAMPLES = int(os.environ.get("MITRA_FUZZ_EXAMPLES", "12"))
RESPONDENT_ENDPOINTS = {"respond.start", "respond.resume", "respond.language", "respond.page",
                        "respond.review"}
ANONYMOUS_ENDPOINTS = {"auth.login", "auth.two_factor", "auth.two_factor_enrol",
                       "main.set_language", "api.not_found"}

NASTY = [
    "", " ", "\x00", "a\x00b", "\x1b[31mred", "\x07\x08\x0b\x0c\x7f", "\r\n\r\n",
    "\u202e\u2066evil",
    "\u200b\u200c\u200d\ufeff", "\u0000" * 3, "-1", "0", "-0", "1e309", "NaN", "Infinity",
    "99999999999999999999999999", "-9223372036854775809", "2147483648", "0x10", "١٢٣",
    "2026-02-30", "0000-00-00", "9999-12-31", "31/12/2026", "<script>alert(1)</script>",
    "' OR 1=1 --", "=cmd|'/c calc'!A1", "../../etc/passwd", "%00", "%s%n", "{{7*7}}",
    "dk", "next", "back", "save", "id", "en", "xx", "coordinator", "admin", "closed", "open",
    "true", "on", "[]", "{}", "null",
]

# Any text a browser could send (no lone surrogates: they cannot be UTF-8 encoded at all).
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
long_texts = st.builds(lambda chunk, times: chunk * times,
                       st.sampled_from(["a", "\x00", "é", "\u202e", "1", "x y "]),
                       st.integers(min_value=1_000, max_value=30_000))
numbers = st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str)
values = st.one_of(st.sampled_from(NASTY), texts, numbers, long_texts)
# A field: missing, once, or repeated.
field_values = st.one_of(st.none(), values, st.lists(values, min_size=2, max_size=3))
files = st.builds(
    lambda content, name: (io.BytesIO(content), name),
    st.one_of(st.binary(max_size=2_000), st.sampled_from([
        b"", b"\x00" * 100, b"slug: x\x00\nversion: 1\n", b"a: &a [*a]\n",
        b"slug: uji\nversion: 99999999999999999999\nlanguages: [id]\n",
        b"partner,kes1\n\x00,1\n", b"\xef\xbb\xbf\xff\xfe", b"- " * 50_000,
    ])),
    st.one_of(st.sampled_from(["q.yaml", "q.csv", "a\x00b.yaml", "../../x.yaml", "",
                               "\u202eLMAY.exe", "x" * 300]), texts))


@dataclass
class Target:
    """One POST route and the visitor who may use it."""

    endpoint: str
    visitor: str  # admin | coordinator | anonymous | respondent


def _visitor(app: Flask, endpoint: str) -> str:
    if endpoint in RESPONDENT_ENDPOINTS:
        return "respondent"
    if endpoint in ANONYMOUS_ENDPOINTS:
        return "anonymous"
    kind = app.view_functions[endpoint].access_rule[0]
    if kind == "admin":
        return "admin"
    if kind in {"partnership", "staff"}:
        return "coordinator"
    return "anonymous"


def _targets() -> list[Target]:
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    endpoints = sorted({rule.endpoint for rule in app.url_map.iter_rules()
                        if "POST" in rule.methods and rule.endpoint != "static"})
    return [Target(endpoint, _visitor(app, endpoint)) for endpoint in endpoints]


TARGETS = _targets()


def _arrange(app: Flask) -> tuple[World, int, list[str]]:
    """The staff world, a second member to edit, and a pool of codes for the open round."""
    from app.services.access_codes import issue_codes
    from tests.factories import make_user

    world = build_world(app)
    with db(app) as session, app.app_context():
        membership = session.scalar(select(Membership.id).where(
            Membership.user_id == world.facilitator))
        round_ = session.get(Round, world.open_round)
        if len(round_.partners) < 2:
            round_.partners = list(session.scalars(select(Partner).where(
                Partner.partnership_id == world.partnership)))
        codes = issue_codes(session, world.open_round, world.partners[0], EXAMPLES + 5)
        make_user(session, "fuzz-target@example.org", language="en")
        session.commit()
    return world, membership, codes


def _url_values(world: World, membership: int) -> dict:
    return {"partnership_id": world.partnership, "round_id": world.open_round,
            "partner_id": world.partners[-1], "membership_id": membership, "target": "closed",
            "batch": "no-such-batch", "version_id": world.version, "user_id": world.plain,
            "token": "no-such-link-token", "code": "ACDEFGHJ", "number": 1, "chart": "scores",
            "dataset": "results", "fmt": "csv", "rest": "no-such-endpoint"}


def _staff_client(app: Flask, user_id: int) -> FlaskClient:
    """A signed-in browser (the session a real sign-in leaves), made fresh for each example so
    that a fuzzed logout or password change does not end the run's coverage."""
    client = app.test_client()
    with db(app) as session:
        epoch = session.get(User, user_id).session_epoch
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(user_id)
        cookie["_fresh"] = True
        cookie["epoch"] = epoch
    return client


class Respondents:
    """Hands out browsers that entered a still-unused code of the open round."""

    def __init__(self, app: Flask, round_id: int, codes: list[str]) -> None:
        self.app, self.round_id, self.codes = app, round_id, list(codes)

    def client(self) -> FlaskClient:
        with db(self.app) as session:
            used = session.scalar(select(func.count()).select_from(AccessCode).where(
                AccessCode.round_id == self.round_id, AccessCode.uses > 0))
        code = self.codes[min(used, len(self.codes) - 1)]
        client = self.app.test_client()
        client.post("/r", data={"code": code})
        return client


FIELD = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.IGNORECASE)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _fields(html: str, action: str | None = None) -> tuple[set[str], set[str]]:
    """The (text-like, file) field names of the page's forms (of one form if ``action``)."""
    if action is not None:
        forms = re.findall(r"<form\b[^>]*action=\"" + re.escape(action) + r"\"[^>]*>(.*?)</form>",
                           html, re.DOTALL | re.IGNORECASE)
        if forms:
            html = "\n".join(forms)
    names, file_names = set(), set()
    for _tag, attributes in FIELD.findall(html):
        attrs = dict(ATTR.findall(attributes))
        name = attrs.get("name")
        if not name or name == "csrf_token":
            continue
        (file_names if attrs.get("type") == "file" else names).add(name)
    return names, file_names


def _discover(client: FlaskClient, url: str) -> tuple[set[str], set[str]]:
    """GET the form's page (or, for POST-only routes, the nearest page above it)."""
    response = client.get(url)
    if response.status_code == 200 and response.mimetype == "text/html":
        return _fields(response.get_data(as_text=True))
    parts = url.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        parent = "/".join(parts)
        response = client.get(parent, follow_redirects=True)
        if response.status_code == 200 and response.mimetype == "text/html":
            names, file_names = _fields(response.get_data(as_text=True), url)
            if names or file_names:
                return names, file_names
    return set(), set()


def _check_consistent(app: Flask) -> None:
    """Invariants no form may break: each web response used one code use, and no answer is
    left without its response (or, on SQLite, any broken foreign key)."""
    with db(app) as session:
        uses = dict(session.execute(select(AccessCode.round_id, func.sum(AccessCode.uses))
                                    .group_by(AccessCode.round_id)).all())
        web = dict(session.execute(select(Response.round_id, func.count())
                                   .where(Response.source == "web")
                                   .group_by(Response.round_id)).all())
        for round_id, total in uses.items():
            assert web.get(round_id, 0) == total, f"round {round_id}: {total} uses, " \
                f"{web.get(round_id, 0)} responses"
        orphans = session.scalar(select(func.count()).select_from(Answer).where(
            ~Answer.response_id.in_(select(Response.id))))
        assert orphans == 0
        if session.get_bind().dialect.name == "sqlite":
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []


def _shown(data: dict) -> str:
    """The posted fields, each value cut short, for a failure message a person can read."""
    def cut(value: object) -> object:
        if isinstance(value, list):
            return [cut(item) for item in value]
        if isinstance(value, str) and len(value) > 60:
            return f"{value[:60]}...({len(value)} chars)"
        return value

    return repr({key: cut(value) for key, value in data.items()})


@pytest.mark.parametrize("target", TARGETS, ids=[t.endpoint for t in TARGETS])
def test_hostile_form_input_never_gives_a_server_error(app, target):
    from flask import url_for

    world, membership, codes = _arrange(app)
    rule = next(app.url_map.iter_rules(endpoint=target.endpoint))
    parts = _url_values(world, membership) | area_url_values(app, world)
    unknown = set(rule.arguments) - set(parts)
    assert not unknown, f"add URL values for {sorted(unknown)} to _url_values"
    with app.test_request_context():
        url = url_for(target.endpoint, **{k: parts[k] for k in rule.arguments})

    respondents = Respondents(app, world.open_round, codes)

    def browser() -> FlaskClient:
        if target.visitor == "respondent":
            return respondents.client()
        if target.visitor == "anonymous":
            return app.test_client()
        return _staff_client(app, getattr(world, target.visitor))

    names, file_names = _discover(browser(), url)
    names |= {"action", "next"} if target.visitor == "respondent" else set()
    form = st.fixed_dictionaries({name: field_values for name in sorted(names)})
    uploads = st.fixed_dictionaries({name: st.one_of(st.none(), files)
                                     for name in sorted(file_names)})
    extra = st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=3)

    @given(fields=form, upload=uploads, more=extra)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    def post(fields, upload, more):
        data: dict = {**more}
        data.update({k: v for k, v in fields.items() if v is not None})
        data.update({k: v for k, v in upload.items() if v is not None})
        try:
            response = browser().post(url, data=data, content_type="multipart/form-data")
        except Exception as error:  # TESTING propagates what would be a 500
            last = traceback.format_exception_only(error)[-1].strip()
            raise AssertionError(f"POST {url} as {target.visitor}: {last} for "
                                 f"{_shown(data)}") from error
        assert response.status_code < 500, f"POST {url} as {target.visitor}: " \
            f"{response.status_code} for {_shown(data)}"
        _check_consistent(app)

    post()
