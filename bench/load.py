"""Load benchmark of the respondent flow, as ratios to a bare Flask + Jinja page.

Starts its own gunicorn (the repository's ``gunicorn.conf.py``, 2 sync workers, a free
loopback port) serving ``bench.bare_app`` (the product plus ``/_bench/bare``) on a fresh
SQLite file or PostgreSQL database, and drives it with locust (headless, ``FastHttpUser``,
niced to 10 so the server gets the CPU first; its CPU seconds are printed). Two parts:

1. **Ratios** (concurrency 16, ``--ratio-seconds`` per page): the bare page GET and POST, then
   each respondent page on its own (landing ``/``, ``GET /r``, code entry ``POST /r``, a
   questionnaire page GET and POST, which saves the draft, and the review page), then the
   bare page again. Each page's requests per second divided by the bare page's (mean of the
   two bare runs; GET pages against the bare GET, POST against the bare POST). Goal >= 0.5x.
2. **Flow** (``--users`` respondents, no think time, at most ``--codes`` codes and
   ``--seconds`` seconds): landing, code entry with CSRF, language, introduction, every
   questionnaire page (each POST saves the draft), review, submit, thanks. p50/p95/p99 per
   step. Goal: submit p99 < 750 ms on PostgreSQL with 50 users.

Then it checks the invariants in the database: responses == used codes, every submit the
generator saw confirmed is stored, no duplicates, no partial responses, no drafts left for
used codes (see ``bench/_server.py``). Exit status 1 if an invariant fails.

    .venv/bin/python bench/load.py --database sqlite --quick
    .venv/bin/python bench/load.py --database postgres --users 50 --seconds 60

Loopback only, bounded in time and count; the PostgreSQL database is dropped afterwards.
Everything runs on one shared machine: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
RADIO = re.compile(r'<input type="radio"[^>]*name="([^"]+)" value="([^"]*)"')
RATIO_TARGETS = (  # (target, compared with)
    ("bare-get", None), ("bare-post", None), ("landing", "bare-get"), ("code-get", "bare-get"),
    ("code-post", "bare-post"), ("page-get", "bare-get"), ("page-post", "bare-post"),
    ("review-get", "bare-get"))
STEP_ORDER = ("GET /", "GET /r", "POST /r (code)", "GET /r/language", "POST /r/language",
              "GET /r/about", "GET /r/page/N", "POST /r/page/N (draft save)", "GET /r/review",
              "POST /r/review (submit)", "GET /r/thanks")


def answers_for(html: str, rng: random.Random) -> dict[str, str]:
    """One value per radio group of a page (the bench questionnaire has only radio items)."""
    groups: dict[str, list[str]] = {}
    for name, value in RADIO.findall(html):
        groups.setdefault(name, []).append(value)
    return {name: rng.choice(values[:5]) for name, values in groups.items()}


# ============================================================================ locust side
# Loaded by locust in its own process (MITRA_LOCUSTFILE=1); never by the orchestrator, so
# gevent's monkey-patching stays out of the process that seeds and checks the database.

if os.environ.get("MITRA_LOCUSTFILE") == "1":
    from locust import FastHttpUser, constant, events, task
    from locust.exception import StopUser

    _CODES = json.loads(Path(os.environ["MITRA_BENCH_CODES"]).read_text())
    _OUT = Path(os.environ["MITRA_BENCH_OUT"])
    _CONFIRMED: list[str] = []
    _ATTEMPTED: list[str] = []
    _STATE = {"active": 0}

    @events.test_stop.add_listener
    def _write_results(**_kwargs):
        _OUT.write_text(json.dumps({"confirmed": _CONFIRMED, "attempted": _ATTEMPTED}))

    class Respondent(FastHttpUser):
        """One respondent after another: each takes a fresh code and fills the questionnaire."""

        wait_time = constant(0)

        def _get(self, path: str, name: str):
            return self.client.get(path, name=name, allow_redirects=False)

        def _post(self, path: str, name: str, data: dict[str, str]):
            # A browser sends the page's address; over HTTPS the CSRF check requires it.
            return self.client.post(path, name=name, data=data, allow_redirects=False,
                                    headers={"Referer": self.host + path})

        @task
        def respond(self) -> None:
            if not _CODES:
                if _STATE["active"] == 0:
                    self.environment.runner.quit()
                raise StopUser()
            code = _CODES.pop()
            _STATE["active"] += 1
            try:
                self._one(code)
            finally:
                _STATE["active"] -= 1
                self.client.cookiejar.clear()

        def _one(self, code: str) -> None:
            rng = random.Random(code)
            self._get("/", "GET /")
            page = self._get("/r", "GET /r")
            token = CSRF.search(page.text or "")
            if token is None:
                return
            response = self._post("/r", "POST /r (code)",
                                  {"code": code, "csrf_token": token.group(1)})
            location = response.headers.get("Location", "")
            for _guard in range(30):
                path = "/" + location.split("://", 1)[-1].split("/", 1)[-1] \
                    if "://" in location else location
                path = path.split("#")[0]
                if not path:
                    return
                if path.startswith("/r/thanks"):
                    self._get(path, "GET /r/thanks")
                    return
                if path.startswith("/r/language"):
                    page = self._get(path, "GET /r/language")
                    token = CSRF.search(page.text or "")
                    if token is None:
                        return
                    response = self._post(path, "POST /r/language",
                                          {"language": "id", "csrf_token": token.group(1)})
                elif path.startswith("/r/about"):
                    self._get(path, "GET /r/about")
                    response = None
                    location = "/r/page/1"
                    continue
                elif path.startswith("/r/page/"):
                    page = self._get(path, "GET /r/page/N")
                    token = CSRF.search(page.text or "")
                    if token is None:
                        return
                    data = {"csrf_token": token.group(1), "action": "next",
                            **answers_for(page.text, rng)}
                    response = self._post(path.split("?")[0], "POST /r/page/N (draft save)",
                                          data)
                elif path.startswith("/r/review"):
                    page = self._get(path, "GET /r/review")
                    token = CSRF.search(page.text or "")
                    if token is None:
                        return
                    _ATTEMPTED.append(code)
                    response = self._post("/r/review", "POST /r/review (submit)",
                                          {"csrf_token": token.group(1)})
                    if response.status_code == 303 and \
                            "/r/thanks" in response.headers.get("Location", ""):
                        _CONFIRMED.append(code)
                else:
                    return
                if response is None or response.status_code != 303:
                    return
                location = response.headers.get("Location", "")

    _SESSIONS = json.loads(Path(os.environ["MITRA_BENCH_SESSIONS"]).read_text()) \
        if os.environ.get("MITRA_BENCH_SESSIONS") else []

    class RatioUser(FastHttpUser):
        """Hits one page over and over (MITRA_BENCH_TARGET) in a session prepared beforehand.

        The orchestrator entered a code and answered every page in each session, untimed, so
        every request counted here is the page being measured.
        """

        wait_time = constant(0)
        target = os.environ.get("MITRA_BENCH_TARGET", "bare-get")

        def on_start(self) -> None:
            self.rng = random.Random()
            self.prepared = _SESSIONS.pop() if _SESSIONS else None

        def _send(self, method: str, path: str, data: dict[str, str] | None = None) -> None:
            headers = {}
            if self.prepared is not None:
                self.client.cookiejar.clear()
                headers["Cookie"] = self.prepared["cookie"]
            self.client.request(method, path, name=self.target, data=data, headers=headers,
                                allow_redirects=False)

        @task
        def hit(self) -> None:
            target, prepared = self.target, self.prepared
            if target == "bare-get":
                self._send("GET", "/_bench/bare")
            elif target == "bare-post":
                self._send("POST", "/_bench/bare",
                           {f"q{i}_70": str(self.rng.randint(1, 5)) for i in range(10)})
            elif target == "landing":
                self._send("GET", "/")
            elif target == "code-get":
                self._send("GET", "/r")
            elif target == "code-post":
                self._send("POST", "/r", {"code": prepared["code"],
                                          "csrf_token": prepared["token"]})
            elif target == "page-get":
                self._send("GET", "/r/page/1")
            elif target == "page-post":
                self._send("POST", "/r/page/1", {"csrf_token": prepared["token"],
                                                 "action": "save", **prepared["answers"]})
            elif target == "review-get":
                self._send("GET", "/r/review")

    class BareProbe(FastHttpUser):
        """The bare page GET and POST inside the flow run (--quick): a same-run yardstick."""

        wait_time = constant(0.05)

        @task
        def probe(self) -> None:
            self.client.get("/_bench/bare", name="bare-get")
            self.client.post("/_bench/bare", name="bare-post",
                             data={f"q{i}_70": "3" for i in range(10)})


# ============================================================================ orchestrator


@dataclass
class LocustRun:
    stats: dict[str, dict[str, float]]
    cpu_seconds: float
    wall_seconds: float
    results: dict[str, list[str]]


def _number(text: str) -> float:
    """A figure of locust's CSV ("N/A" when nothing was measured)."""
    try:
        return float(text)
    except ValueError:
        return 0.0


