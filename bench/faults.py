"""Fault suite: the respondent load keeps running while workers, connections and Redis fail.

Starts a private ``redis-server`` on a free loopback port (never the machine's Redis), a fresh
PostgreSQL database (``--database sqlite`` skips the PostgreSQL fault), and its own gunicorn
(``gunicorn.conf.py``, 2 sync workers, ``MITRA_REDIS_URL`` on the private Redis). While the
locust respondent flow of ``bench/load.py`` runs for ``--seconds``:

- every ``--kill-every`` seconds (5) one gunicorn worker gets ``kill -9``;
- every 15 s (from 3 s in) ``pg_terminate_backend`` ends every connection of the app;
- from 10 s in, Redis is stopped for ``--redis-down`` seconds (30), then started again.

A probe GETs ``/healthz`` (database) and ``/readyz`` (Redis) every 0.2 s. For each fault it
prints the recovery time: from the fault until the probe answered again (worker kill: until
gunicorn had all its workers back and ``/healthz`` answered; Redis: from the restart until
``/readyz`` said "ready"). Then it checks the invariants itself in the database (responses ==
used codes, every confirmed submit stored, no duplicates, no partial responses, no drafts for
used codes) and exits 1 if one fails.

    .venv/bin/python bench/faults.py --quick
    .venv/bin/python bench/faults.py --seconds 60
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _server  # noqa: E402
from bench.load import Locust  # noqa: E402


class PrivateRedis:
    """redis-server on its own loopback port, no persistence; stopped and started by PID."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                import redis

                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except Exception:  # not up yet: any error means "try again"
                time.sleep(0.1)
        raise SystemExit("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Probe:
    """GET /healthz and /readyz every 0.2 s; keeps (time, healthz ok, readyz status)."""

    base: str
    samples: list[tuple[float, bool, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        web = requests.Session()
        while not self.stop.is_set():
            now = time.monotonic()
            healthy, status = False, "down"
            try:
                healthy = web.get(f"{self.base}/healthz", timeout=5).status_code == 200
                status = web.get(f"{self.base}/readyz", timeout=5).json().get("status", "?")
            except (requests.RequestException, ValueError):
                pass
            self.samples.append((now, healthy, status))
            self.stop.wait(0.2)

    def healthy_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first healthy probe that started after it."""
        for when, healthy, _status in self.samples:
            if when >= moment and healthy:
                return when - moment
        return None

    def ready_after(self, moment: float) -> float | None:
        for when, _healthy, status in self.samples:
            if when >= moment and status == "ready":
                return when - moment
        return None


def terminate_backends(admin_url: str, database: str) -> int:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
    return len(rows)


def workers_back(server: _server.Gunicorn, count: int, since: float, killed: int) -> float:
    """Seconds until gunicorn has ``count`` workers again, none of them the killed one."""
    deadline = since + 60
    while time.monotonic() < deadline:
        pids = server.workers()
        if len(pids) >= count and killed not in pids:
            return time.monotonic() - since
        time.sleep(0.05)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pg-admin-url", default=_server.DEFAULT_PG)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--codes", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-every", type=float, default=5)
    parser.add_argument("--redis-down", type=float, default=30)
    parser.add_argument("--quick", action="store_true",
                        help="about 20 s: 14 s of load, Redis down 4 s, a kill every 5 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.codes, args.seconds, args.redis_down = 8, 60, 14, 4
    redis_at = 10.0 if not args.quick else 4.0
    terminate_every = 15.0

    workdir = Path(tempfile.mkdtemp(prefix="mitra-faults-"))
    name = f"bench_faults_{os.getpid()}"
    database_url = _server.database_for(args.database, workdir, args.pg_admin_url, name)
    secret = _server.new_secret()
    redis_server = PrivateRedis(_server.free_port(), workdir)
    server = _server.Gunicorn(_server.app_config(database_url, secret, redis_server.url),
                              _server.free_port(), wait=False)
    events: list[tuple[str, float, float | None]] = []  # (fault, at, recovery seconds)
    try:
        seeded = _server.seed(database_url, secret, args.codes)
        server.wait_ready()
        print(f"faults.py: {args.database}, gunicorn 2 sync workers at {server.base}, private "
              f"Redis at 127.0.0.1:{redis_server.port}, {args.users} respondents, "
              f"{args.seconds:.0f} s")
        probe = Probe(server.base)
        probe_thread = threading.Thread(target=probe.run, daemon=True)
        probe_thread.start()
        load = Locust(server.base, ["Respondent"], args.users, args.seconds, seeded.codes,
                      workdir)
        start = time.monotonic()
        next_kill, next_terminate = args.kill_every, 3.0
        redis_stopped_at: float | None = None
        redis_done = False
        while load.process.poll() is None and time.monotonic() - start < args.seconds + 60:
            elapsed = time.monotonic() - start
            if elapsed >= args.seconds:
                break
            if elapsed >= next_kill:
                next_kill += args.kill_every
                at = time.monotonic()
                killed = server.kill_worker()
                if killed is not None:
                    back = workers_back(server, 2, at, killed)
                    healthy = probe.healthy_after(at + back) if back == back else None
                    events.append(("kill -9 worker", at - start,
                                   back + (healthy or 0) if back == back else None))
            if args.database == "postgres" and elapsed >= next_terminate:
                next_terminate += terminate_every
                at = time.monotonic()
                ended = terminate_backends(args.pg_admin_url, name)
                events.append((f"pg_terminate_backend ({ended} connections)", at - start,
                               None))
            if not redis_done and redis_stopped_at is None and elapsed >= redis_at:
                redis_server.stop()
                redis_stopped_at = time.monotonic()
                events.append(("Redis stopped", redis_stopped_at - start, None))
            if redis_stopped_at is not None and not redis_done and \
                    time.monotonic() - redis_stopped_at >= args.redis_down:
                redis_server.start()
                redis_done = True
                events.append(("Redis started again", time.monotonic() - start, None))
            time.sleep(0.05)
        if redis_stopped_at is not None and not redis_done:
            redis_server.start()
            redis_done = True
            events.append(("Redis started again", time.monotonic() - start, None))
        run = load.finish()
        time.sleep(1.5)  # let the probe see the last recoveries
        probe.stop.set()
        probe_thread.join(timeout=10)
    finally:
        server.stop()
        redis_server.stop()

    print(f"\n{'fault':<40} {'at s':>6} {'recovered in s':>15}")
    for label, at, recovery in events:
        if recovery is None and label.startswith("pg_terminate"):
            recovery = probe.healthy_after(start + at)
        if recovery is None and label.startswith("Redis started"):
            recovery = probe.ready_after(start + at)
        shown = "-" if recovery is None else f"{recovery:.2f}"
        if label == "Redis stopped":
            shown = "(app keeps serving: " + (
                "yes" if _healthy_while(probe, start + at, start + at + args.redis_down)
                else "NO") + ")"
        print(f"{label:<40} {at:>6.1f} {shown:>15}")
    failures = sum(stat["failures"] for key, stat in run.stats.items() if key != "Aggregated")
    requests_made = sum(stat["count"] for key, stat in run.stats.items() if key != "Aggregated")
    print(f"\nload: {requests_made:.0f} requests, {failures:.0f} failed (connections cut by the "
          f"kills), {len(run.results['confirmed'])} submits confirmed of "
          f"{len(run.results['attempted'])} attempted; load generator CPU "
          f"{run.cpu_seconds:.1f} s")
    invariants = _server.check_invariants(database_url, secret, seeded,
                                          set(run.results["confirmed"]))
    print(invariants.line())
    if args.database == "postgres":
        _server.drop_pg_database(args.pg_admin_url, name)
    return 0 if invariants.ok else 1


def _healthy_while(probe: Probe, begin: float, end: float) -> bool:
    """Whether /healthz answered during most of the Redis outage (kills aside)."""
    window = [healthy for when, healthy, _ in probe.samples if begin <= when <= end]
    return bool(window) and sum(window) >= 0.8 * len(window)


if __name__ == "__main__":
    raise SystemExit(main())
