"""Tests for app.charts: Figure -> SVG bytes -> HTTP response, and the SVG cache.

The Redis tests use the real server at ``redis://127.0.0.1:6379/15`` (override with
``MITRA_TEST_REDIS_URL``); they skip with the reason when it is unreachable, and fail under
``CI=true`` so a broken CI service cannot pass silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import pytest
from flask import Flask
from matplotlib.figure import Figure

from analysis.charts import chart_alt_text, heatmap_chart, partner_scores_chart
from app.charts import (
    CACHE_PREFIX,
    MemoryChartCache,
    RedisChartCache,
    cached_svg,
    chart_cache,
    chart_cache_key,
    figure_to_svg,
    svg_response,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
REDIS_URL = os.environ.get("MITRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROWS = [
    {"label": "Dinas <Kesehatan> & Co", "mean": 3.92, "ci_low": 3.55, "ci_high": 4.21, "n": 14},
    {"label": "Puskesmas", "suppressed": True},
]


def build_scores() -> Figure:
    return partner_scores_chart(ROWS, scale_min=1, scale_max=5,
                                labels={"suppressed": "kurang dari 5 jawaban"})


class CountingBuilder:
    """A chart builder that counts how often the cache had to draw."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Figure:
        self.calls += 1
        return build_scores()


# ----------------------------------------------------------------------------- SVG


def test_figure_to_svg_is_valid_svg_with_title_desc_and_real_text():
    description = chart_alt_text("partner_scores", ROWS, scale_min=1, scale_max=5)
    svg = figure_to_svg(build_scores(), title="Skor <mitra> & kemitraan",
                        description=description)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg" and root.get("role") == "img"
    assert root.find(f"{SVG_NS}title").text == "Skor <mitra> & kemitraan"
    assert root.find(f"{SVG_NS}desc").text == description
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]
    assert "Dinas <Kesehatan> & Co" in texts and "3.9" in texts  # text, not glyph outlines
    assert "kurang dari 5 jawaban" in texts
    assert b"DejaVuSans-" not in svg  # no embedded glyph paths: svg.fonttype = 'none'
    assert not re.search(rb"\bnan\b", svg, flags=re.IGNORECASE)
    assert b"<dc:date>" not in svg  # no timestamp


def test_figure_to_svg_is_byte_identical_for_the_same_data():
    first = figure_to_svg(build_scores(), title="t", description="d")
    second = figure_to_svg(build_scores(), title="t", description="d")
    assert first == second
    other = figure_to_svg(
        partner_scores_chart([{**ROWS[0], "mean": 3.81}], scale_min=1, scale_max=5),
        title="t", description="d")
    assert other != first


def test_figure_to_svg_without_description_has_no_desc():
    root = ET.fromstring(figure_to_svg(build_scores(), title="t", description=""))
    assert root.find(f"{SVG_NS}desc") is None


@pytest.mark.parametrize(
    ("fig", "title", "description", "error"),
    [
        ("not a figure", "t", "d", TypeError),
        (None, "t", "d", TypeError),
        ("figure", "  ", "d", ValueError),
        ("figure", "t", None, TypeError),
    ],
)
def test_figure_to_svg_rejects_bad_arguments(fig, title, description, error):
    figure = build_scores() if fig == "figure" else fig
    with pytest.raises(error):
        figure_to_svg(figure, title=title, description=description)


def test_svg_writing_needs_no_pyplot():
    code = ("import sys\n"
            "from app.charts import figure_to_svg\n"
            "from analysis.charts import heatmap_chart\n"
            "fig = heatmap_chart([[3.0]], row_labels=['a'], col_labels=['b'], scale_min=1,\n"
            "                    scale_max=5, suppressed_label='x')\n"
            "figure_to_svg(fig, title='t', description='')\n"
            "print('matplotlib.pyplot' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_concurrent_charts_leave_global_settings_alone_and_match_serial_output():
    before = dict(matplotlib.rcParams)
    serial = figure_to_svg(build_scores(), title="t", description="d")
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(
            lambda _: figure_to_svg(build_scores(), title="t", description="d"), range(8)))
    assert all(out == serial for out in outputs)
    assert dict(matplotlib.rcParams) == before


# ----------------------------------------------------------------------------- response