class Locust:
    """A headless locust child process (nice 10); ``finish`` waits and collects its figures."""

    def __init__(self, base: str, user_classes: list[str], users: int, seconds: float,
                 codes: list[str], workdir: Path, extra_env: dict[str, str] | None = None):
        stamp = time.monotonic_ns()
        codes_file = workdir / f"codes-{stamp}.json"
        codes_file.write_text(json.dumps(codes))
        self.out = workdir / f"out-{stamp}.json"
        self.prefix = workdir / f"stats-{stamp}"
        env = dict(os.environ, MITRA_LOCUSTFILE="1", MITRA_BENCH_CODES=str(codes_file),
                   MITRA_BENCH_OUT=str(self.out), **(extra_env or {}))
        command = ["nice", "-n", "10", str(ROOT / ".venv" / "bin" / "locust"), "-f", __file__,
                   "--headless", "--host", base, "-u", str(users), "-r", str(users),
                   "-t", f"{max(1, round(seconds))}s",
                   "--csv", str(self.prefix), "--only-summary", "--loglevel", "ERROR",
                   "--exit-code-on-error", "0", *user_classes]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)

    def finish(self) -> LocustRun:
        # wait4 gives the child's own CPU time (nice execs locust in the same process).
        try:
            _pid, status, usage = os.wait4(self.process.pid, 0)
            self.process.returncode = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:  # already reaped (a poll() elsewhere): CPU time unknown
            self.process.wait()
            cpu = float("nan")
        wall = time.perf_counter() - self.started
        errors = self.process.stderr.read().decode(errors="replace") \
            if self.process.stderr else ""
        if self.process.returncode != 0:
            raise SystemExit(f"locust failed ({self.process.returncode}): {errors[-2000:]}")
        stats: dict[str, dict[str, float]] = {}
        with open(f"{self.prefix}_stats.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                stats[row["Name"]] = {
                    "count": _number(row["Request Count"]),
                    "failures": _number(row["Failure Count"]),
                    "p50": _number(row["50%"]), "p95": _number(row["95%"]),
                    "p99": _number(row["99%"]), "rps": _number(row["Requests/s"])}
        results = json.loads(self.out.read_text()) if self.out.exists() else {
            "confirmed": [], "attempted": []}
        return LocustRun(stats=stats, cpu_seconds=cpu,
                         wall_seconds=wall, results=results)


