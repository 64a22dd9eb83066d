"""Real-browser fixtures: the app served on a loopback port, driven by Debian's Chromium.

Playwright's Python package drives ``/usr/bin/chromium``; it never downloads a browser. The
deployment test also runs Debian's nginx and the ``openssl`` command. Under ``CI=true`` a
missing Chromium, nginx or openssl fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("MITRA_CHROMIUM", "/usr/bin/chromium")
NGINX = os.environ.get("MITRA_NGINX", "/usr/sbin/nginx")
OPENSSL = os.environ.get("MITRA_OPENSSL", "openssl")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def require_program(path: str, name: str) -> str:
    """The program's path; skip the test without it, or fail under ``CI=true``."""
    found = path if Path(path).exists() else shutil.which(path)
    if not found:
        message = f"{name} not found at {path} (make chromium installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def browser():
    require_program(CHROMIUM, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class LiveServer:
    def __init__(self, app, host: str = "127.0.0.1") -> None:
        self.app = app
        self.server = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_app(app_config):
    """An app with CSRF and rate limits on, as in production, on a fresh database."""
    from app import create_app
    from app.db import Base

    config = dict(app_config, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True)
    application = create_app(config)
    Base.metadata.create_all(application.extensions["mitra.engine"])
    yield application
    application.extensions["mitra.engine"].dispose()


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def nginx_program() -> str:
    return require_program(NGINX, "nginx")


@pytest.fixture(scope="session")
def openssl_program() -> str:
    return require_program(OPENSSL, "openssl")


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
