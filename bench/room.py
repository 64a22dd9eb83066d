"""Benchmark the live room: 50 phones polling and answering, a projector, a facilitator.

Creates a fresh PostgreSQL database (``bench_room`` in the server at 127.0.0.1:5432 by
default), seeds one partnership with a facilitator, starts its own gunicorn with the repository's
``gunicorn.conf.py`` on a free loopback port, then for ``--duration`` seconds (120 by default,
15 with ``--quick``):

- a facilitator signs in, opens a room and cycles through questions (agreement, dot vote,
  sticky note): add, open, wait, close, reveal;
- ``--phones`` phones (50) type the room code, join, poll ``state.json`` every 2 s with an
  ETag, and answer each question when it opens (a third change their answer once);
- the projector polls ``screen.json`` every 2 s with an ETag;
- a probe GETs ``/healthz`` every 0.2 s throughout: the bare GET ceiling of this run.

It prints p50/p99 of the phones' requests and of the projector's polls, each also as a ratio to
the ceiling's, how long the projector took to show a facilitator's action, and checks that no
answer a phone was told was saved is missing from the closed question's count (0 lost).

    .venv/bin/python bench/room.py --quick
    .venv/bin/python bench/room.py --duration 120 --phones 50
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench room password 2026"
EMAIL = "fasilitator@bench.example"
POLL = 2.0
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Timings:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.samples[kind].append(seconds)

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


@dataclass
class Shared:
    """What the threads tell each other (never read by the app)."""

    stop: threading.Event = field(default_factory=threading.Event)
    code: str = ""
    ready: threading.Event = field(default_factory=threading.Event)
    actions: list[tuple[float, str]] = field(default_factory=list)  # (time, what) of changes
    confirmed: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    attempted: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(session: requests.Session, timings: Timings, kind: str, method: str, url: str,
          **kwargs) -> requests.Response | None:
    start = time.perf_counter()
    try:
        response = session.request(method, url, timeout=30, allow_redirects=False, **kwargs)
    except requests.RequestException:
        timings.error(kind)
        return None
    timings.add(kind, time.perf_counter() - start)
    if response.status_code >= 500 or response.status_code == 429:
        timings.error(kind)
    return response


# ----------------------------------------------------------------------------- set-up


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(database_url: str, secret: str) -> int:
    """Schema and one partnership (k = 5, three partners, an open round, a facilitator)."""
    from app import create_app
    from app.auth.passwords import hash_password
    from app.db import Base, new_session
    from app.models import Membership, Partner, Partnership, Role, Round, RoundStatus, Sector, User
    from app.questionnaires import parse_questionnaire
    from app.services.questionnaires import import_questionnaire
    from bench.results import questionnaire_yaml

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret})
    Base.metadata.create_all(app.extensions["mitra.engine"])
    with app.app_context():
        session = new_session()
        version = import_questionnaire(
            session, parse_questionnaire(questionnaire_yaml(), "bench.yaml")).version
        partnership = Partnership(name="Kemitraan bench", description="", min_group_size=5)
        session.add(partnership)
        partners = [Partner(partnership=partnership, name=name, sector=Sector.NGO)
                    for name in ("Dinas", "Yayasan", "Kelompok")]
        session.add_all(partners)
        session.add(Round(partnership=partnership, name="Putaran 1", status=RoundStatus.OPEN,
                          questionnaire_version_id=version.id, partners=partners))
        user = User(email=EMAIL, name="Fasilitator", password_hash=hash_password(PASSWORD),
                    language="en")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, partnership_id=partnership.id,
                               role=Role.FACILITATOR))
        session.commit()
        partnership_id = partnership.id
        session.close()
    app.extensions["mitra.engine"].dispose()
    return partnership_id


def start_gunicorn(database_url: str, secret: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, MITRA_DATABASE_URL=database_url, MITRA_SECRET_KEY=secret,
               MITRA_ENV_NAME="development")
    env.pop("MITRA_REDIS_URL", None)
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py",
               "-b", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile",
               "/dev/null", "wsgi:app"]
    # A pipe nobody reads would block gunicorn when full; the file lives as long as gunicorn.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    log.seek(0)
    raise SystemExit("gunicorn did not start: " + log.read().decode()[-2000:])


# ----------------------------------------------------------------------------- actors


def facilitator(base: str, partnership_id: int, shared: Shared, timings: Timings,
                window: float) -> None:
    web = requests.Session()
    page = web.get(f"{base}/login").text
    web.post(f"{base}/login", data={"email": EMAIL, "password": PASSWORD,
                                    "csrf_token": CSRF.search(page).group(1)})
    page = web.get(f"{base}/room/partnerships/{partnership_id}").text
    token = CSRF.search(page).group(1)
    response = web.post(f"{base}/room/partnerships/{partnership_id}/rooms",
                        data={"round_id": re.search(r'<option[^>]*value="(\d+)"', page).group(1),
                              "workshop_id": 0, "csrf_token": token}, allow_redirects=False)
    room_url = response.headers["Location"].split("#")[0]
    if room_url.startswith("/"):
        room_url = base + room_url
    control = web.get(room_url).text
    shared.code = re.search(r'id="room-code">([^<]+)<', control).group(1).replace(" ", "")
    shared.room_url = room_url  # type: ignore[attr-defined]
    shared.ready.set()
    kinds = [{"kind": "agreement", "prompt": "Semua mitra didengar?"},
             {"kind": "dot_vote", "prompt": "Apa dulu?", "options": "Dana\nData\nJadwal",
              "budget": 3, "option_cap": 2},
             {"kind": "sticky_note", "prompt": "Satu kata?", "max_chars": 80}]
    number = 0
    while not shared.stop.is_set():
        spec = dict(kinds[number % 3], csrf_token=token)
        spec["prompt"] = f"{spec['prompt']} ({number + 1})"
        web.post(f"{room_url}/questions", data=spec)
        control = web.get(room_url).text
        question = int(re.findall(r'data-question-id="(\d+)"', control)[-1])
        timed(web, timings, "facilitator", "POST", f"{room_url}/questions/{question}/open",
              data={"csrf_token": token})
        with shared.lock:
            shared.actions.append((time.perf_counter(), "open"))
        if shared.stop.wait(window):
            break
        timed(web, timings, "facilitator", "POST", f"{room_url}/questions/{question}/close",
              data={"csrf_token": token})
        if kinds[number % 3]["kind"] == "sticky_note":
            notes = web.get(f"{room_url}/notes").text
            for note_id in re.findall(r'/notes/([0-9a-f]{32})"', notes)[::2]:
                web.post(f"{room_url}/notes/{note_id}",
                         data={"decision": "approved", "csrf_token": token})
        timed(web, timings, "facilitator", "POST", f"{room_url}/questions/{question}/reveal",
              data={"csrf_token": token})
        with shared.lock:
            shared.actions.append((time.perf_counter(), "reveal"))
        number += 1
        if shared.stop.wait(3):
            break
    shared.facilitator = web  # type: ignore[attr-defined]
    shared.token = token  # type: ignore[attr-defined]


def phone(base: str, index: int, shared: Shared, timings: Timings) -> None:
    web = requests.Session()
    rng = random.Random(index)
    shared.ready.wait()
    time.sleep(rng.random() * POLL)  # phones arrive spread over a poll interval
    page = timed(web, timings, "phone", "GET", f"{base}/j")
    token = CSRF.search(page.text).group(1)
    timed(web, timings, "phone", "POST", f"{base}/j",
          data={"code": shared.code.lower(), "csrf_token": token})
    room = f"{base}/j/{shared.code}"
    page = timed(web, timings, "phone", "GET", room)
    timed(web, timings, "phone", "POST", f"{room}/join",
          data={"partner_id": rng.choice(re.findall(r'<option value="(\d+)"', page.text)),
                "csrf_token": CSRF.search(page.text).group(1)})
    etag = ""
    answered: set[int] = set()
    changed: set[int] = set()
    while not shared.stop.is_set():
        response = timed(web, timings, "phone", "GET", f"{room}/state.json",
                         headers={"If-None-Match": etag} if etag else {})
        if response is not None and response.status_code == 200:
            etag = response.headers.get("ETag", "")
            question = response.json().get("question")
            if question and question not in answered and answer(
                    web, room, rng, question, shared, timings, index):
                answered.add(question)
        elif response is not None and response.status_code == 304 and answered and \
                rng.random() < 0.05:
            last = max(answered)
            if last not in changed:  # a third or so change their mind once
                changed.add(last)
                answer(web, room, rng, last, shared, timings, index)
        shared.stop.wait(POLL)


def answer(web: requests.Session, room: str, rng: random.Random, question: int,
           shared: Shared, timings: Timings, index: int) -> bool:
    page = timed(web, timings, "phone", "GET", room)
    if page is None or f'name="question_id" value="{question}"' not in page.text:
        return False
    data: dict[str, object] = {"question_id": question,
                               "csrf_token": CSRF.search(page.text).group(1)}
    if 'name="note"' in page.text:
        data["note"] = rng.choice(["terbuka", "adil", "setara", "lambat", "percaya"])
    elif 'name="dots-0"' in page.text:
        first = rng.randrange(3)
        data[f"dots-{first}"] = 2
        data[f"dots-{(first + 1) % 3}"] = 1
    else:
        data["value"] = rng.randint(1, 5)
    with shared.lock:
        shared.attempted[question].add(index)
    response = timed(web, timings, "answer", "POST", f"{room}/answer", data=data)
    if response is None or response.status_code != 302:
        return False
    after = timed(web, timings, "phone", "GET", room)
    if after is not None and "saved-note" in after.text and \
            f'name="question_id" value="{question}"' in after.text:
        with shared.lock:
            shared.confirmed[question].add(index)
    return True


def projector(shared: Shared, timings: Timings, web_ready: threading.Event,
              seen: list[float]) -> None:
    web_ready.wait()
    web = shared.facilitator_for_screen  # type: ignore[attr-defined]
    url = shared.room_url + "/screen.json"  # type: ignore[attr-defined]
    etag = ""
    handled = 0
    while not shared.stop.is_set():
        response = timed(web, timings, "projector", "GET", url,
                         headers={"If-None-Match": etag} if etag else {})
        now = time.perf_counter()
        if response is not None and response.status_code == 200:
            etag = response.headers.get("ETag", "")
            with shared.lock:
                pending = shared.actions[handled:]
                handled = len(shared.actions)
            seen.extend(now - at for at, _ in pending)
        shared.stop.wait(POLL)


def probe(base: str, shared: Shared, timings: Timings) -> None:
    web = requests.Session()
    while not shared.stop.is_set():
        timed(web, timings, "healthz", "GET", f"{base}/healthz")
        shared.stop.wait(0.2)


# ----------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def counted_answers(database_url: str) -> dict[int, int]:
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        rows = conn.execute("SELECT id, answer_count FROM room_questions").fetchall()
    return {qid: count for qid, count in rows if count is not None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--quick", action="store_true", help="15 seconds instead")
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--admin-url", default="postgresql://127.0.0.1:5432/postgres",
                        help="a PostgreSQL database to create and drop the bench one from")
    parser.add_argument("--database", default="bench_room")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    duration = 15.0 if args.quick else args.duration
    window = max(4.0, min(20.0, duration / 4))

    secret = secrets.token_urlsafe(48)
    database_url = create_database(args.admin_url, args.database)
    partnership_id = seed(database_url, secret)
    port = free_port()
    server = start_gunicorn(database_url, secret, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    shared, timings, seen = Shared(), Timings(), []
    web_ready = threading.Event()
    try:
        screen_web = requests.Session()
        login = screen_web.get(f"{base}/login").text
        screen_web.post(f"{base}/login", data={"email": EMAIL, "password": PASSWORD,
                                               "csrf_token": CSRF.search(login).group(1)})
        shared.facilitator_for_screen = screen_web  # type: ignore[attr-defined]
        threads = [threading.Thread(target=facilitator, daemon=True,
                                    args=(base, partnership_id, shared, timings, window)),
                   threading.Thread(target=probe, args=(base, shared, timings), daemon=True)]
        threads += [threading.Thread(target=phone, args=(base, i, shared, timings), daemon=True)
                    for i in range(args.phones)]
        for thread in threads:
            thread.start()
        shared.ready.wait(30)
        web_ready.set()
        screen = threading.Thread(target=projector, args=(shared, timings, web_ready, seen),
                                  daemon=True)
        screen.start()
        time.sleep(duration)
        shared.stop.set()
        for thread in [*threads, screen]:
            thread.join(timeout=40)
        # Close the room: every question's ballots become counts.
        web = shared.facilitator  # type: ignore[attr-defined]
        web.post(f"{shared.room_url}/close",  # type: ignore[attr-defined]
                 data={"csrf_token": shared.token})  # type: ignore[attr-defined]
        counted = counted_answers(database_url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if not args.keep:
            drop_database(args.admin_url, args.database)

    ceiling = timings.samples["healthz"]
    c50, c99 = percentile(ceiling, 50), percentile(ceiling, 99)
    print(f"room benchmark: {args.phones} phones, {duration:.0f} s, gunicorn x{args.workers} "
          f"sync workers, PostgreSQL")
    print(f"{'requests':<34}{'n':>7}{'p50 ms':>10}{'p99 ms':>10}{'p50/ceil':>10}"
          f"{'p99/ceil':>10}{'errors':>8}")
    for label, kind in (("bare GET /healthz (ceiling)", "healthz"),
                        ("phone: every request", "phone"),
                        ("phone: answer POST", "answer"),
                        ("projector: screen.json poll", "projector"),
                        ("facilitator: open/close/reveal", "facilitator")):
        values = timings.samples[kind]
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(f"{label:<34}{len(values):>7}{p50 * 1000:>10.1f}{p99 * 1000:>10.1f}"
              f"{p50 / c50:>10.2f}{p99 / c99:>10.2f}{timings.errors[kind]:>8}")
    print(f"projector shows a facilitator's action after: p50 {percentile(seen, 50):.2f} s, "
          f"p99 {percentile(seen, 99):.2f} s (polling every {POLL:.0f} s; {len(seen)} actions)")
    confirmed = sum(len(v) for v in shared.confirmed.values())
    lost = sum(max(0, len(shared.confirmed[q]) - counted.get(q, 0)) for q in shared.confirmed)
    extra = sum(max(0, counted.get(q, 0) - len(shared.attempted[q])) for q in counted)
    print(f"answers: {confirmed} confirmed to phones over {len(counted)} questions, "
          f"{sum(counted.values())} counted; lost: {lost}; counted without an attempt: {extra}")
    return 0 if lost == 0 and extra == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
