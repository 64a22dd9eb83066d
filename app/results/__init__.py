"""The presentation layer: from a published snapshot to what people see.

Results are shown on the results pages, in the printable report and its PDF, through the
JSON API and in the downloads, and next in the workshop slides and the one-page summary.
Every one of them reads the snapshot dictionaries of :mod:`app.services.results` (computed
and anonymity-checked once, in :mod:`analysis.results`) and turns them into text, tables and
charts *here*, so a figure reads the same wherever it appears. Each module owns one rule:

- :mod:`app.results.numbers`: the one number formatter (Babel, the reader's locale) with the
  one rounding rule, half up (:func:`analysis.language.round_half_up`, also used by the
  sentences and the charts): 3.25 reads "3,3" in a sentence, a chart and a table.
- :mod:`app.results.words`: what a figure is called (chart words, "fewer than k
  responses", a snapshot's ``{"id", "en"}`` texts, test and effect-size names).
- :mod:`app.results.bands`: a dimension's score bands and their tone.
- :mod:`app.results.rounds`: the order of rounds.
- :mod:`app.results.snapshots`: whether a round has results, and its published snapshot.
- :mod:`app.results.context`: what a reader narrowed a view to (:class:`Filters`) and the
  snapshot as one reader sees it (:class:`RoundView`, :class:`OverTimeView`).
- :mod:`app.results.charts`: chart specifications (what to draw, its title and text
  alternative), served as SVG by the pages and embedded by the report.
- :mod:`app.results.panels`: the display-ready panels (tables, sentences, charts, prompts,
  open answers above the comment threshold) that the page and report templates print with
  the one macro library ``templates/results/_macros.html``.
- :mod:`app.results.templating`: what those templates print with (the formatter, the
  notice, dates), the same for every consumer.

A consumer (a view, the report service, a future slide deck) loads a snapshot, builds a
view, asks for panels and renders them; it formats and words nothing itself. Nothing here
reads the request: callers pass the language, the filters and, for pages, how to make a
chart's URL. The modules import :mod:`app.services.results` only where they must, and this
package imports none of them eagerly, so the service may use :mod:`app.results.rounds`.
"""