def run_locust(base: str, user_classes: list[str], users: int, seconds: float,
               codes: list[str], workdir: Path,
               extra_env: dict[str, str] | None = None) -> LocustRun:
    return Locust(base, user_classes, users, seconds, codes, workdir, extra_env).finish()


def prepare_session(base: str, code: str) -> dict:
    """Enter a code and answer every page, untimed; what a RatioUser needs to reuse it."""
    import requests

    rng = random.Random(code)
    web = requests.Session()
    token = CSRF.search(web.get(f"{base}/r", timeout=60).text).group(1)
    web.post(f"{base}/r", data={"code": code, "csrf_token": token}, timeout=60)
    web.post(f"{base}/r/language", data={"language": "id", "csrf_token": token}, timeout=60)
    number, first = 1, {}
    while True:
        page = web.get(f"{base}/r/page/{number}", timeout=60).text
        answers = answers_for(page, rng)
        first = first or answers
        response = web.post(f"{base}/r/page/{number}", allow_redirects=False, timeout=60,
                            data={"csrf_token": token, "action": "next", **answers})
        if "/r/page/" not in response.headers.get("Location", "") or number > 50:
            break
        number += 1
    cookie = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
    return {"cookie": cookie, "token": token, "code": code, "answers": first}


def ratio_phase(server, base: str, codes: list[str], seconds: float, users: int,
                workdir: Path) -> bool:
    """Each target alone at ``users`` concurrency; prints the table; True if all >= 0.5x."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda code: prepare_session(base, code), codes[:users]))
    sessions_file = workdir / "sessions.json"
    sessions_file.write_text(json.dumps(sessions))
    order = [target for target, _ in RATIO_TARGETS] + ["bare-get", "bare-post"]
    measured: dict[str, list[tuple[float, float, float, float, float]]] = {}
    for target in order:
        before = server.cpu_seconds()
        run = run_locust(base, ["RatioUser"], users, seconds, [], workdir,
                         {"MITRA_BENCH_TARGET": target,
                          "MITRA_BENCH_SESSIONS": str(sessions_file)})
        cpu = server.cpu_seconds() - before
        row = run.stats.get(target, {"count": 0, "rps": 0, "p50": 0, "p99": 0, "failures": 0})
        measured.setdefault(target, []).append(
            (row["rps"], row["p50"], row["p99"], 1000 * cpu / max(row["count"], 1),
             run.cpu_seconds / max(run.wall_seconds, 1e-9)))
        if row["failures"]:
            print(f"  {target}: {int(row['failures'])} failed requests")
    print(f"\nRatios: each page alone, {users} concurrent, {seconds:.0f} s each; the bare page "
          "measured first and last, the mean used")
    print(f"{'page':<12} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'srv CPU ms/req':>15} "
          f"{'gen CPU':>8} {'ratio req/s':>12} {'ratio CPU':>10}")
    met = True
    for target, compared in RATIO_TARGETS:
        runs = measured[target]
        rps = sum(r[0] for r in runs) / len(runs)
        cpu_ms = sum(r[3] for r in runs) / len(runs)
        ratio = cpu_ratio = 1.0
        if compared:
            base_runs = measured[compared]
            base_rps = sum(r[0] for r in base_runs) / len(base_runs)
            base_cpu = sum(r[3] for r in base_runs) / len(base_runs)
            ratio = rps / base_rps if base_rps else 0.0
            cpu_ratio = base_cpu / cpu_ms if cpu_ms else 0.0
            met = met and ratio >= 0.5
        print(f"{target:<12} {rps:>8.0f} {runs[0][1]:>7.0f} {runs[0][2]:>7.0f} {cpu_ms:>15.2f} "
              f"{runs[0][4]:>7.0%} {ratio:>11.2f}x {cpu_ratio:>9.2f}x")
    print("(ratio req/s: the page's requests per second / the bare page's, goal >= 0.5x; "
          "ratio CPU: the bare page's server CPU per request / the page's. gen CPU: locust's "
          "CPU / wall time; near 100% means locust, not the server, set the pace.)")
    print(f"ratio goal (>= 0.5x for every page): {'met' if met else 'NOT met'}")
    return met


def flow_phase(server, base: str, codes: list[str], users: int, seconds: float,
               workdir: Path, probe: bool = False) -> LocustRun:
    before = server.cpu_seconds()
    classes = ["Respondent", "BareProbe"] if probe else ["Respondent"]
    run = run_locust(base, classes, users + int(probe), seconds, codes, workdir)
    server_cpu = server.cpu_seconds() - before
    print(f"\nRespondent flow: {users} respondents, no think time, up to {len(codes)} codes, "
          f"{run.wall_seconds:.1f} s")
    print(f"{'step':<30} {'count':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for name in STEP_ORDER:
        stat = run.stats.get(name)
        if stat:
            print(f"{name:<30} {stat['count']:>7.0f} {stat['failures']:>5.0f} "
                  f"{stat['p50']:>7.0f} {stat['p95']:>7.0f} {stat['p99']:>7.0f}")
    total = {key: sum(stat[key] for name, stat in run.stats.items() if name in STEP_ORDER)
             for key in ("count", "failures")}
    total.update({key: run.stats.get("Aggregated", {}).get(key, 0)
                  for key in ("p50", "p95", "p99", "rps")})
    if probe:
        bare = run.stats.get("bare-get", {}).get("p50", 0)
        bare_post = run.stats.get("bare-post", {}).get("p50", 0)
        print(f"{'bare-get (probe, same run)':<30} p50 {bare:.0f} ms; bare-post p50 "
              f"{bare_post:.0f} ms; latency ratios bare p50 / step p50 (indicative only):")
        for name in STEP_ORDER:
            stat = run.stats.get(name)
            if stat and stat["p50"]:
                yardstick = bare_post if name.startswith("POST") else bare
                print(f"  {name:<28} {yardstick / stat['p50']:.2f}x")
    print(f"{'all requests':<30} {total.get('count', 0):>7.0f} {total.get('failures', 0):>5.0f}"
          f" {total.get('p50', 0):>7.0f} {total.get('p95', 0):>7.0f} {total.get('p99', 0):>7.0f}"
          f"   {total.get('rps', 0):.1f} req/s")
    submitted = len(run.results["confirmed"])
    print(f"submitted {submitted} of {len(run.results['attempted'])} attempted; "
          f"{submitted / max(run.wall_seconds, 1e-9):.1f} submits/s")
    print(f"load generator CPU: {run.cpu_seconds:.1f} s "
          f"({run.cpu_seconds / max(run.wall_seconds, 1e-9):.0%} of one core, nice 10); "
          f"server CPU: {server_cpu:.1f} s")
    return run


def main(argv: list[str] | None = None) -> int:
    from bench import _server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-admin-url", default=_server.DEFAULT_PG,
                        help="a PostgreSQL database to connect to for CREATE/DROP DATABASE")
    parser.add_argument("--users", type=int, default=50, help="respondents at once (flow)")
    parser.add_argument("--seconds", type=float, default=60, help="flow time limit")
    parser.add_argument("--codes", type=int, default=600, help="codes for the flow (its bound)")
    parser.add_argument("--ratio-seconds", type=float, default=10)
    parser.add_argument("--ratio-users", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-ratios", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="about 20 s: no ratio runs, a 10-user flow of 20 codes with the "
                             "bare page probed in the same run")
    args = parser.parse_args(argv)
    if args.quick:
        args.skip_ratios = True
        # Bounded by count: 10 respondents take the 20 codes; the time limit is only a cap.
        args.users, args.seconds, args.codes = 10, 25, 20

    workdir = Path(tempfile.mkdtemp(prefix="mitra-load-"))
    name = f"bench_load_{os.getpid()}"
    database_url = _server.database_for(args.database, workdir, args.pg_admin_url, name)
    secret = _server.new_secret()
    # gunicorn imports the app while the seed runs; it answers /healthz only once seeded.
    server = _server.Gunicorn(_server.app_config(database_url, secret), _server.free_port(),
                              workers=args.workers, wait=False)
    try:
        ratio_codes = 0 if args.skip_ratios else args.ratio_users
        seeded = _server.seed(database_url, secret, args.codes + ratio_codes)
        flow_codes, spare = seeded.codes[:args.codes], seeded.codes[args.codes:]
        server.wait_ready()
        print(f"load.py: {args.database}, gunicorn {args.workers} sync workers at "
              f"{server.base}, {os.cpu_count()} CPUs, {args.codes} codes")
        if not args.skip_ratios:
            ratio_phase(server, server.base, spare, args.ratio_seconds, args.ratio_users,
                        workdir)
        run = flow_phase(server, server.base, flow_codes, args.users, args.seconds, workdir,
                         probe=args.quick)
    finally:
        server.stop()
    flow_seeded = _server.Seeded(seeded.round_id, flow_codes, seeded.items)
    invariants = _server.check_invariants(database_url, secret, flow_seeded,
                                          set(run.results["confirmed"]))
    print(invariants.line())
    if args.database == "postgres":
        _server.drop_pg_database(args.pg_admin_url, name)
    return 0 if invariants.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
