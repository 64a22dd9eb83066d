"""HTML to PDF on the server with WeasyPrint: no network, and each document rendered once.

A report is rendered from the same template the browser prints, so the PDF and the printed
page cannot drift apart. Two rules keep that safe and affordable:

* **No network.** WeasyPrint fetches every stylesheet and image an HTML document names.
  :class:`StaticOnlyFetcher` answers only for the app's own static files, read from disk,
  and for ``data:`` URIs (the charts, embedded in the page; decoding one opens nothing).
  Every other URL (another host, ``file:``, a path outside the static folder) is refused,
  so rendering never makes a request, whatever a partner or round name contains.
* **Render once.** A report takes seconds to lay out, so :func:`cached_pdf` keeps the bytes
  in an in-process LRU keyed by the caller's key (the published snapshot's identity plus
  the language). A new snapshot is a new key: a stale PDF is never served, and old ones age
  out. Concurrent requests for the same key wait for one rendering instead of each doing it.

Optional setting (``app.config``): ``REPORT_PDF_CACHE_SIZE`` (documents kept per worker
process, default 16).

PDFs are made by background jobs (:mod:`app.jobs.tasks`), never inside a request: laying out
a report takes seconds, and the file they make is the cache shared by every server.
"""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from flask import Flask, Response, current_app
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

from app.lru import BytesLRU

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "PdfCache",
    "RefusedURL",
    "StaticOnlyFetcher",
    "cached_pdf",
    "html_to_pdf",
    "pdf_cache",
    "pdf_response",
]

DEFAULT_CACHE_SIZE = 16
_EXTENSION = "mitra.pdf_cache"
_create_lock = threading.Lock()


class RefusedURL(ValueError):
    """A document named a URL the PDF renderer may not fetch."""


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint URL fetcher that reads the app's static files from disk and nothing else.

    ``base_url`` is the address the document was served from (e.g. ``http://host/``): a
    static URL must be on that same scheme and host, under ``static_url_path``. ``data:``
    URIs are decoded in memory.
    """

    def __init__(self, *, static_folder: str | Path, static_url_path: str, base_url: str
                 ) -> None:
        super().__init__(allowed_protocols=(), fail_on_errors=False)
        if not static_url_path.startswith("/"):
            raise ValueError(f"static_url_path must start with '/', got {static_url_path!r}")
        base = urlsplit(base_url)
        if base.scheme not in {"http", "https"} or not base.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.static_folder = str(static_folder)
        self.prefix = static_url_path.rstrip("/") + "/"
        self.origin = (base.scheme, base.netloc)

    @classmethod
    def for_app(cls, app: Flask, base_url: str, static_url_path: str | None = None
                ) -> StaticOnlyFetcher:
        """The fetcher for ``app``; ``static_url_path`` is where the page links its static
        files (``url_for("static", filename="")``, which includes any script-name prefix)."""
        if app.static_folder is None or app.static_url_path is None:
            raise ValueError("the app has no static folder to read report styles from")
        return cls(static_folder=app.static_folder,
                   static_url_path=static_url_path or app.static_url_path, base_url=base_url)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            # urllib's data: handler only decodes the string; it has no way to the network
            data = DataHandler().data_open(Request(url))
            return URLFetcherResponse(url, data.read(), dict(data.headers.items()))
        path = self.static_path(url)
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": content_type})

    def static_path(self, url: str) -> str:
        """The file on disk for one of the app's static URLs, or :class:`RefusedURL`."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self.origin or not parts.path.startswith(self.prefix):
            raise RefusedURL(f"the PDF renderer reads only this app's static files, not {url!r}")
        path = safe_join(self.static_folder, unquote(parts.path[len(self.prefix):]))
        if path is None or not Path(path).is_file():
            raise RefusedURL(f"no static file at {url!r}")
        return path


def html_to_pdf(html: str, *, base_url: str, fetcher: URLFetcher) -> bytes:
    """Lay out ``html`` for print (``@media print``, ``@page``) and return the PDF bytes."""
    if not isinstance(html, str) or not html.strip():
        raise ValueError("html must be a non-empty str")
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher,
                media_type="print").write_pdf()


class PdfCache(BytesLRU):
    """A thread-safe LRU of PDF bytes with single-flight rendering per key."""

    def __init__(self, maxsize: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(maxsize, setting="REPORT_PDF_CACHE_SIZE")
        self._rendering: dict[str, threading.Lock] = {}

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        """The cached bytes, else ``render()``'s, rendering at most once at a time per key."""
        cached = self.get(key)
        if cached is not None:
            return cached
        with self._lock:
            key_lock = self._rendering.setdefault(key, threading.Lock())
        with key_lock:
            cached = self.get(key)  # another request may have rendered it meanwhile
            if cached is not None:
                return cached
            try:
                pdf = render()
                if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF"):
                    raise TypeError("render() must return the bytes of a PDF document")
                self.set(key, pdf)
                return pdf
            finally:
                with self._lock:
                    self._rendering.pop(key, None)



def pdf_cache(app: Flask | None = None) -> PdfCache:
    """Return the app's PDF cache, created on first use from its config."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        with _create_lock:
            cache = app.extensions.get(_EXTENSION)
            if cache is None:
                cache = PdfCache(app.config.get("REPORT_PDF_CACHE_SIZE", DEFAULT_CACHE_SIZE))
                app.extensions[_EXTENSION] = cache
    return cache


def cached_pdf(key: str, html: Callable[[], str], *, base_url: str,
               static_url_path: str | None = None) -> bytes:
    """The PDF of the document ``html()`` renders, from the cache or rendered now.

    ``key`` must name everything the document shows (snapshot, language, names), because
    the HTML is built only on a miss. Static files are read through :class:`StaticOnlyFetcher`.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("key must be a non-empty str naming the document")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    fetcher = StaticOnlyFetcher.for_app(app, base_url, static_url_path)
    return pdf_cache(app).get_or_render(
        key, lambda: html_to_pdf(html(), base_url=base_url, fetcher=fetcher))


def pdf_response(pdf: bytes, filename: str) -> Response:
    """Send PDF bytes as a download under a name the server chose."""
    if not isinstance(pdf, bytes) or not pdf.startswith(b"%PDF"):
        raise TypeError("pdf must be the bytes of a PDF document")
    if not filename.endswith(".pdf") or any(ch in filename for ch in '"\\/\r\n'):
        raise ValueError(f"filename must be a plain name ending in .pdf, got {filename!r}")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

