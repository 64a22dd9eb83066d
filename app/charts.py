"""The one place a chart Figure becomes SVG bytes and an HTTP response, with an SVG cache.

Charts are drawn by :mod:`analysis.charts` (pure, no Flask). Here a Figure is written as
SVG with selectable text (``svg.fonttype = 'none'``), a fixed ``svg.hashsalt`` and no date,
so the same data always gives byte-identical SVG (stable ETags, cacheable anywhere). Drawing
costs 0.1-0.3 s per chart (perf-limits.md section 6), so :func:`cached_svg` keeps the bytes
per (round, results version, chart, language, filters): in process by default, in Redis when
``REDIS_URL`` is set. A new results version is a new key, so stale charts are never served and
old entries simply age out (LRU in memory, a TTL in Redis).

Optional settings (``app.config``): ``CHART_CACHE_SIZE`` (entries kept in process, default
256), ``CHART_CACHE_TTL`` (seconds in Redis, default 600), ``CHART_MAX_AGE`` (browser
``max-age`` in seconds, default 300).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol
from xml.sax.saxutils import escape

import matplotlib
from flask import Flask, Response, current_app, has_request_context, request
from matplotlib.figure import Figure

from analysis.charts import matplotlib_lock
from app.lru import BytesLRU

__all__ = [
    "CACHE_PREFIX",
    "MemoryChartCache",
    "RedisChartCache",
    "cached_svg",
    "chart_cache",
    "chart_cache_key",
    "figure_to_svg",
    "svg_response",
]

log = logging.getLogger(__name__)

CACHE_PREFIX = "mitra:chart:"
SVG_HASHSALT = "mitra-sehat-charts"  # fixed, so clip-path and hatch ids repeat byte for byte
DEFAULT_CACHE_SIZE = 256
DEFAULT_CACHE_TTL = 600
DEFAULT_MAX_AGE = 300
_EXTENSION = "mitra.chart_cache"
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": SVG_HASHSALT, "svg.image_inline": True}
_create_lock = threading.Lock()
SVG_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _check_text(title: Any, description: Any) -> None:
    if not isinstance(title, str) or not title.strip():
        raise ValueError("title must be a non-empty str: it names the chart for screen readers")
    if not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")


def figure_to_svg(fig: Figure, *, title: str, description: str) -> bytes:
    """Write ``fig`` as deterministic SVG with a ``<title>`` and ``<desc>`` for screen readers."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    _check_text(title, description)
    buffer = io.BytesIO()
    metadata = {"Title": title, "Description": description, "Date": None}
    # The SVG canvas is chosen by format=; pyplot is never involved. rc_context swaps the
    # global rcParams for a moment, so it runs under the lock the chart builders share.
    with matplotlib_lock, matplotlib.rc_context(_SVG_RC):
        fig.savefig(buffer, format="svg", metadata=metadata)
    return _add_accessible_text(buffer.getvalue(), description)


def _add_accessible_text(svg: bytes, description: str) -> bytes:
    """Matplotlib writes ``<title>`` but keeps the description only in RDF; add ``<desc>``."""
    text = svg.decode("utf-8")
    root = text.find("<svg ")
    close = text.find("</title>", root)
    if root < 0 or close < 0:  # pragma: no cover - matplotlib always writes both
        raise RuntimeError("matplotlib's SVG lacks a root element or a <title>")
    text = text[:root] + '<svg role="img" ' + text[root + len("<svg ") :]
    if description:
        close = text.find("</title>", root) + len("</title>")
        text = f"{text[:close]}\n <desc>{escape(description)}</desc>{text[close:]}"
    return text.encode("utf-8")