def test_svg_response_headers_and_conditional_get(app: Flask):
    svg = figure_to_svg(build_scores(), title="t", description="d")
    other = figure_to_svg(build_scores(), title="another title", description="d")
    app.add_url_rule("/test-chart.svg", "test_chart", lambda: svg_response(svg))
    app.add_url_rule("/test-other.svg", "test_other", lambda: svg_response(other))
    client = app.test_client()
    response = client.get("/test-chart.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data() == svg
    assert response.cache_control.private is True
    assert response.cache_control.max_age == 300
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag, weak = response.get_etag()
    assert etag and not weak
    again = client.get("/test-chart.svg", headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.get_data() == b""
    changed = client.get("/test-other.svg", headers={"If-None-Match": f'"{etag}"'})
    assert changed.status_code == 200 and changed.get_etag()[0] != etag


def test_svg_response_max_age_from_config_and_argument(app: Flask):
    app.config["CHART_MAX_AGE"] = 60
    with app.test_request_context("/"):
        assert svg_response(b"<svg/>").cache_control.max_age == 60
        assert svg_response(b"<svg/>", max_age=5).cache_control.max_age == 5
        with pytest.raises(ValueError, match="max_age"):
            svg_response(b"<svg/>", max_age=-1)
        with pytest.raises(TypeError, match="bytes"):
            svg_response("<svg/>")


# ----------------------------------------------------------------------------- memory cache


def test_cache_returns_cached_bytes_without_calling_the_builder_again(app: Flask):
    build = CountingBuilder()
    with app.app_context():
        assert isinstance(chart_cache(), MemoryChartCache)
        key = (7, "v1", "partner_scores", "id", ())
        first = cached_svg(key, build, title="t", description="d")
        second = cached_svg(key, build, title="t", description="d")
    assert build.calls == 1
    assert first == second and first.startswith(b"<?xml")


def test_new_results_version_language_or_text_rebuilds(app: Flask):
    build = CountingBuilder()
    with app.app_context():
        cached_svg((7, "v1", "scores", "id"), build, title="t", description="d")
        cached_svg((7, "v2", "scores", "id"), build, title="t", description="d")
        assert build.calls == 2
        cached_svg((7, "v2", "scores", "en"), build, title="t", description="d")
        assert build.calls == 3
        svg = cached_svg((7, "v2", "scores", "en"), build, title="t", description="other")
        assert build.calls == 4 and b"<desc>other</desc>" in svg
        cached_svg((7, "v1", "scores", "id"), build, title="t", description="d")
        assert build.calls == 4  # the old version is still cached, just never asked for


def test_memory_cache_is_bounded_lru(app: Flask):
    app.config["CHART_CACHE_SIZE"] = 2
    build = CountingBuilder()
    with app.app_context():
        for version in ("a", "b", "a", "c", "a", "b"):
            cached_svg((1, version), build, title="t", description="d")
        assert len(chart_cache()) == 2
    # a, b built; a hit; c built (evicts b); a hit; b built again
    assert build.calls == 4


def test_cache_keys_are_stable_text_and_reject_unstable_parts():
    key = chart_cache_key((7, "v1", "heatmap", "id", {"sector": ["ngo", "gov"]}),
                          title="t", description="d")
    assert key.startswith(CACHE_PREFIX) and len(key) == len(CACHE_PREFIX) + 64
    same = chart_cache_key((7, "v1", "heatmap", "id", {"sector": ["ngo", "gov"]}),
                           title="t", description="d")
    assert key == same
    with pytest.raises(TypeError, match="key may hold only"):
        chart_cache_key((7, object()), title="t", description="d")
    with pytest.raises(TypeError, match="non-empty tuple"):
        chart_cache_key([7, "v1"], title="t", description="d")


def test_cached_svg_rejects_builders_that_do_not_return_a_figure(app: Flask):
    with app.app_context():
        with pytest.raises(TypeError, match="Figure"):
            cached_svg((1,), lambda: "svg", title="t", description="d")
        with pytest.raises(TypeError, match="callable"):
            cached_svg((1,), None, title="t", description="d")
        with pytest.raises(ValueError, match="title"):
            cached_svg((1,), build_scores, title="", description="d")


# ----------------------------------------------------------------------------- Redis


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError) as error:
        message = f"Redis at {REDIS_URL} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def redis_apps(app_config) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances on one Redis, like two app servers behind a load balancer."""
    _redis_or_skip()
    from app import create_app

    config = {**app_config, "REDIS_URL": REDIS_URL, "CHART_CACHE_TTL": 30}
    first, second = create_app(config), create_app(config)
    yield first, second
    for application in (first, second):
        application.extensions["mitra.engine"].dispose()


def test_redis_cache_is_shared_between_app_servers_and_expires(redis_apps):
    first, second = redis_apps
    build = CountingBuilder()
    version = uuid.uuid4().hex  # a key no other run has used
    key = (7, version, "partner_scores", "id")
    storage_key = chart_cache_key(key, title="t", description="d")
    try:
        with first.app_context():
            cache = chart_cache()
            assert isinstance(cache, RedisChartCache)
            svg = cached_svg(key, build, title="t", description="d")
            ttl = cache.client.ttl(storage_key)
            assert 0 < ttl <= 30
            assert cache.client.get(storage_key) == svg
        with second.app_context():
            assert cached_svg(key, build, title="t", description="d") == svg
        assert build.calls == 1
        with second.app_context():
            new_key = (7, version + "-next", "partner_scores", "id")
            cached_svg(new_key, build, title="t", description="d")
        assert build.calls == 2
    finally:
        with first.app_context():
            chart_cache().client.delete(
                storage_key,
                chart_cache_key((7, version + "-next", "partner_scores", "id"), title="t",
                                description="d"),
            )


def test_redis_outage_still_serves_charts(app_config):
    from app import create_app

    application = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    build = CountingBuilder()
    try:
        with application.app_context():
            svg = cached_svg((1, "v"), build, title="t", description="d")
            assert svg.startswith(b"<?xml") and build.calls == 1
    finally:
        application.extensions["mitra.engine"].dispose()


def test_heatmap_through_the_cache_keeps_suppressed_cells_hidden(app: Flask):
    def build() -> Figure:
        return heatmap_chart([[4.2, None]], row_labels=["A"], col_labels=["x", "y"],
                             scale_min=1, scale_max=5, suppressed_label="hidden")

    with app.app_context():
        svg = cached_svg((3, "v1", "heatmap"), build, title="t", description="d")
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert "4.2" in texts and "hidden" in texts
