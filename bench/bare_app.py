"""The product app plus a bare Flask + Jinja page, for the load benchmarks only.

``gunicorn -c gunicorn.conf.py bench.bare_app:app`` serves the whole product unchanged and,
under ``/_bench/bare``, a minimal Flask app rendering a 10-question form (about 4 kB, like the
page of perf-limits.md): no database, no session, no CSRF, no Babel. Respondent pages are
measured as a ratio to this page served by the same gunicorn in the same run, which cancels
most of the noise of the shared machine. The bare page never exists in the product itself.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from jinja2 import DictLoader
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from wsgi import app as product

PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{{ title }}</h1>
{% if saved %}<p role="status">{{ saved }} answers saved.</p>{% endif %}
<form method="post" action="/_bench/bare">
{% for item in items %}
<fieldset><legend>{{ loop.index }}. {{ item }}</legend>
{% for value, label in scale %}
<label><input type="radio" name="q{{ loop.index0 }}_{{ item|length }}" value="{{ value }}"
 {% if chosen.get(item) == value %}checked{% endif %}> {{ label }}</label>
{% endfor %}</fieldset>
{% endfor %}
<button type="submit" name="action" value="next">Berikutnya</button>
</form></main></body></html>
"""
ITEMS = [f"Pernyataan nomor {index} tentang kemitraan dan cara kita bekerja bersama"
         for index in range(1, 11)]
SCALE = [(1, "Sangat tidak setuju"), (2, "Tidak setuju"), (3, "Netral"), (4, "Setuju"),
         (5, "Sangat setuju")]

bare = Flask("bench_bare")
# A named template, compiled once and cached like the product's (render_template_string would
# compile it on every request and make the yardstick slower than it is).
bare.jinja_loader = DictLoader({"page.html": PAGE})


@bare.route("/bare", methods=["GET", "POST"])
def bare_page():
    saved = len([key for key in request.form if key.startswith("q")]) if request.form else 0
    return render_template("page.html", title="Halaman uji", items=ITEMS, scale=SCALE,
                                  chosen={}, saved=saved)


app = DispatcherMiddleware(product, {"/_bench": bare})