def svg_response(svg_bytes: bytes, *, max_age: int | None = None) -> Response:
    """Serve SVG bytes privately cacheable, with a strong ETag and 304 on a matching request."""
    if not isinstance(svg_bytes, bytes | bytearray):
        raise TypeError(f"svg_bytes must be bytes, got {type(svg_bytes).__name__}")
    if max_age is None:
        max_age = current_app.config["CHART_MAX_AGE"]
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
        raise ValueError(f"max_age must be a whole number of seconds >= 0, got {max_age!r}")
    response = Response(bytes(svg_bytes), mimetype="image/svg+xml")
    # Opened on its own (not as an <img>), the SVG is a document under its own response's
    # policy. Matplotlib colours every shape with inline style attributes and a <style>
    # element, which the site-wide policy (style-src 'self') blocks: the chart then shows as
    # a black box. This policy allows inline styles and nothing else: no script runs in a
    # sandboxed document, and nothing is loaded from anywhere.
    response.headers["Content-Security-Policy"] = SVG_CONTENT_SECURITY_POLICY
    response.set_etag(hashlib.sha256(svg_bytes).hexdigest()[:32])
    # results are not public: only the signed-in browser may keep a copy
    response.cache_control.private = True
    response.cache_control.max_age = max_age
    if has_request_context():
        response.make_conditional(request)
    return response


class ChartCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class MemoryChartCache(BytesLRU):
    """A thread-safe LRU of SVG bytes, one per worker process."""

    def __init__(self, maxsize: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(maxsize, setting="CHART_CACHE_SIZE")


class RedisChartCache:
    """SVG bytes in Redis, shared by every app server, each kept for ``ttl`` seconds."""

    def __init__(self, url: str, ttl: int = DEFAULT_CACHE_TTL) -> None:
        import redis  # only needed when REDIS_URL is set

        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
            raise ValueError(f"CHART_CACHE_TTL must be a whole number of seconds >= 1, got {ttl!r}")
        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(key)
        except self._errors as error:  # a cache outage must not take the charts down
            log.warning("chart cache: Redis read failed, drawing instead: %s", error)
            return None

    def set(self, key: str, value: bytes) -> None:
        try:
            self.client.set(key, value, ex=self.ttl)
        except self._errors as error:
            log.warning("chart cache: Redis write failed: %s", error)


def chart_cache(app: Flask | None = None) -> ChartCache:
    """Return the app's chart cache, created on first use from its config."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        with _create_lock:
            cache = app.extensions.get(_EXTENSION)
            if cache is None:
                url = app.config.get("REDIS_URL")
                if url:
                    ttl = app.config["CHART_CACHE_TTL"]
                    cache = RedisChartCache(url, ttl)
                else:
                    cache = MemoryChartCache(
                        app.config["CHART_CACHE_SIZE"])
                app.extensions[_EXTENSION] = cache
    return cache


def _plain(value: Any, where: str) -> Any:
    """Key parts must print the same in every process (no object reprs with addresses)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return repr(value)  # NaN and inf are fine here; JSON would reject them
    if isinstance(value, tuple | list):
        return [_plain(v, where) for v in value]
    if isinstance(value, frozenset | set):
        return sorted((_plain(v, where) for v in value), key=repr)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return {str(k): _plain(v, where) for k, v in items}
    raise TypeError(f"{where} may hold only str, int, float, bool, None, tuples, lists, sets "
                    f"and dicts of them, got {type(value).__name__}")


def chart_cache_key(key: tuple, *, title: str, description: str) -> str:
    """The storage key: a hash of the caller's key plus the title and text alternative.

    Hashing in the title and description means a chart is never served with another
    language's or another data set's text, even if a caller's key forgets a filter.
    """
    if not isinstance(key, tuple) or not key:
        raise TypeError("key must be a non-empty tuple, e.g. (round_id, results_version, ...)")
    payload = json.dumps([_plain(key, "key"), title, description], ensure_ascii=False,
                         separators=(",", ":"))
    return CACHE_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def cached_svg(
    key: tuple, build: Callable[[], Figure], *, title: str, description: str
) -> bytes:
    """Return the chart's SVG from the cache, drawing it with ``build()`` only on a miss.

    ``key`` should name everything the picture depends on, e.g. ``(round_id,
    results_version, "heatmap", language, filters)``.
    """
    if not callable(build):
        raise TypeError("build must be a callable returning a matplotlib Figure")
    _check_text(title, description)
    storage_key = chart_cache_key(key, title=title, description=description)
    cache = chart_cache()
    svg = cache.get(storage_key)
    if svg is not None:
        return svg
    fig = build()
    if not isinstance(fig, Figure):
        raise TypeError(f"build() must return a matplotlib Figure, got {type(fig).__name__}")
    svg = figure_to_svg(fig, title=title, description=description)
    cache.set(storage_key, svg)
    return svg
